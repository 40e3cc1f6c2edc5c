"""The window's actions, menus and toolbar.

Shortcuts: Space run/pause, N step, → next iterate (history forward, or a step at the newest),
← previous iterate, R reset, Ctrl+E export, Ctrl+S save session, F1 about the guarantee.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMenu, QToolBar

from .state import ExplorerState

# the actions that open a file picker, and the picker's kind (gui.dialogs.file_dialogs.PICKERS)
PICKER_ACTIONS = {
    "open_image": "image",
    "open_session": "session",
    "save_session": "session_target",
    "screenshot": "screenshot",
}


@dataclass
class Actions:
    """Every QAction of the main window."""

    open_image: QAction
    use_sample: QAction
    recent_menu: QMenu
    open_session: QAction
    open_study: QAction
    new_study: QAction
    save_session: QAction
    export_run: QAction
    screenshot: QAction
    quit: QAction
    run_pause: QAction
    step: QAction
    reset: QAction
    history_back: QAction
    history_forward: QAction
    preferences: QAction
    about_guarantee: QAction
    shortcuts: QAction
    view_menu: QMenu

    def pickers(self) -> dict[QAction, str]:
        """The actions that open a file picker, with the picker's kind."""
        return {getattr(self, name): kind for name, kind in PICKER_ACTIONS.items()}

    def follow(self, state: ExplorerState) -> None:
        """Bind the run actions to ``state``: enabled once a problem is loaded, Run reads Pause
        while the run runs."""
        state.events.problem.connect(self._show_run)
        state.events.status.connect(self._show_run_status)
        self._show_run(state)

    def _show_run(self, state: ExplorerState) -> None:
        loaded = state.loaded
        for action in (self.run_pause, self.step, self.reset, self.export_run, self.save_session):
            action.setEnabled(loaded)
        for action in (self.history_back, self.history_forward):
            action.setEnabled(loaded)
        self._show_run_status(state.status)

    def _show_run_status(self, status: str) -> None:
        self.run_pause.setText("Pause" if status == "running" else "Run")


def _action(window: QMainWindow, text: str, tip: str, *shortcuts) -> QAction:
    action = QAction(text, window)
    action.setToolTip(tip)
    action.setStatusTip(tip)
    if shortcuts:
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
    return action


def install_actions(window: QMainWindow) -> Actions:
    """Create the actions, the File / Run menus and the run toolbar of ``window``."""
    actions = Actions(
        open_image=_action(
            window, "&Open image…", "Open an image file", QKeySequence.StandardKey.Open
        ),
        use_sample=_action(window, "&Sample image", "Use the task's bundled sample image"),
        recent_menu=QMenu("Open &recent", window),
        open_session=_action(window, "Open &session…", "Replay a session.toml"),
        open_study=_action(
            window, "Open s&tudy…", "Show a study's heatmaps (a folder with study.db)", "Ctrl+T"
        ),
        new_study=_action(
            window, "&New study…", "Run a study from its spec (.toml) and watch it fill in"
        ),
        save_session=_action(
            window, "Save session &as…", "Save a replayable session.toml", "Ctrl+S"
        ),
        export_run=_action(
            window,
            "&Export…",
            "Write the result, trace, plots, iterate movie and session into a folder",
            "Ctrl+E",
        ),
        screenshot=_action(window, "Save screens&hot…", "Save a picture of the window"),
        quit=_action(window, "&Quit", "Quit FIMA Explorer", QKeySequence.StandardKey.Quit),
        run_pause=_action(window, "Run", "Run / pause (Space)", "Space"),
        step=_action(window, "Step", "Advance exactly one iteration (N)", "N"),
        reset=_action(window, "Reset", "Discard the run and go back to x⁰ (R)", "R"),
        history_back=_action(
            window, "Previous iterate", "Back one iterate in the history (←)", "Left"
        ),
        history_forward=_action(
            window, "Next iterate", "Forward one iterate, or one step at the newest (→)", "Right"
        ),
        preferences=_action(window, "&Preferences…", "Memory budget of the iterate history"),
        about_guarantee=_action(
            window, "About the &guarantee…", "Theorem 1 in words, and the paper", "F1"
        ),
        shortcuts=_action(window, "&Keyboard shortcuts", "Every shortcut of the explorer"),
        view_menu=QMenu("&View", window),
    )
    file_menu = window.menuBar().addMenu("&File")
    file_menu.addAction(actions.open_image)
    file_menu.addMenu(actions.recent_menu)
    file_menu.addAction(actions.use_sample)
    file_menu.addSeparator()
    file_menu.addAction(actions.open_session)
    file_menu.addAction(actions.save_session)
    file_menu.addSeparator()
    file_menu.addAction(actions.open_study)
    file_menu.addAction(actions.new_study)
    file_menu.addSeparator()
    file_menu.addAction(actions.export_run)
    file_menu.addAction(actions.screenshot)
    file_menu.addSeparator()
    file_menu.addAction(actions.quit)
    run_menu = window.menuBar().addMenu("&Run")
    for action in (actions.run_pause, actions.step, actions.reset):
        run_menu.addAction(action)
    run_menu.addSeparator()
    run_menu.addAction(actions.history_back)
    run_menu.addAction(actions.history_forward)
    window.menuBar().addMenu(actions.view_menu)
    settings_menu = window.menuBar().addMenu("&Settings")
    settings_menu.addAction(actions.preferences)
    help_menu = window.menuBar().addMenu("&Help")
    help_menu.addAction(actions.about_guarantee)
    help_menu.addAction(actions.shortcuts)
    toolbar = QToolBar("Run", window)
    toolbar.setObjectName("runToolbar")
    for action in (actions.run_pause, actions.step, actions.reset):
        toolbar.addAction(action)
    window.addToolBar(toolbar)
    return actions
