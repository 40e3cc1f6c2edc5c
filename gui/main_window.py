"""The explorer window: problem and solver settings on the left, images (with the history
scrubber) and plots in the middle, the convergence certificate on the right.

The window owns at most one :class:`SolverRun`. Worker notifications arrive through bound methods
of GUI-thread objects; the window pulls the worker's data only after a notification, at most ~30
times a second and within a CPU budget (:mod:`gui.refresh_budget`), redrawing one plot per
refresh. Anything a user can get wrong ends in :meth:`MainWindow.show_error` with one line, and
the window keeps its previous problem and state.

Reset and rebuilding never wait for a slow iteration: the stopped run finishes it in the
background (its results are dropped) and the next run's worker waits for it in its own thread.
Closing the window does wait for it.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal, Slot
from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QGuiApplication,
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

from core import InputError, Parameters, ParameterTimeline, TaskSetup
from core.session import Session, load_session

from . import settings
from .actions import install_actions
from .export import (
    ExportContents,
    ExportOptions,
    export_files,
    make_session,
    save_screenshot,
    write_session,
)
from .export_dialog import ExportDialog
from .file_dialogs import FileDialogs
from .help_dialogs import HelpDialog, HelpWindows
from .memory_check import MemoryShortfall, memory_shortfall, shortfall_text
from .memory_dialog import ANYWAY, CANCEL, DOWNSCALE, MemoryDialog
from .module_choices import MODULE_SUFFIXES
from .preferences import PreferencesDialog
from .prior_choices import default_prior_key, describe_text, prior_key
from .problem_spec import ProblemSpec
from .refresh_budget import RefreshBudget
from .run_history import RunHistory
from .scrubber import Scrubber
from .solver_run import STOP_TIMEOUT_S, SolverRun, detached_runs
from .solver_worker import one_line, to_display_array
from .status import StatusPanel
from .task_view import task_view
from .views.certificate_panel import CertificatePanel
from .views.history_bar import HistoryBar
from .views.images import ImagePanel
from .views.parameters import ParameterPanel, learned_lipschitz, objective_note
from .views.plots import PlotPanel
from .views.problem_panel import ProblemPanel
from .views.solver_panel import SolverPanel
from .views.style import variant_label

APP_TITLE = "FIMA Explorer"
RESET_WAIT_S = 0.25  # reset / rebuild wait at most this long for the iteration in progress
CERTIFICATE_CATCH_UP_MS = 1100


@contextlib.contextmanager
def wait_cursor() -> Iterator[None]:
    """Show a busy cursor while a slow thing (building a task, loading a module) happens."""
    QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        yield
    finally:
        QGuiApplication.restoreOverrideCursor()


class MainWindow(QMainWindow):
    """FIMA Explorer's main window."""

    runLimitReached = Signal()  # the run reached its iteration limit (and paused)
    runEnded = Signal()  # the worker loop returned (error, or every variant stopped)
    errorRaised = Signal(str)  # an error was reported to the user

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(APP_TITLE)
        self.setAcceptDrops(True)
        self.scripted = False  # errors go to stderr instead of dialogs
        self.last_error: str | None = None
        self.spec: ProblemSpec | None = None
        self.setup: TaskSetup | None = None
        self.run: SolverRun | None = None
        self._retired: SolverRun | None = None  # a stopped run still finishing its iteration
        self.history = RunHistory()
        self._scheduled: dict[int, dict[str, float]] = {}  # session changes for the next run
        self._latest_x: dict[str, np.ndarray] = {}
        self._iterations = 0
        self._budget = RefreshBudget()
        self._run_error: str | None = None
        self._announced: set[str] = set()  # variants whose divergence was reported
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
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.timeout.connect(self.refresh_now)
        self._certificate_timer = QTimer(self)
        self._certificate_timer.setSingleShot(True)
        self._certificate_timer.timeout.connect(self.update_certificate)
        self._connect()
        self.dialogs.update_recent_menu()
        self._update_run_actions()
        settings.restore_window(self)

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
        scroll.setMinimumWidth(370)
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

    def _connect(self) -> None:
        a = self.actions
        f = self.dialogs
        a.open_image.triggered.connect(f.choose_image)
        a.use_sample.triggered.connect(self.use_sample)
        a.open_session.triggered.connect(f.choose_session)
        a.save_session.triggered.connect(f.choose_session_target)
        a.export_run.triggered.connect(self.open_export_dialog)
        a.screenshot.triggered.connect(f.choose_screenshot_target)
        a.quit.triggered.connect(self.close)
        a.run_pause.triggered.connect(self.toggle_run)
        a.step.triggered.connect(self.step_run)
        a.reset.triggered.connect(self.reset_run)
        a.history_back.triggered.connect(self.history_back)
        a.history_forward.triggered.connect(self.history_forward)
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
        s.limitChanged.connect(self._on_limit_changed)
        self.parameter_panel.changed.connect(self._on_parameters_edited)
        self.parameter_panel.presetRequested.connect(self.apply_preset)
        self.parameter_panel.refused.connect(self.show_error)

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
        self._stop_run()
        task_changed = self.setup is None or self.setup.settings["task"] != setup.settings["task"]
        self.setup, self.spec = setup, spec
        self._scheduled = dict(scheduled or {})
        self.parameter_panel.set_defaults(setup.parameters)
        if parameters is not None:
            self.parameter_panel.set_parameters(parameters)
        elif task_changed:
            self.parameter_panel.set_parameters(setup.parameters)
        problem = setup.problem
        self.parameter_panel.set_lipschitz(problem.lipschitz, learned_lipschitz(problem))
        self.certificate_panel.set_objective_note(objective_note(problem))
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
        self._clear_run_views()
        self.status.show_device(str(setup.settings.get("device", problem.device)))
        if spec.image:
            self.dialogs.remember(spec.image)
        name = Path(spec.image).name if spec.image else "sample"
        self.setWindowTitle(f"{APP_TITLE} — {setup.settings['task']} — {name}")
        self._update_run_actions()
        return True

    def _run_fits(self, variants: int) -> bool:
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

    def open_file(self, path: str | Path) -> bool:
        """Open whatever ``path`` is: a session (.toml), a TorchScript module, or an image."""
        suffix = Path(path).suffix.lower()
        if suffix == ".toml":
            return self.load_session_file(path)
        if suffix in MODULE_SUFFIXES:
            return self.set_module(str(path))
        return self.open_image(path)

    # ---- sessions and exports -------------------------------------------------------------
    def load_session_file(
        self, path: str | Path, image: str | None = None, task: str | None = None
    ) -> bool:
        """Replay a session file: its problem, parameters, scheduled changes, variants, limit."""
        try:
            session = load_session(path)
        except InputError as exc:
            self.show_error(str(exc))
            return False
        spec = ProblemSpec(session.task["task"], session.task.get("image"), session.build_options())
        spec = spec.without_defaults()  # the session names module and prior even when defaults
        if task:
            spec = spec.with_task(task)
        if image:
            spec = spec.with_image(image)
        if not self.load_problem(spec, session.parameters, session.changes):
            return False
        self.solver_panel.set_variants(session.variants)
        self.solver_panel.set_limit(session.iterations)
        self._on_variants_changed(self.solver_panel.variants())
        return True

    def current_session(self) -> Session | None:
        """The session that replays the current run (or would start the next one)."""
        if self.setup is None:
            return None
        if self.run is not None:
            timeline = self.run.timeline
            iterations = max((self.history.count(v) for v in self.run.variants), default=0)
            return make_session(
                self.setup.settings,
                timeline.initial,
                timeline.changes,
                self.run.variants,
                iterations or self.solver_panel.limit(),
            )
        return make_session(
            self.setup.settings,
            self.parameter_panel.parameters(),
            self._scheduled,
            self.solver_panel.variants(),
            self.solver_panel.limit(),
        )

    def save_session_file(self, path: str | Path) -> bool:
        """Save the current session."""
        session = self.current_session()
        if session is None:
            self.show_error("Nothing to save: no problem is loaded")
            return False
        try:
            write_session(path, session)
        except OSError as exc:
            self.show_error(f"Cannot save the session: {exc}")
            return False
        settings.remember_folder(path)
        self.status.message(f"Session saved to {path}")
        return True

    def result_variant(self) -> str | None:
        """The variant whose result is exported: FIMA if it ran, else the first one that ran."""
        variants = self.run.variants if self.run is not None else ()
        for variant in ("fima", *variants):
            if variant in self._latest_x:
                return variant
        return variants[0] if variants else None

    def result_iterate(self) -> np.ndarray | None:
        """FIMA's latest iterate if it ran, else the first variant's, else x⁰."""
        if self.setup is None:
            return None
        variant = self.result_variant()
        if variant in self._latest_x:
            return self._latest_x[variant]
        return to_display_array(self.setup.problem.x0)

    def result_image(self) -> np.ndarray | None:
        """The result picture: :meth:`result_iterate`, rendered when the task renders its
        iterate (low-light: the enhanced picture from the illumination t)."""
        x = self.result_iterate()
        render = self.images.task_view().render
        return render(x) if render is not None and x is not None else x

    def export_to(self, out_dir: str | Path, options: ExportOptions | None = None) -> bool:
        """Write the export items into ``out_dir`` (default: all of them, as ``--export`` does)."""
        session = self.current_session()
        if session is None:
            self.show_error("Nothing to export: no problem is loaded")
            return False
        self.refresh_now()
        self.plots.flush()
        problem = self.setup.problem
        observation = problem.observation_image
        order = self.run.variants if self.run is not None else ()
        view = self.images.task_view()
        rendered = view.render is not None
        contents = ExportContents(
            rows=self.history.all_rows(order),
            result=self.result_image(),
            observation=to_display_array(observation if observation is not None else problem.x0),
            truth=to_display_array(problem.ground_truth),
            session=session,
            iterates=self.scrubber.iterates,
            variant=self.result_variant(),
            save_plots=self.plots.save_image,
            variable=self.result_iterate() if rendered else None,
            reference=view.picture_truth if rendered else None,
            render=view.render,
        )
        options = options or ExportOptions(error_max=self.images.error_max.value())
        try:
            with wait_cursor():
                written = export_files(out_dir, contents, options)
        except (OSError, ValueError) as exc:
            self.show_error(f"Export failed: {exc}")
            return False
        settings.remember_folder(out_dir)
        self.status.message(f"Exported {len(written)} files to {out_dir}")
        return True

    @Slot()
    def open_export_dialog(self) -> None:
        """File → Export…: choose the folder and the items, then export."""
        if self.setup is None:
            self.show_error("Nothing to export: no problem is loaded")
            return
        dialog = ExportDialog(settings.last_folder(), self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        dialog.remember()
        if not dialog.folder():
            self.show_error("Choose a folder to export into")
            return
        self.export_to(dialog.folder(), dialog.options(self.images.error_max.value()))

    def save_screenshot(self, path: str | Path) -> bool:
        """Save a picture of the window as it is drawn."""
        self.refresh_now()
        self.plots.flush()
        try:
            save_screenshot(self, path)
        except OSError as exc:
            self.show_error(str(exc))
            return False
        return True

    # ---- drag and drop --------------------------------------------------------------------
    @staticmethod
    def _dropped_path(event) -> str | None:
        mime = event.mimeData()
        if mime is None or not mime.hasUrls():
            return None
        for url in mime.urls():
            if url.isLocalFile():
                return url.toLocalFile()
        return None

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        """Accept a dragged local file."""
        if self._dropped_path(event):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        """Keep accepting a dragged local file."""
        self.dragEnterEvent(event)

    def dropEvent(self, event: QDropEvent) -> None:
        """Open a dropped image (or session / TorchScript file)."""
        path = self._dropped_path(event)
        if not path:
            event.ignore()
            return
        event.acceptProposedAction()
        self.open_file(path)

    # ---- running --------------------------------------------------------------------------
    def start_run(self, running: bool = True) -> bool:
        """Start a fresh run of the selected variants from x⁰ (free-running or paused)."""
        if self.setup is None:
            self.show_error("Load an image first (File → Open, or drop one on the window)")
            return False
        try:
            timeline = ParameterTimeline(self.parameter_panel.parameters(), self._scheduled)
        except ValueError as exc:
            self.show_error(f"Bad parameters: {exc}")
            return False
        variants = self.solver_panel.variants()
        if not self._run_fits(len(variants)):
            return False
        self._stop_run()
        self._clear_run_views()
        self._run_error = None
        self._budget.reset()
        problem = self.setup.problem
        self.scrubber.new_run(variants, to_display_array(problem.x0))
        if self._retired is not None and self._retired.has_ended():
            self._retired = None
        self.run = SolverRun(
            problem,
            self.setup.module,
            timeline,
            variants,
            self.solver_panel.limit(),
            history=self.scrubber.iterates,
            predecessor=self._retired,
        )
        self.run.dataReady.connect(self._on_data_ready)
        self.run.limitReached.connect(self._on_limit_reached)
        self.run.error.connect(self._on_run_error)
        self.run.finished.connect(self._on_run_finished)
        self.plots.set_variants(variants)
        self.images.set_variants(variants)
        self.run.start(running)
        self._update_run_actions()
        return True

    @Slot()
    def toggle_run(self) -> None:
        """Space: run, or pause a running run, or resume a paused one."""
        if self.run is None or self.run.has_ended():
            self.start_run(running=True)
        elif self.run.is_running():
            self.pause_run()
        else:
            self.run.resume()
            self.status.meter.reset()
            self._update_run_actions()

    @Slot()
    def pause_run(self) -> None:
        """Pause after the iteration in progress."""
        if self.run is not None:
            self.run.pause()
            self._update_run_actions("Paused")
            self._certificate_timer.start(CERTIFICATE_CATCH_UP_MS)

    @Slot()
    def step_run(self) -> None:
        """N: advance exactly one iteration of every variant."""
        if self.run is None or self.run.has_ended():
            if not self.start_run(running=False):
                return
        self.run.step()
        self._update_run_actions("Paused")

    @Slot()
    def reset_run(self) -> None:
        """R: discard the run and show x⁰ again (without waiting for a slow iteration)."""
        self._stop_run()
        self._clear_run_views()
        self._update_run_actions()

    def _stop_run(self, wait_s: float = RESET_WAIT_S) -> None:
        if self.run is not None:
            run, self.run = self.run, None
            if not run.stop(wait_s):
                self._retired = run
                self.status.message("The solver is finishing its iteration in the background")
        self._refresh_timer.stop()
        self._certificate_timer.stop()

    def _clear_run_views(self) -> None:
        self.history.clear()
        self._latest_x.clear()
        self._iterations = 0
        self._announced.clear()
        self.plots.clear()
        self.images.reset_iterates()
        self.scrubber.clear()
        self.certificate_panel.show_empty()
        self.status.reset_progress()

    # ---- the history scrubber -------------------------------------------------------------
    def scrub_to(self, k: int) -> int | None:
        """Show past iterate x^k of the shown variant (pinned); returns the k shown."""
        if self.run is None:
            return None
        return self.scrubber.scrub_to(k)

    @Slot()
    def follow_live(self) -> None:
        """Show the newest iterate again, and keep following it."""
        self.scrubber.follow_live()

    @Slot()
    def history_back(self) -> None:
        """←: one iterate back in the history (a running run is paused first)."""
        if self.run is None:
            return
        if self.run.is_running():
            self.pause_run()
        self.scrubber.back()

    @Slot()
    def history_forward(self) -> None:
        """→: one iterate forward in the history; at the newest, step one iteration."""
        if self.run is not None and self.scrubber.forward():
            return
        self.step_run()

    # ---- worker notifications (GUI thread) ------------------------------------------------
    @Slot()
    def _on_data_ready(self) -> None:
        self._schedule_refresh()

    def _schedule_refresh(self) -> None:
        if not self._refresh_timer.isActive():
            self._refresh_timer.start(self._budget.delay_ms())

    @Slot()
    def refresh_now(self) -> None:
        """Pull the worker's new rows and latest images, redraw them and one plot (GUI thread)."""
        self._refresh_timer.stop()
        self._budget.begin()
        try:
            self._pull()
            self.plots.draw_one()
        finally:
            self._budget.end()
        if self.plots.pending():
            self._schedule_refresh()

    def _pull(self) -> None:
        if self.run is None:
            return
        update = self.run.take_update()
        if not update.rows and not update.images:
            return
        for variant, rows in update.rows.items():
            self.history.extend(variant, rows)
        for variant, images in update.images.items():
            if images.get("x") is not None:
                self._latest_x[variant] = images["x"]
        self._iterations = update.iterations
        self.plots.update_curves(self.history)
        changes = self.run.timeline.changes
        self.plots.set_markers({k: c for k, c in changes.items() if k < update.iterations})
        self.images.update_images(update.images, update.iterations)
        self.scrubber.set_latest(update.iterations)
        self.status.show_progress(update.iterations, self._acceptance_summary())
        self._announce_divergence(update.done)
        if not self.certificate_panel.update_from(self.history, self.run.variants):
            if not self._certificate_timer.isActive():
                self._certificate_timer.start(CERTIFICATE_CATCH_UP_MS)

    @Slot()
    def update_certificate(self) -> None:
        """Recompute the certificate panel now (it is otherwise refreshed about once a second)."""
        self._certificate_timer.stop()
        variants = self.run.variants if self.run is not None else ()
        if variants:
            self.certificate_panel.update_from(self.history, variants, force=True)

    def _announce_divergence(self, done: tuple[str, ...]) -> None:
        diverged = {v: self.history.diverged_at(v) for v in done}
        diverged = {v: k for v, k in diverged.items() if k is not None}
        for variant, at in diverged.items():
            if variant not in self._announced:
                self._announced.add(variant)
                self.status.message(
                    f"{variant_label(variant)} diverged at k = {at} and was stopped"
                )
        if diverged:
            self.status.show_diverged(diverged, {v: variant_label(v) for v in diverged})

    def _acceptance_summary(self) -> str:
        """FIMA's acceptance rate so far (the only variant whose check can reject)."""
        if not self.history.count("fima"):
            return ""
        rate = float(self.history.acceptance_rate("fima")[-1])
        last = self.history.last_reject("fima")
        self.status.acceptance.setToolTip(
            f"Latest rejection at k = {last[0]}: {last[1]}" if last else "No rejection so far"
        )
        return f"{variant_label('fima')} accepted {100 * rate:.0f} %"

    @Slot()
    def _on_limit_reached(self) -> None:
        self.refresh_now()
        self.update_certificate()
        self.status.message(
            f"Iteration limit {self.solver_panel.limit()} reached — raise it and press Run to go on"
        )
        self._update_run_actions("Limit reached")
        self.runLimitReached.emit()

    @Slot(str)
    def _on_run_error(self, message: str) -> None:
        self._run_error = message
        self.refresh_now()
        self._update_run_actions("Stopped by an error")
        self.show_error(f"The solver stopped: {message}")

    @Slot()
    def _on_run_finished(self) -> None:
        self.refresh_now()
        self.update_certificate()
        if self._run_error is None:
            variants = self.run.variants if self.run is not None else ()
            stopped = {v: self.history.diverged_at(v) for v in variants}
            stopped = {v: k for v, k in stopped.items() if k is not None}
            if stopped:
                names = ", ".join(f"{variant_label(v)} (k = {k})" for v, k in stopped.items())
                self.status.message(f"Diverged and stopped: {names}")
            self._update_run_actions("Finished")
        self.runEnded.emit()

    # ---- panel edits ----------------------------------------------------------------------
    def _on_parameters_edited(self, changes: dict) -> None:
        if self.run is None or self.run.has_ended():
            return
        try:
            self.run.submit(**changes)
        except ValueError as exc:
            self.show_error(f"Parameter refused: {exc}")
            return
        text = ", ".join(f"{k} = {v:g}" for k, v in changes.items())
        self.status.message(f"{text} from the next iteration")

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
        before = self.parameter_panel.parameters().as_dict()
        self.parameter_panel.set_parameters(preset)
        changes = {k: v for k, v in preset.as_dict().items() if before.get(k) != v}
        if changes:
            self._on_parameters_edited(changes)
        if not all(self.parameter_panel.conditions().values()):
            self.status.message(f"Preset {name}: outside Theorem 1's conditions — no guarantee")
        return True

    def _on_variants_changed(self, variants: list) -> None:
        if self.run is not None:
            self.reset_run()
            self.status.message("Variants changed: the run was reset")
        self.plots.set_variants(variants)
        self.images.set_variants(variants)

    def _on_limit_changed(self, limit: int) -> None:
        if self.run is not None:
            self.run.set_limit(limit)

    # ---- state display --------------------------------------------------------------------
    def run_state(self) -> str:
        """idle (no run), running, paused, limit, or ended."""
        if self.run is None:
            return "idle"
        if self.run.has_ended():
            return "ended"
        if self.run.is_running():
            return "running"
        if self.run.worker.at_limit():
            return "limit"
        return "paused"

    def _update_run_actions(self, state_text: str | None = None) -> None:
        a = self.actions
        loaded = self.setup is not None
        for action in (a.run_pause, a.step, a.reset, a.export_run, a.save_session):
            action.setEnabled(loaded)
        for action in (a.history_back, a.history_forward):
            action.setEnabled(loaded)
        running = self.run is not None and self.run.is_running()
        a.run_pause.setText("Pause" if running else "Run")
        if state_text is None:
            state_text = {
                "idle": "Ready" if loaded else "No problem loaded",
                "running": "Running",
                "paused": "Paused",
                "limit": "Limit reached",
                "ended": "Finished",
            }[self.run_state()]
        self.status.show_state(state_text)

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
        self._stop_run(STOP_TIMEOUT_S)
        for run in detached_runs():
            run.join(STOP_TIMEOUT_S)
        self._retired = None
        settings.save_window(self)
        self.help_windows.close_all()
        super().closeEvent(event)
