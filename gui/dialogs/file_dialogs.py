"""The window's file pickers and its "Open recent" menu; a chosen path goes out as ``chosen``.

Every picker is one entry of :data:`PICKERS` (what it asks for, which files it shows, the name a
save picker proposes) and one call of :meth:`FileDialogs.choose`. Pickers start in the folder used
last (remembered across launches, :mod:`gui.settings`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from core.io import IMAGE_SUFFIXES

from .. import settings
from ..recent_files import RecentFiles

IMAGE_FILTER = "Images (" + " ".join(f"*{s}" for s in IMAGE_SUFFIXES) + ");;All files (*)"
OPTION_FILE_FILTER = "Arrays and images (*.npy *.mat *.png *.tif *.tiff);;All files (*)"
MODULE_FILTER = "TorchScript (*.pt *.pth *.ts);;All files (*)"
SESSION_FILTER = "Sessions (*.toml)"


@dataclass(frozen=True)
class Picker:
    """One file picker: its title, its file filter, and for a save picker the proposed name."""

    title: str
    filter: str
    save_as: str = ""  # a save picker proposes this file name in the last folder; "": open


PICKERS = {  # kind → picker; the kind names what the path is for (see WindowFiles.use_path)
    "image": Picker("Open image", IMAGE_FILTER),
    "kernel": Picker("Open blur kernel", OPTION_FILE_FILTER),
    "mask": Picker("Open mask file", OPTION_FILE_FILTER),
    "module": Picker("Your own TorchScript denoiser", MODULE_FILTER),
    "session": Picker("Open session", SESSION_FILTER),
    "session_target": Picker("Save session", SESSION_FILTER, "session.toml"),
    "screenshot": Picker("Save screenshot", "PNG (*.png)", "fima-explorer.png"),
}


class FileDialogs(QObject):
    """File → Open / Save … pickers and the recent-files menu of the explorer window."""

    chosen = Signal(str, str)  # kind (a key of PICKERS), path

    def __init__(self, parent: QWidget, recent_menu: QMenu) -> None:
        super().__init__(parent)
        self._parent = parent
        self.recent = RecentFiles()
        self.recent_menu = recent_menu

    # ---- pickers --------------------------------------------------------------------------
    @Slot(str)
    def choose(self, kind: str) -> str | None:
        """Ask for a file for ``kind`` (``image``, ``kernel``, ``session_target`` …); emits
        ``chosen`` with the path and returns it (None when the user cancels)."""
        picker = PICKERS[kind]
        start = settings.last_folder()
        if picker.save_as:
            target = str(Path(start) / picker.save_as)
            path, _ = QFileDialog.getSaveFileName(self._parent, picker.title, target, picker.filter)
        else:
            path, _ = QFileDialog.getOpenFileName(self._parent, picker.title, start, picker.filter)
        if not path:
            return None
        if kind != "session_target":  # saving a session remembers its folder once it is written
            settings.remember_folder(path)
        self.chosen.emit(kind, path)
        return path

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
            self.chosen.emit("image", action.data())

    @Slot()
    def _clear_recent(self) -> None:
        self.recent.clear()
        self.update_recent_menu()
