"""A folder picker that takes a folder which does not exist yet (it is made when used).

``QFileDialog.getExistingDirectory`` refuses a typed name that is not a folder already; the New
study picker must accept one (the study creates it when it starts).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QWidget


class NewFolderDialog(QFileDialog):
    """Choose a folder, existing or new (Qt's own dialog: a native one cannot be told to accept
    a missing folder)."""

    def __init__(self, parent: QWidget | None, title: str, start: str | Path = "") -> None:
        super().__init__(parent, title, str(start))
        self.setFileMode(QFileDialog.FileMode.Directory)
        self.setOption(QFileDialog.Option.ShowDirsOnly, True)
        self.setOption(QFileDialog.Option.DontUseNativeDialog, True)
        self.setLabelText(QFileDialog.DialogLabel.Accept, "Choose")

    def folder(self) -> str:
        """The folder chosen (or typed): "" when none."""
        chosen = self.selectedFiles()
        return chosen[0] if chosen else ""

    def accept(self) -> None:
        """Take a typed folder that does not exist yet (Qt's dialog would refuse it)."""
        folder = self.folder()
        if folder and not Path(folder).exists() and Path(folder).parent.is_dir():
            self.done(QFileDialog.DialogCode.Accepted)
            return
        super().accept()


def choose_folder(parent: QWidget | None, title: str, start: str | Path = "") -> str:
    """Ask for a folder, existing or not yet made; "" when cancelled."""
    dialog = NewFolderDialog(parent, title, start)
    if dialog.exec() != QFileDialog.DialogCode.Accepted:
        return ""
    return dialog.folder()
