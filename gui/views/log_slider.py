"""A log-scale slider paired with an exact spin box, kept in sync.

The slider spans ``low … high``; the box takes any value its checker accepts (also outside the
slider's span, which then sits at its end) and refuses the rest with a message (``refused``).
"""

from __future__ import annotations

import math

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QSlider, QWidget

from .guarded_spin import Checker, Commit, GuardedSpinBox

SLIDER_STEPS = 1000


def significant(value: float, digits: int = 3) -> float:
    """``value`` rounded to ``digits`` significant digits (for slider-made values)."""
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - int(math.floor(math.log10(abs(value)))))


class LogSliderSpin(QWidget):
    """Slider on log10(value) plus a QDoubleSpinBox holding the exact value.

    ``valueChanged`` is emitted once per slider move or spin box change, never for
    :meth:`set_value` calls with ``emit=False``; a typed value goes to ``commit`` when one is given
    (see :class:`GuardedSpinBox`).
    """

    valueChanged = Signal(float)
    refused = Signal(str)

    def __init__(
        self,
        low: float,
        high: float,
        checker: Checker | None = None,
        limits: tuple[float, float] | None = None,
        label: str = "value",
        parent: QWidget | None = None,
        commit: Commit | None = None,
    ) -> None:
        super().__init__(parent)
        self._low, self._high = math.log10(low), math.log10(high)
        self.slider = QSlider(Qt.Orientation.Horizontal)
        self.slider.setRange(0, SLIDER_STEPS)
        self.slider.setMinimumWidth(90)
        minimum, maximum = limits or (low, high)
        self.spin = GuardedSpinBox(
            checker or (lambda _value: None), minimum, maximum, label=label, commit=commit
        )
        self.spin.setMinimumWidth(95)
        self.spin.refused.connect(self.refused)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.slider, 1)
        layout.addWidget(self.spin)
        self.slider.valueChanged.connect(self._on_slider)
        self.spin.valueChanged.connect(self._on_spin)

    def value(self) -> float:
        """The spin box's value."""
        return self.spin.value()

    def set_value(self, value: float, emit: bool = False) -> None:
        """Show ``value`` (clamped to the range); emit ``valueChanged`` only if ``emit``."""
        if emit:
            self.spin.setValue(value)
        else:
            self.spin.show_value(value)
        self._sync_slider(self.spin.value())

    def _sync_slider(self, value: float) -> None:
        clamped = min(max(value, 10**self._low), 10**self._high)
        position = (math.log10(clamped) - self._low) / (self._high - self._low)
        self.slider.blockSignals(True)
        self.slider.setValue(round(position * SLIDER_STEPS))
        self.slider.blockSignals(False)

    def _on_slider(self, position: int) -> None:
        exponent = self._low + (self._high - self._low) * position / SLIDER_STEPS
        self.spin.setValue(significant(10**exponent))  # emits through _on_spin

    def _on_spin(self, value: float) -> None:
        self._sync_slider(value)
        self.valueChanged.emit(value)
