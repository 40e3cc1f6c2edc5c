"""The window's file pickers and its "Open recent" menu; each hands its path to the window.

Pickers start in the folder used last (remembered across launches, :mod:`gui.settings`).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Slot
from PySide6.QtWidgets import QFileDialog, QMenu

from core.io import IMAGE_SUFFIXES

from .. import settings
from ..recent_files import RecentFiles

IMAGE_FILTER = "Images (" + " ".join(f"*{s}" for s in IMAGE_SUFFIXES) + ");;All files (*)"
OPTION_FILE_FILTER = "Arrays and images (*.npy *.mat *.png *.tif *.tiff);;All files (*)"
MODULE_FILTER = "TorchScript (*.pt *.pth *.ts);;All files (*)"
SESSION_FILTER = "Sessions (*.toml)"


class FileDialogs(QObject):
    """File → Open / Save … dialogs and the recent-files menu of a :class:`MainWindow`."""

    def __init__(self, window, recent_menu: QMenu) -> None:
        super().__init__(window)
        self.window = window
        self.recent = RecentFiles()
        self.recent_menu = recent_menu

    # ---- pickers --------------------------------------------------------------------------
    @Slot()
    def choose_image(self) -> None:
        """File → Open image…"""
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Open image", self._start_dir(), IMAGE_FILTER
        )
        if path:
            settings.remember_folder(path)
            self.window.open_image(path)

    @Slot(str)
    def choose_option_file(self, option: str) -> None:
        """Pick a file for a task option: a blur kernel or a sampling mask."""
        title = "Open blur kernel" if option == "kernel" else f"Open {option} file"
        path, _ = QFileDialog.getOpenFileName(
            self.window, title, self._start_dir(), OPTION_FILE_FILTER
        )
        if path:
            settings.remember_folder(path)
            self.window.set_option(option, path)

    @Slot()
    def choose_torchscript(self) -> None:
        """Pick your own TorchScript denoiser."""
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Your own TorchScript denoiser", self._start_dir(), MODULE_FILTER
        )
        if path:
            settings.remember_folder(path)
            self.window.set_module(path)

    @Slot()
    def choose_session(self) -> None:
        """File → Open session…"""
        path, _ = QFileDialog.getOpenFileName(
            self.window, "Open session", self._start_dir(), SESSION_FILTER
        )
        if path:
            settings.remember_folder(path)
            self.window.load_session_file(path)

    @Slot()
    def choose_session_target(self) -> None:
        """File → Save session as…"""
        path, _ = QFileDialog.getSaveFileName(
            self.window,
            "Save session",
            str(Path(self._start_dir()) / "session.toml"),
            SESSION_FILTER,
        )
        if path:
            self.window.save_session_file(path)

    @Slot()
    def choose_screenshot_target(self) -> None:
        """File → Save screenshot…"""
        path, _ = QFileDialog.getSaveFileName(
            self.window,
            "Save screenshot",
            str(Path(self._start_dir()) / "fima-explorer.png"),
            "PNG (*.png)",
        )
        if path:
            settings.remember_folder(path)
            self.window.save_screenshot(path)

    def _start_dir(self) -> str:
        return settings.last_folder()

    # ---- recent files ---------------------------------------------------------------------
    def remember(self, path: str | Path) -> None:
        """Put ``path`` first in the recent files."""
        self.recent.add(path)
        self.update_recent_menu()

    def update_recent_menu(self) -> None:
        """Rebuild the "Open recent" menu."""
        menu = self.recent_menu
        menu.clear()
        paths = self.recent.paths()
        for path in paths:
            action = menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.setData(path)
            action.triggered.connect(self._open_recent)
        if not paths:
            menu.addAction("(none)").setEnabled(False)
        else:
            menu.addSeparator()
            menu.addAction("Clear list").triggered.connect(self._clear_recent)

    @Slot()
    def _open_recent(self) -> None:
        action = self.sender()
        if action is not None and action.data():
            self.window.open_image(action.data())

    @Slot()
    def _clear_recent(self) -> None:
        self.recent.clear()
        self.update_recent_menu()
