"""An editable combo box for text specs with presets and a "File…" entry (kernels, masks)."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QWidget

FILE_ENTRY = "File…"


class SpecCombo(QComboBox):
    """Presets such as ``levin:4`` or ``radial:20``, free text, or a file picked by the window.

    ``committed(text)`` fires when the user picks or types a different spec; ``fileRequested``
    when they choose "File…" (the shown spec stays until the window sets a new one).
    """

    committed = Signal(str)
    fileRequested = Signal()

    def __init__(self, presets: tuple[str, ...], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setEditable(True)
        self.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.addItems([*presets, FILE_ENTRY])
        self._shown = ""
        self.activated.connect(self._on_activated)
        self.lineEdit().editingFinished.connect(self._on_typed)

    def show_spec(self, text: str) -> None:
        """Show ``text`` without signalling."""
        self._shown = text
        self.blockSignals(True)
        self.lineEdit().blockSignals(True)
        self.setEditText(text)
        self.setToolTip(text)
        self.lineEdit().blockSignals(False)
        self.blockSignals(False)

    def _on_activated(self, _index: int) -> None:
        text = self.currentText()
        if text == FILE_ENTRY:
            self.show_spec(self._shown)
            self.fileRequested.emit()
        else:
            self._commit(text)

    def _on_typed(self) -> None:
        self._commit(self.currentText())

    def _commit(self, text: str) -> None:
        text = text.strip()
        if text and text != FILE_ENTRY and text != self._shown:
            self._shown = text
            self.committed.emit(text)
