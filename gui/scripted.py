"""Driving the real window from the command line: run N iterations, export, screenshot, quit."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer, Slot
from PySide6.QtWidgets import QApplication

from .main_window import MainWindow

EXIT_OK, EXIT_ENGINE_ERROR, EXIT_BAD_INPUT = 0, 1, 2


class ScriptedDriver(QObject):
    """Starts the run if asked, and when it stops exports / grabs the window / quits."""

    def __init__(
        self,
        window: MainWindow,
        run: bool,
        quit_after: int | None,
        export_dir: str | None,
        screenshot: str | None,
    ) -> None:
        super().__init__(window)
        self.window = window
        self.run = run or quit_after is not None
        self.quit_after = quit_after
        self.export_dir = export_dir
        self.screenshot = screenshot
        self.quits = quit_after is not None or screenshot is not None
        self._done = False

    def start(self) -> None:
        """Begin (called once the event loop runs)."""
        self.window.errorRaised.connect(self._on_error)
        if not self.run:
            if self.quits or self.export_dir:
                QTimer.singleShot(0, self._finish)
            return
        if self.quit_after is not None:
            self.window.solver_panel.set_limit(self.quit_after)
        self.window.runner.limitReached.connect(self._finish)
        self.window.runner.ended.connect(self._finish)
        self.window.runner.start_run(running=True)

    @Slot()
    def _finish(self) -> None:
        if self._done:
            return
        self._done = True
        self.window.runner.refresh_now()
        code = EXIT_OK
        if self.export_dir and not self.window.files.export_to(self.export_dir):
            code = EXIT_BAD_INPUT
        if code == EXIT_OK and self.screenshot:
            QApplication.processEvents()
            if not self.window.files.save_screenshot(Path(self.screenshot)):
                code = EXIT_BAD_INPUT
        if self.quits:
            QApplication.instance().exit(code)

    @Slot(str)
    def _on_error(self, _message: str) -> None:
        if self.quits and not self._done:
            self._done = True
            QApplication.instance().exit(EXIT_ENGINE_ERROR)
