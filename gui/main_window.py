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

import sys
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer, Signal, Slot
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

from . import settings
from .actions import install_actions
from .file_dialogs import FileDialogs
from .help_dialogs import HelpDialog, HelpWindows
from .memory_check import MemoryShortfall, memory_shortfall, shortfall_text
from .memory_dialog import ANYWAY, CANCEL, DOWNSCALE, MemoryDialog
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
from .window_files import APP_TITLE, WindowFiles, wait_cursor
from .window_run import CERTIFICATE_CATCH_UP_MS, RESET_WAIT_S, WindowRun  # noqa: F401


class MainWindow(WindowFiles, WindowRun, QMainWindow):
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
