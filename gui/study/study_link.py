"""The explorer's one Study window: made on first use, shown on File → Open / New study, closed
with the explorer; a cell double-clicked there comes out as ``cellOpened``."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtWidgets import QWidget

from .study_window import StudyWindow


class StudyLink(QObject):
    """The Study window of one explorer window."""

    cellOpened = Signal(object)  # the core.session.Session replaying a double-clicked cell

    def __init__(self, parent: QWidget) -> None:
        super().__init__(parent)
        self._parent = parent
        self._window: StudyWindow | None = None

    def window(self, show: bool = False) -> StudyWindow:
        """The Study window (made once), raised when ``show``."""
        if self._window is None:
            self._window = StudyWindow(self._parent)
            self._window.cellOpened.connect(self.cellOpened)
        if show:
            self._window.show()
            self._window.raise_()
        return self._window

    @Slot()
    def open_study(self) -> None:
        """File → Open study…: choose a study folder and show its heatmaps."""
        self.window(show=True).choose_study()

    @Slot()
    def new_study(self) -> None:
        """File → New study…: choose a spec and an output folder, run it and watch it fill in."""
        self.window(show=True).choose_spec()

    def close(self) -> None:
        """Close the Study window (a running study is cancelled there)."""
        if self._window is not None:
            self._window.close()
