"""The history scrubber: a slider over the iterates x⁰ … xᴺ of the run and a "Live" button.

At its right end the images follow the newest iterate; anywhere else they show the stored past
iterate (the window does the showing). The bar only reports what the user chose.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QSlider, QWidget


class HistoryBar(QWidget):
    """Slider over iterates 0 … latest; ``scrubbed(k)`` when the user picks one."""

    scrubbed = Signal(int)
    liveRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, 0)
        self.slider.setToolTip(
            "History: drag to see any past iterate x^k (← / → step through it while paused)"
        )
        self.slider.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # ←/→ belong to the window's actions
        self.live_button = QPushButton("Live")
        self.live_button.setCheckable(True)
        self.live_button.setChecked(True)
        self.live_button.setToolTip("Follow the newest iterate")
        self.label = QLabel("history: no run")
        self.label.setMinimumWidth(330)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(4, 0, 4, 0)
        layout.addWidget(QLabel("History"))
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.live_button)
        layout.addWidget(self.label)
        self._live = True
        self.slider.valueChanged.connect(self._on_slider)
        self.live_button.clicked.connect(self._on_live_clicked)
        self.setEnabled(False)

    # ---- public API -----------------------------------------------------------------------
    def latest(self) -> int:
        """The newest iterate index the slider reaches."""
        return self.slider.maximum()

    def position(self) -> int:
        """The iterate index the slider is at."""
        return self.slider.value()

    def is_live(self) -> bool:
        """True while following the newest iterate."""
        return self._live

    def set_latest(self, latest: int) -> None:
        """Extend (or reset) the range to 0 … ``latest``; a live bar moves along (no signal)."""
        self.setEnabled(latest > 0)
        self.slider.blockSignals(True)
        self.slider.setMaximum(max(latest, 0))
        if self._live:
            self.slider.setValue(self.slider.maximum())
        self.slider.blockSignals(False)

    def show_position(self, k: int, live: bool) -> None:
        """Put the slider at ``k`` and show the live state (no signal)."""
        self._live = live
        self.slider.blockSignals(True)
        self.slider.setValue(k)
        self.slider.blockSignals(False)
        self.live_button.setChecked(live)

    def set_text(self, text: str) -> None:
        """The line beside the slider (what is shown, thinning)."""
        self.label.setText(text)

    # ---- internals ------------------------------------------------------------------------
    def _on_slider(self, value: int) -> None:
        if value >= self.slider.maximum():
            self.liveRequested.emit()
        else:
            self.scrubbed.emit(value)

    def _on_live_clicked(self, checked: bool) -> None:
        if checked:
            self.liveRequested.emit()
        else:  # "un-following" pins the iterate shown now
            self.scrubbed.emit(self.slider.value())
