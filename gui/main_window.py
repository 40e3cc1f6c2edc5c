"""The explorer window: problem and solver settings on the left, images (with the history
scrubber) and plots in the middle, the convergence certificate on the right.

A composition: the Qt-free :class:`ExplorerState` (one owner; the panels bind to its events, the
parameter panel writes through :meth:`ExplorerState.edit`), the :class:`RunController` (given the
views it feeds), the panels, :class:`WindowFiles` (``window.files``: open, sessions, export,
drops) and the layout (:mod:`gui.window_layout`). Anything a user can get wrong ends in
:meth:`MainWindow.show_error` with one line, and the window keeps its previous problem and state.
Closing the window waits for the run to end. Nothing throws an unsaved run away unasked
(:meth:`WindowFiles.confirm_discard`): loading another problem, changing the variants, Reset of a
run of :data:`RESET_ASKS_FROM` iterations or more, and quitting.
"""

from __future__ import annotations

import sys
from functools import partial
from pathlib import Path

from PySide6.QtCore import Signal, Slot
from PySide6.QtGui import QCloseEvent, QDragEnterEvent, QDragMoveEvent, QDropEvent
from PySide6.QtWidgets import QDialog, QMainWindow, QMessageBox, QWidget

from core import InputError, Parameters, TaskSetup
from core.errors import one_line
from core.memory import MemoryShortfall

from . import settings
from .actions import install_actions
from .busy import wait_cursor
from .dialogs.file_dialogs import FileDialogs
from .dialogs.help_dialogs import HelpDialog, HelpWindows
from .dialogs.memory_dialog import MemoryDialog
from .dialogs.preferences import PreferencesDialog
from .run.controller import RunController
from .run.solver_run import STOP_TIMEOUT_S, detached_runs
from .run_checks import RunChecks
from .state import ExplorerState
from .state.prior_choices import default_prior_key
from .state.problem_spec import ProblemSpec
from .study import StudyLink, StudyWindow
from .views.certificate_panel import CertificatePanel
from .views.history_bar import HistoryBar
from .views.images import ImagePanel
from .views.parameters import ParameterPanel
from .views.plots import PlotPanel
from .views.problem_panel import ProblemPanel
from .views.scrubber import Scrubber
from .views.solver_panel import SolverPanel
from .views.status import StatusPanel
from .views.style import variant_label
from .window_files import WindowFiles
from .window_layout import lay_out

APP_TITLE = "FIMA Explorer"
RESET_ASKS_FROM = 20  # Reset (R) asks first from this many unsaved iterations: fewer are cheap


class MainWindow(QMainWindow):
    """FIMA Explorer's main window."""

    errorRaised = Signal(str)  # an error was reported to the user

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(APP_TITLE)
        self.setAcceptDrops(True)
        self.scripted = False  # errors go to stderr instead of dialogs
        self.last_error: str | None = None
        self.state = ExplorerState(settings.budget_mb() * 2**20)
        self.help_windows = HelpWindows(self)
        self.studies = StudyLink(self)

        self.problem_panel = ProblemPanel()
        self.solver_panel = SolverPanel()
        self.parameter_panel = ParameterPanel(self.state)
        self.images = ImagePanel()
        self.plots = PlotPanel()
        self.history_bar = HistoryBar()
        self.certificate_panel = CertificatePanel()
        self.scrubber = Scrubber(self.images, self.plots, self.history_bar, self.state.progress)
        side = (self.problem_panel, self.solver_panel, self.parameter_panel)
        parts = (self.images, self.history_bar, self.plots, self.certificate_panel)
        self.layout_parts = lay_out(self, side, *parts)
        self.views_splitter = self.layout_parts.views_splitter
        self.certificate_dock = self.layout_parts.certificate_dock
        self.actions = install_actions(self)
        self.actions.view_menu.addAction(self.certificate_dock.toggleViewAction())
        self.dialogs = FileDialogs(self, self.actions.recent_menu)
        self.status = StatusPanel(self.statusBar())
        for view in (self.plots, self.images, self.certificate_panel):
            view.bind_run(self.state.progress)
        self.status.bind(self.state)
        self.solver_panel.bind(self.state)
        self.runner = RunController(self.state, self.run_fits, self.plots.cpu_seconds, self)
        self.files = WindowFiles(self)
        self.checks = RunChecks(self)
        self._connect()
        self.dialogs.update_recent_menu()
        self.runner.update_status()
        settings.restore_layout(self, self.layout_parts.splitters())
        self.images.set_colormap(settings.colormap())

    # ---- layout and wiring ----------------------------------------------------------------
    def _connect(self) -> None:
        a, f, r = self.actions, self.dialogs, self.runner
        for action, kind in a.pickers().items():
            action.triggered.connect(partial(f.choose, kind))
        f.chosen.connect(self.files.use_path)
        a.use_sample.triggered.connect(self.use_sample)
        a.open_study.triggered.connect(self.studies.open_study)
        a.new_study.triggered.connect(self.studies.new_study)
        self.studies.cellOpened.connect(self.open_study_cell)
        a.export_run.triggered.connect(self.files.open_export_dialog)
        a.quit.triggered.connect(self.close)
        a.run_pause.triggered.connect(r.toggle_run)
        a.step.triggered.connect(r.step_run)
        a.reset.triggered.connect(self.reset_run)
        a.history_back.triggered.connect(r.history_back)
        a.history_forward.triggered.connect(r.history_forward)
        a.preferences.triggered.connect(self.open_preferences)
        a.about_guarantee.triggered.connect(self.show_about_guarantee)
        a.shortcuts.triggered.connect(self.show_shortcuts)
        a.follow(self.state)
        r.failed.connect(self.show_error)
        self.certificate_panel.aboutRequested.connect(self.show_about_guarantee)
        p = self.problem_panel
        p.taskChosen.connect(self.set_task)
        p.openRequested.connect(partial(f.choose, "image"))
        p.sampleRequested.connect(self.use_sample)
        p.fileOptionRequested.connect(f.choose)
        p.invalidEntry.connect(self._refuse)
        p.optionEdited.connect(self.set_option)
        p.recent_button.setMenu(a.recent_menu)
        s = self.solver_panel
        s.moduleChosen.connect(self.set_module)
        s.torchscriptRequested.connect(partial(f.choose, "module"))
        s.priorChosen.connect(self.set_prior)
        s.deviceChosen.connect(self.set_device)
        s.variantsChanged.connect(self._on_variants_changed)
        s.runsRefused.connect(self.show_error)
        s.liveTargetChosen.connect(self._on_live_target)
        self.parameter_panel.changed.connect(r.announce_edit)
        self.parameter_panel.refused.connect(self.show_error)
        self.parameter_panel.message.connect(self.status.message)
        for view in (p, s, self.certificate_panel, self.images, self.plots):
            self.state.events.problem.connect(view.show_problem)

    # ---- the state, as the window shows it --------------------------------------------------
    @property
    def spec(self) -> ProblemSpec | None:
        """The problem as the user chose it (the state's)."""
        return self.state.spec

    @property
    def setup(self) -> TaskSetup | None:
        """The problem as built (the state's)."""
        return self.state.setup

    # ---- errors ---------------------------------------------------------------------------
    def show_error(self, message: str) -> None:
        """Report a problem in one line: a dialog (or stderr when scripted); state is kept."""
        message = (message.strip().splitlines() or ["unknown error"])[0]
        self.last_error = message
        self.status.message(message, 10000)
        if self.scripted:
            print(f"fima-explorer: error: {message}", file=sys.stderr)
        else:
            self.error_dialog(message)
        self.errorRaised.emit(message)

    def error_dialog(self, message: str) -> None:
        """The modal error box (a separate method so tests can replace it)."""
        QMessageBox.critical(self, APP_TITLE, message)

    def memory_dialog(self, shortfall: MemoryShortfall) -> str:
        """Ask what to do with a problem too large for memory: ``downscale``, ``anyway`` or
        ``cancel`` (a separate method so tests can replace it)."""
        dialog = MemoryDialog(shortfall, self)
        dialog.exec()
        return dialog.choice()

    # ---- the problem ----------------------------------------------------------------------
    def load_problem(
        self,
        spec: ProblemSpec,
        parameters: Parameters | None = None,
        scheduled: dict[int, dict[str, float]] | None = None,
        defaults: bool = False,
        ask: bool = True,
    ) -> bool:
        """Build ``spec`` and make it the current problem; on failure keep the old one.

        ``parameters``: the run's start (None: the task's defaults for this problem when
        ``defaults`` or the task changed, else the current ones). An unsaved run is discarded
        only when the user agrees (unless not ``ask``). A problem too large for free memory is
        offered downscaled (:meth:`memory_dialog`); cancelling keeps the old one."""
        if ask and not self.files.confirm_discard("Loading another problem"):
            self._show_problem()
            return False
        try:
            with wait_cursor():
                setup = spec.build()
        except (InputError, ValueError, OSError) as exc:
            self._refuse(str(exc))
            return False
        except Exception as exc:  # a broken module file can raise anything while loading
            self._refuse(f"Could not set up the problem: {one_line(exc)}")
            return False
        answer = self.checks.fits(setup, spec, self.solver_panel.variants(), "Not loaded")
        if isinstance(answer, ProblemSpec):
            del setup  # the rebuild may need the memory
            return self.load_problem(answer, parameters, scheduled, defaults, ask=False)
        if not answer:
            self._show_problem()
            return False
        self.runner.stop()
        if parameters is None and defaults:
            parameters = setup.parameters
        self.state.set_problem(spec, setup, parameters, scheduled)  # the panels follow
        self.show_variants(self.solver_panel.variants())
        self.runner.clear_views()
        self.status.show_device(str(setup.settings.get("device", setup.problem.device)))
        if spec.image:
            self.dialogs.remember(spec.image)
        name = Path(spec.image).name if spec.image else "sample"
        self.setWindowTitle(f"{APP_TITLE} — {setup.settings['task']} — {name}")
        self.runner.update_status()
        return True

    def run_fits(self, variants: int) -> bool:
        """Check memory and speed again before a run: more variants may be ticked than when it
        was loaded (:mod:`gui.run_checks`). A downscale reloads the problem smaller (the run then
        starts on it)."""
        answer = self.checks.fits(self.setup, self.spec, self.state.solver.labels, "Not started")
        if isinstance(answer, ProblemSpec):
            return self.load_problem(answer, ask=False)  # the run starting replaces the old one
        return answer

    def _refuse(self, message: str) -> None:
        self.show_error(message)
        self._show_problem()

    def _show_problem(self) -> None:
        """Put the problem and solver panels back in line with the state (a refused edit)."""
        self.problem_panel.show_problem(self.state)
        self.solver_panel.show_problem(self.state)

    def _current_spec(self) -> ProblemSpec:
        return self.spec or ProblemSpec()

    def open_image(self, path: str | Path | None, spec: ProblemSpec | None = None) -> bool:
        """Use the image at ``path`` (None: the task's sample) in ``spec`` (default: the current
        task and options), with the task's default parameters for it: File → Open, a dropped
        image and the command line's IMAGE all come here, so they give the same C, μ, γ."""
        spec = (spec or self._current_spec()).with_image(str(path) if path else None)
        return self.load_problem(spec, defaults=True)

    @Slot()
    def use_sample(self) -> bool:
        """Use the task's bundled sample image (with the task's default parameters)."""
        return self.open_image(None)

    @Slot(str)
    def set_task(self, task: str) -> bool:
        """Switch to task ``task`` (same image, the task's default degradation)."""
        return self.load_problem(self._current_spec().with_task(task))

    def set_option(self, name: str, value: object) -> bool:
        """Change one task option (kernel, noise, seed, prior, device …) and rebuild."""
        return self.load_problem(self._current_spec().with_option(name, value))

    @Slot(str)
    def set_prior(self, key: str) -> bool:
        """Use prior ``key`` (``tv``, ``wavelet:p=0.5``, ``streaks`` …); the task's default is
        left to the task, not stored as a choice."""
        spec = self._current_spec()
        return self.set_option("prior", None if key == default_prior_key(spec.task) else key)

    @Slot(str)
    def set_module(self, name: str) -> bool:
        """Use module ``name`` (cnn, tv, wavelet, nlm, none) or a TorchScript file."""
        return self.set_option("module", name)

    @Slot(str)
    def set_device(self, name: str) -> bool:
        """Run on device ``name`` (``auto``: CUDA when available, else the CPU)."""
        return self.set_option("device", None if name == "auto" else name)

    # ---- the variants -----------------------------------------------------------------------
    def show_variants(self, variants: list[str]) -> None:
        """Draw ``variants`` in the plots and the image panels."""
        self.plots.set_variants(variants)
        self.images.set_variants(variants)

    def _on_variants_changed(self, variants: list) -> None:
        if self.runner.run is not None:
            if not self.files.confirm_discard("Changing the variants"):
                self.solver_panel.set_runs(self.runner.runs)  # the boxes go back
                return
            self.runner.reset_run()
            self.status.message("Variants changed: the run was reset")
        self.solver_panel.publish_runs()
        self.show_variants(variants)

    @Slot(object)
    def _on_live_target(self, label: str | None) -> None:
        self.state.set_live_target(label)
        self.status.message(f"Edits go to {variant_label(label) if label else 'every run'}")

    @Slot()
    def reset_run(self) -> bool:
        """Reset (R): discard the run, asking first when :data:`RESET_ASKS_FROM` or more of its
        iterations are unsaved; False when the user keeps it."""
        if not self.files.confirm_discard("Reset", RESET_ASKS_FROM):
            return False
        self.runner.reset_run()
        return True

    # ---- studies --------------------------------------------------------------------------
    def study_window(self, show: bool = False) -> StudyWindow:
        """The Study window (made once; a double-clicked cell opens here as a session)."""
        return self.studies.window(show)

    @Slot(object)
    def open_study_cell(self, session) -> bool:
        """Open one study cell in the explorer: its image, task settings and parameters."""
        if not self.files.open_session(session):
            return False
        self.raise_()
        self.activateWindow()
        self.status.message("Study cell opened: press Run to watch it")
        return True

    # ---- settings and closing -------------------------------------------------------------
    @Slot()
    def open_preferences(self) -> None:
        """Settings → Preferences…: the iterate-history memory budget."""
        dialog = PreferencesDialog(settings.budget_mb(), self)
        if dialog.exec() == QDialog.DialogCode.Accepted:
            self.set_history_budget_mb(dialog.budget_mb())

    def set_history_budget_mb(self, megabytes: int) -> None:
        """Set (and remember) the iterate-history memory budget; it applies at once."""
        settings.set_budget_mb(megabytes)
        self.scrubber.set_budget_mb(megabytes)

    @Slot()
    def show_about_guarantee(self) -> HelpDialog:
        """Help → About the guarantee: Theorem 1 in words, and the paper."""
        return self.help_windows.show("guarantee")

    @Slot()
    def show_shortcuts(self) -> HelpDialog:
        """Help → Keyboard shortcuts."""
        return self.help_windows.show("shortcuts")

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt's name)
        """A file dragged over the window: accepted if it is a local file."""
        self.files.drop_event(event)

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:  # noqa: N802 (Qt's name)
        """A file dragged across the window."""
        self.files.drop_event(event)

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt's name)
        """A file dropped on the window: opened like File → Open."""
        self.files.drop_event(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Ask before quitting over an unsaved run (Cancel keeps the window open); stop the run,
        wait for every run of this window to end, remember the layout."""
        if not self.files.confirm_discard("Quitting"):
            event.ignore()
            return
        self.studies.close()
        self.runner.close()
        for run in detached_runs():
            run.join(STOP_TIMEOUT_S)
        settings.save_layout(self, self.layout_parts.splitters())
        settings.remember_colormap(self.images.colormap_combo.currentText())
        self.help_windows.close_all()
        super().closeEvent(event)
