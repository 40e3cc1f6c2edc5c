"""The dialog shown when a problem would not fit in memory: downscale it, load it anyway, or not."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget

from core.memory import MemoryShortfall, shortfall_text

DOWNSCALE, ANYWAY, CANCEL = "downscale", "anyway", "cancel"


class MemoryDialog(QMessageBox):
    """Offers the suggested downscale factor; :meth:`choice` reads the answer after ``exec``."""

    def __init__(self, shortfall: MemoryShortfall, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Not enough memory")
        self.setIcon(QMessageBox.Icon.Warning)
        self.setText(f"{shortfall_text(shortfall)}.")
        if shortfall.can_downscale():
            more = "" if shortfall.current == 1 else f" (now ÷ {shortfall.current})"
            self.setInformativeText(
                f"Area-averaging the image by {shortfall.suggested}{more} makes it fit. "
                "Cancel keeps the problem you had."
            )
        else:
            self.setInformativeText("Even the largest downscale does not make it fit.")
        self.downscale_button: QPushButton | None = None
        if shortfall.can_downscale():
            self.downscale_button = self.addButton(
                f"Use downscale ÷ {shortfall.suggested}", QMessageBox.ButtonRole.AcceptRole
            )
            self.setDefaultButton(self.downscale_button)
        self.anyway_button = self.addButton("Load anyway", QMessageBox.ButtonRole.DestructiveRole)
        self.anyway_button.setToolTip("The estimate is generous; the run may still fit, or swap")
        self.cancel_button = self.addButton(QMessageBox.StandardButton.Cancel)
        self.setEscapeButton(self.cancel_button)

    def choice(self) -> str:
        """``downscale``, ``anyway`` or ``cancel`` (closed without a button: cancel)."""
        clicked = self.clickedButton()
        if clicked is not None and clicked is self.downscale_button:
            return DOWNSCALE
        if clicked is self.anyway_button:
            return ANYWAY
        return CANCEL
