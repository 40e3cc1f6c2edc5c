"""A log-scale slider paired with an exact spin box, kept in sync.

The slider spans ``low … high``; the box takes any value its checker accepts (also outside the
slider's span, which then sits at its end) and refuses the rest with a message (``refused``).

The slider never jumps: its handle follows the mouse from where it was grabbed (with Shift held,
ten times finer), and a click beside the handle moves one page — a tenth of a decade — towards the
click, whatever the style's habit (some jump straight to the click: C went 0.0058 → 0.116).
superqt has labeled and float sliders but no log-scale one, so this one is ours.
"""

from __future__ import annotations

import math

from PySide6.QtCore import QRect, Qt, Signal
from PySide6.QtGui import QMouseEvent
from PySide6.QtWidgets import QHBoxLayout, QSlider, QStyle, QStyleOptionSlider, QWidget

from .guarded_spin import Checker, Commit, GuardedSpinBox

SLIDER_STEPS = 1000
FINE_GAIN = 0.1  # a Shift-drag moves the handle this much per pixel of mouse motion
PAGE_DECADES = 0.1  # a click beside the handle, or Page Up / Down, moves this far


def significant(value: float, digits: int = 3) -> float:
    """``value`` rounded to ``digits`` significant digits (for slider-made values)."""
    if value == 0 or not math.isfinite(value):
        return value
    return round(value, digits - 1 - int(math.floor(math.log10(abs(value)))))


class FineSlider(QSlider):
    """A horizontal slider that never jumps: a drag moves the handle relative to where it was
    grabbed (Shift: :data:`FINE_GAIN` as fast), a click beside it is one page step towards it."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(Qt.Orientation.Horizontal, parent)
        self._grab: tuple[float, float] | None = None  # (last mouse x, exact position)

    def handle_rect(self) -> QRect:
        """The handle's rectangle in widget coordinates."""
        option = QStyleOptionSlider()
        self.initStyleOption(option)
        return self.style().subControlRect(
            QStyle.ComplexControl.CC_Slider, option, QStyle.SubControl.SC_SliderHandle, self
        )

    def steps_per_pixel(self) -> float:
        """Slider steps one pixel of mouse motion moves the handle (without Shift)."""
        travel = max(1, self.width() - self.handle_rect().width())
        return (self.maximum() - self.minimum()) / travel

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        """Grab the handle, or step one page towards a click beside it."""
        if event.button() != Qt.MouseButton.LeftButton:
            super().mousePressEvent(event)
            return
        x = event.position().x()
        handle = self.handle_rect()
        if handle.contains(event.position().toPoint()):
            self._grab = (x, float(self.value()))
            self.setSliderDown(True)
        elif x > handle.center().x():
            self.triggerAction(QSlider.SliderAction.SliderPageStepAdd)
        else:
            self.triggerAction(QSlider.SliderAction.SliderPageStepSub)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        """Move the grabbed handle by the mouse's motion (finer with Shift held)."""
        if self._grab is None:
            super().mouseMoveEvent(event)
            return
        last_x, position = self._grab
        x = event.position().x()
        fine = bool(event.modifiers() & Qt.KeyboardModifier.ShiftModifier)
        position += (x - last_x) * self.steps_per_pixel() * (FINE_GAIN if fine else 1.0)
        position = min(max(position, float(self.minimum())), float(self.maximum()))
        self._grab = (x, position)
        self.setSliderPosition(round(position))
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt's name)
        """Let go of the handle."""
        if self._grab is None:
            super().mouseReleaseEvent(event)
            return
        self._grab = None
        self.setSliderDown(False)
        event.accept()


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
        self.slider = FineSlider()
        self.slider.setRange(0, SLIDER_STEPS)
        page = SLIDER_STEPS * PAGE_DECADES / (self._high - self._low)
        self.slider.setPageStep(max(1, round(page)))
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
