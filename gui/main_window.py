"""The explorer window: problem and solver settings on the left, images (with the history
scrubber) and plots in the middle, the convergence certificate on the right.

The window is a composition: the Qt-free :class:`ExplorerState` (problem, parameters, run
status: one owner, panels listen to its events), the :class:`RunController` (the solver run, its
data and pacing), the panels and dialogs, and :class:`WindowFiles` (open, sessions, export).
Anything a user can get wrong ends in :meth:`MainWindow.show_error` with one line, and the window
keeps its previous problem and state. Closing the window waits for the run to end.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtCore import Qt, Signal, Slot
from PySide6.QtGui import (
    QCloseEvent,
)
from PySide6.QtWidgets import (
    QDialog,
    QDockWidget,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from core import InputError, Parameters, TaskSetup
from core.errors import one_line
from core.memory import MemoryShortfall, memory_shortfall, shortfall_text

from . import settings
from .actions import install_actions
from .dialogs.file_dialogs import FileDialogs
from .dialogs.help_dialogs import HelpDialog, HelpWindows
from .dialogs.memory_dialog import ANYWAY, CANCEL, DOWNSCALE, MemoryDialog
from .dialogs.preferences import PreferencesDialog
from .run.controller import RunController
from .run.solver_run import STOP_TIMEOUT_S, detached_runs
from .run.solver_worker import to_display_array
from .state import ExplorerState
from .state.prior_choices import default_prior_key, describe_text, prior_key
from .state.problem_spec import ProblemSpec
from .study import StudyWindow
from .views.certificate_panel import CertificatePanel
from .views.history_bar import HistoryBar
from .views.images import ImagePanel
from .views.parameters import (
    ParameterPanel,
    learned_lipschitz,
    objective_note,
    proximal_lipschitz,
)
from .views.plots import PlotPanel
from .views.problem_panel import ProblemPanel
from .views.scrubber import Scrubber
from .views.solver_panel import SolverPanel
from .views.status import StatusPanel
from .views.task_view import task_view
from .window_files import APP_TITLE, WindowFiles, wait_cursor


class MainWindow(WindowFiles, QMainWindow):
    """FIMA Explorer's main window."""

    errorRaised = Signal(str)  # an error was reported to the user

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(APP_TITLE)
        self.setAcceptDrops(True)
        self.scripted = False  # errors go to stderr instead of dialogs
        self.last_error: str | None = None
        self.state = ExplorerState()
        self._study: StudyWindow | None = None
        self.help_windows = HelpWindows(self)

        self.problem_panel = ProblemPanel()
        self.solver_panel = SolverPanel()
        self.parameter_panel = ParameterPanel()
        self.images = ImagePanel()
        self.plots = PlotPanel()
        self.history_bar = HistoryBar()
        self.certificate_panel = CertificatePanel()
        self.scrubber = Scrubber(self.images, self.plots, self.history_bar, settings.budget_mb())
        self._build_layout()
        self.actions = install_actions(self)
        self.actions.view_menu.addAction(self.certificate_dock.toggleViewAction())
        self.dialogs = FileDialogs(self, self.actions.recent_menu)
        self.status = StatusPanel(self.statusBar())
        self.runner = RunController(self.state, self)
        self._connect()
        self.dialogs.update_recent_menu()
        self.show_run_status()
        settings.restore_layout(self, self._splitters())
        self.images.set_colormap(settings.colormap())

    # ---- layout and wiring ----------------------------------------------------------------
    def _build_layout(self) -> None:
        side = QWidget()
        side_layout = QVBoxLayout(side)
        for panel in (self.problem_panel, self.solver_panel, self.parameter_panel):
            side_layout.addWidget(panel)
        side_layout.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidget(side)
        scroll.setWidgetResizable(True)
        bar = scroll.verticalScrollBar().sizeHint().width()
        scroll.setMinimumWidth(max(370, side.minimumSizeHint().width() + bar + 4))  # never clipped
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        image_area = QWidget()
        image_layout = QVBoxLayout(image_area)
        image_layout.setContentsMargins(0, 0, 0, 0)
        image_layout.addWidget(self.images, 1)
        image_layout.addWidget(self.history_bar)
        self.views_splitter = QSplitter(Qt.Orientation.Vertical)
        self.views_splitter.setObjectName("viewsSplitter")
        self.views_splitter.addWidget(image_area)
        self.views_splitter.addWidget(self.plots)
        self.views_splitter.setStretchFactor(0, 2)
        self.views_splitter.setStretchFactor(1, 3)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName("mainSplitter")
        self.splitter.addWidget(scroll)
        self.splitter.addWidget(self.views_splitter)
        self.splitter.setStretchFactor(1, 1)
        self.setCentralWidget(self.splitter)
        self.certificate_dock = QDockWidget("Convergence certificate", self)
        self.certificate_dock.setObjectName("certificateDock")
        self.certificate_dock.setWidget(self.certificate_panel)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.certificate_dock)
        self.resize(1700, 950)

    def _splitters(self) -> dict:
        """The splitters whose positions are remembered, by name."""
        return {"splitter": self.splitter, "viewsSplitter": self.views_splitter}

    def _connect(self) -> None:
        a = self.actions
        f = self.dialogs
        a.open_image.triggered.connect(f.choose_image)
        a.use_sample.triggered.connect(self.use_sample)
        a.open_session.triggered.connect(f.choose_session)
        a.open_study.triggered.connect(self.open_study)
        a.new_study.triggered.connect(self.new_study)
        a.save_session.triggered.connect(f.choose_session_target)
        a.export_run.triggered.connect(self.open_export_dialog)
        a.screenshot.triggered.connect(f.choose_screenshot_target)
        a.quit.triggered.connect(self.close)
        r = self.runner
        a.run_pause.triggered.connect(r.toggle_run)
        a.step.triggered.connect(r.step_run)
        a.reset.triggered.connect(r.reset_run)
        a.history_back.triggered.connect(r.history_back)
        a.history_forward.triggered.connect(r.history_forward)
        a.preferences.triggered.connect(self.open_preferences)
        a.about_guarantee.triggered.connect(self.show_about_guarantee)
        a.shortcuts.triggered.connect(self.show_shortcuts)
        self.certificate_panel.aboutRequested.connect(self.show_about_guarantee)
        p = self.problem_panel
        p.taskChosen.connect(self.set_task)
        p.openRequested.connect(f.choose_image)
        p.sampleRequested.connect(self.use_sample)
        p.fileOptionRequested.connect(f.choose_option_file)
        p.invalidEntry.connect(self._refuse)
        p.optionEdited.connect(self.set_option)
        p.recent_button.setMenu(a.recent_menu)
        s = self.solver_panel
        s.moduleChosen.connect(self.set_module)
        s.torchscriptRequested.connect(f.choose_torchscript)
        s.priorChosen.connect(self.set_prior)
        s.deviceChosen.connect(
            lambda name: self.set_option("device", None if name == "auto" else name)
        )
        s.variantsChanged.connect(self._on_variants_changed)
        s.limitChanged.connect(r.set_limit)
        self.parameter_panel.changed.connect(r.submit)
        self.parameter_panel.presetRequested.connect(self.apply_preset)
        self.parameter_panel.refused.connect(self.show_error)
        self.state.events.parameters.connect(self._show_parameters)

    # ---- the state, as the window shows it --------------------------------------------------
    @property
    def spec(self) -> ProblemSpec | None:
        """The problem as the user chose it (the state's)."""
        return self.state.spec

    @property
    def setup(self) -> TaskSetup | None:
        """The problem as built (the state's)."""
        return self.state.setup

    def _show_parameters(self, parameters: Parameters | None) -> None:
        """The state's shown parameters changed: the parameter panel follows (not while they
        already agree, so a field being typed in is left alone)."""
        if parameters is None:
            return
        try:
            same = self.parameter_panel.parameters() == parameters
        except ValueError:
            same = False
        if not same:
            self.parameter_panel.set_parameters(parameters)

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
    ) -> bool:
        """Build ``spec`` and make it the current problem; on failure keep the old one.

        A problem too large for free memory is offered downscaled (:meth:`memory_dialog`);
        cancelling keeps the old one."""
        try:
            with wait_cursor():
                setup = spec.build()
        except (InputError, ValueError, OSError) as exc:
            self._refuse(str(exc))
            return False
        except Exception as exc:  # a broken module file can raise anything while loading
            self._refuse(f"Could not set up the problem: {one_line(exc)}")
            return False
        shortfall = memory_shortfall(
            setup, len(self.solver_panel.variants()), int(spec.value("downscale") or 1)
        )
        if shortfall is not None:
            choice = self._answer_shortfall(shortfall)
            if choice == DOWNSCALE:
                del setup  # the rebuild may need the memory
                downscaled = spec.with_option("downscale", shortfall.suggested)
                return self.load_problem(downscaled, parameters, scheduled)
            if choice != ANYWAY:
                self.status.message(f"Not loaded: {shortfall_text(shortfall)}", 10000)
                self._show_spec()
                return False
        self.runner.stop()
        self.parameter_panel.set_defaults(setup.parameters)
        self.state.set_problem(spec, setup, parameters, scheduled)
        problem = setup.problem
        self.parameter_panel.set_lipschitz(
            problem.lipschitz, learned_lipschitz(problem), proximal_lipschitz(problem)
        )
        self.certificate_panel.set_objective_note(objective_note(problem))
        self.certificate_panel.set_lipschitz(problem.lipschitz)
        observation = problem.observation_image
        with wait_cursor():  # a low-light picture is rendered from x⁰ (its denoise, once)
            self.images.set_problem(
                to_display_array(observation if observation is not None else problem.x0),
                to_display_array(problem.x0),
                to_display_array(problem.ground_truth),
                task_view(setup),
            )
        self.plots.set_has_truth(problem.ground_truth is not None)
        self.plots.set_variants(self.solver_panel.variants())
        self.images.set_variants(self.solver_panel.variants())
        self._show_spec()
        self.runner.clear_views()
        self.status.show_device(str(setup.settings.get("device", problem.device)))
        if spec.image:
            self.dialogs.remember(spec.image)
        name = Path(spec.image).name if spec.image else "sample"
        self.setWindowTitle(f"{APP_TITLE} — {setup.settings['task']} — {name}")
        self.runner.update_status()
        return True

    def run_fits(self, variants: int) -> bool:
        """Check memory again before a run: more variants may be ticked than when it was loaded.

        Answering "downscale" reloads the problem smaller (the run then starts on it)."""
        downscale = int(self.spec.value("downscale") or 1)
        shortfall = memory_shortfall(self.setup, variants, downscale)
        if shortfall is None:
            return True
        choice = self._answer_shortfall(shortfall)
        if choice == DOWNSCALE:
            return self.load_problem(self.spec.with_option("downscale", shortfall.suggested))
        if choice != ANYWAY:
            self.status.message(f"Not started: {shortfall_text(shortfall)}", 10000)
            return False
        return True

    def _answer_shortfall(self, shortfall: MemoryShortfall) -> str:
        """The user's answer to a problem too large for memory (scripted: refused, as the CLI)."""
        if not self.scripted:
            return self.memory_dialog(shortfall)
        advice = f": set Downscale to {shortfall.suggested}" if shortfall.can_downscale() else ""
        self.show_error(f"{shortfall_text(shortfall)}{advice}")
        return CANCEL

    def _refuse(self, message: str) -> None:
        self.show_error(message)
        self._show_spec()

    def _show_spec(self) -> None:
        """Put the panels back in line with the current problem (after a refused edit, too)."""
        if self.spec is None:
            return
        self.problem_panel.show_spec(self.spec)
        self.solver_panel.show_task_modules(self.spec.task)
        module = self.setup.settings.get("module") if self.setup else self.spec.value("module")
        if module:
            self.solver_panel.show_module(str(module))
        self.solver_panel.show_task_priors(self.spec.task)
        built = self.setup.settings.get("prior") if self.setup else None
        key = prior_key(built) or prior_key(self.spec.value("prior"))
        key = key or default_prior_key(self.spec.task)
        if key:
            self.solver_panel.show_prior(key, describe_text(built))
        self.solver_panel.show_device(self.spec.value("device"))

    def _current_spec(self) -> ProblemSpec:
        return self.spec or ProblemSpec()

    def open_image(self, path: str | Path) -> bool:
        """Use the image at ``path`` (other settings unchanged)."""
        return self.load_problem(self._current_spec().with_image(str(path)))

    @Slot()
    def use_sample(self) -> bool:
        """Use the task's bundled sample image."""
        return self.load_problem(self._current_spec().with_image(None))

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

    # ---- panel edits that concern the run -------------------------------------------------
    @Slot(str)
    def apply_preset(self, name: str) -> bool:
        """Apply a parameter preset (guaranteed / paper) on top of the task's defaults."""
        if self.setup is None:
            return False
        try:
            preset = self.parameter_panel.preset_parameters(name)
        except ValueError as exc:
            self.show_error(str(exc))
            return False
        before = self.state.shown.as_dict() if self.state.shown is not None else {}
        changes = {k: v for k, v in preset.as_dict().items() if before.get(k) != v}
        if changes and not self.runner.submit(changes):
            return False
        self.parameter_panel.set_parameters(preset)
        if not all(self.parameter_panel.conditions().values()):
            self.status.message(f"Preset {name}: outside Theorem 1's conditions — no guarantee")
        return True

    def _on_variants_changed(self, variants: list) -> None:
        if self.runner.run is not None:
            self.runner.reset_run()
            self.status.message("Variants changed: the run was reset")
        self.plots.set_variants(variants)
        self.images.set_variants(variants)

    def show_run_status(self, state_text: str | None = None) -> None:
        """Enable the run actions and show the run's status (``state_text`` if given)."""
        a = self.actions
        loaded = self.state.loaded
        for action in (a.run_pause, a.step, a.reset, a.export_run, a.save_session):
            action.setEnabled(loaded)
        for action in (a.history_back, a.history_forward):
            action.setEnabled(loaded)
        status = self.state.status
        a.run_pause.setText("Pause" if status == "running" else "Run")
        if state_text is None:
            state_text = {
                "idle": "Ready" if loaded else "No problem loaded",
                "running": "Running",
                "paused": "Paused",
                "limit": "Limit reached",
                "ended": "Finished",
                "error": "Stopped by an error",
            }[status]
        self.status.show_state(state_text)

    # ---- studies --------------------------------------------------------------------------
    def study_window(self, show: bool = False) -> StudyWindow:
        """The Study window (made once; a double-clicked cell opens here as a session)."""
        if self._study is None:
            self._study = StudyWindow(self)
            self._study.cellOpened.connect(self.open_study_cell)
        if show:
            self._study.show()
            self._study.raise_()
        return self._study

    @Slot()
    def open_study(self) -> None:
        """File → Open study…: choose a study folder and show its heatmaps."""
        self.study_window(show=True).choose_study()

    @Slot()
    def new_study(self) -> None:
        """File → New study…: choose a spec and an output folder, run it and watch it fill in."""
        self.study_window(show=True).choose_spec()

    @Slot(object)
    def open_study_cell(self, session) -> bool:
        """Open one study cell in the explorer: its image, task settings and parameters."""
        if not self.open_session(session):
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

    def closeEvent(self, event: QCloseEvent) -> None:
        """Stop the run, wait for every run of this window to end, remember the layout."""
        if self._study is not None:
            self._study.close()
        self.runner.close()
        for run in detached_runs():
            run.join(STOP_TIMEOUT_S)
        settings.save_layout(self, self._splitters())
        settings.remember_colormap(self.images.colormap_combo.currentText())
        self.help_windows.close_all()
        super().closeEvent(event)
