"""Settings → Preferences…: the iterate-history memory budget (remembered across launches)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from .. import settings


class PreferencesDialog(QDialog):
    """Edit the memory budget; :meth:`budget_mb` reads the choice."""

    def __init__(self, budget_mb: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.budget_spin = QSpinBox()
        self.budget_spin.setRange(*settings.BUDGET_RANGE_MB)
        self.budget_spin.setSingleStep(64)
        self.budget_spin.setSuffix(" MB")
        self.budget_spin.setValue(budget_mb)
        note = QLabel(
            "Every iterate is kept for the history scrubber and the movie until this much memory "
            "is used; then older iterates are thinned evenly (every 2nd, then every 4th, …). "
            "The scalar trace is always kept in full. A change applies at once."
        )
        note.setWordWrap(True)
        form = QFormLayout()
        form.addRow("Iterate history budget", self.budget_spin)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(note)
        layout.addWidget(buttons)

    def budget_mb(self) -> int:
        """The chosen budget in MB."""
        return self.budget_spin.value()
