"""The dialog shown when a run would be slow: downscale the image, or keep it as it is."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QPushButton, QWidget

from core.speed import SlowRun, rate_text, slow_run_text

from .memory_dialog import DOWNSCALE

KEEP = "keep"


class SpeedDialog(QMessageBox):
    """Offers the downscale that makes a run interactive; :meth:`choice` reads the answer."""

    def __init__(self, slow: SlowRun, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("A slow run")
        self.setIcon(QMessageBox.Icon.Information)
        self.setText(f"{slow_run_text(slow)}.")
        size = "the full size" if slow.current == 1 else f"this size (÷ {slow.current})"
        self.downscale_button: QPushButton | None = None
        if slow.can_downscale():
            factor = slow.suggested
            self.setInformativeText(
                f"Area-averaging the image by {factor} makes it about "
                f"{rate_text(slow.seconds_at(factor))}. "
                f"You can keep {size}: the run works, only slowly."
            )
            self.downscale_button = self.addButton(
                f"Use downscale ÷ {factor}", QMessageBox.ButtonRole.AcceptRole
            )
        else:
            self.setInformativeText(
                "No downscale makes it interactive and keeps the image usable. "
                "The run works, only slowly."
            )
        keep = "Keep full size" if slow.current == 1 else f"Keep ÷ {slow.current}"
        self.keep_button = self.addButton(keep, QMessageBox.ButtonRole.RejectRole)
        self.setDefaultButton(self.downscale_button or self.keep_button)
        self.setEscapeButton(self.keep_button)

    def choice(self) -> str:
        """``downscale`` or ``keep`` (closed without a button: keep — the problem stays)."""
        clicked = self.clickedButton()
        if clicked is not None and clicked is self.downscale_button:
            return DOWNSCALE
        return KEEP
