"""Issue 30: the C slider never jumps — a drag moves the handle with the mouse (Shift: ten times
finer), a click beside the handle moves one page (a tenth of a decade), whatever the style does."""

from __future__ import annotations

import math

import pytest
from PySide6.QtCore import QEvent, QPoint, QPointF, Qt
from PySide6.QtGui import QMouseEvent
from PySide6.QtTest import QTest

from gui.views.log_slider import FINE_GAIN, PAGE_DECADES, LogSliderSpin

WIDTH = 139  # the C slider's width in the default window (5 decades on it)


@pytest.fixture
def slider_c(qtbot):
    widget = LogSliderSpin(1e-4, 10.0, label="C")
    qtbot.addWidget(widget)
    widget.slider.setFixedWidth(WIDTH)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_value(0.0058)
    return widget


def _drag(slider, dx: int, shift: bool = False) -> None:
    """Grab the handle and move the mouse ``dx`` pixels, one at a time (Shift held or not)."""
    start = slider.handle_rect().center()
    none = Qt.KeyboardModifier.NoModifier
    QTest.mousePress(slider, Qt.MouseButton.LeftButton, none, start)
    modifiers = Qt.KeyboardModifier.ShiftModifier if shift else none
    for step in range(1, dx + 1):  # QTest.mouseMove takes no modifiers: send the event
        position = QPointF(start + QPoint(step, 0))
        slider.mouseMoveEvent(
            QMouseEvent(
                QEvent.Type.MouseMove,
                position,
                slider.mapToGlobal(position),
                Qt.MouseButton.NoButton,
                Qt.MouseButton.LeftButton,
                modifiers,
            )
        )
    QTest.mouseRelease(slider, Qt.MouseButton.LeftButton, none, start + QPoint(dx, 0))


def _decades(a: float, b: float) -> float:
    return abs(math.log10(b) - math.log10(a))


def test_a_drag_of_a_few_pixels_moves_c_a_few_pixels_worth(slider_c):
    before = slider_c.value()
    _drag(slider_c.slider, 3)
    moved = _decades(before, slider_c.value())
    per_pixel = 5 / (WIDTH - slider_c.slider.handle_rect().width())  # decades per pixel
    assert 0 < moved <= 3 * per_pixel * 1.2 + 0.002  # rounding to 3 significant digits
    assert slider_c.value() < 2 * before  # far from the ×20 jump the issue saw


def test_a_shift_drag_is_ten_times_finer(slider_c):
    slider = slider_c.slider
    before = slider_c.value()
    _drag(slider, 20, shift=True)
    fine = _decades(before, slider_c.value())
    coarse_per_pixel = 5 / (WIDTH - slider.handle_rect().width())
    assert fine == pytest.approx(20 * coarse_per_pixel * FINE_GAIN, abs=0.006)


def test_a_click_beside_the_handle_moves_one_page_towards_it(slider_c):
    slider = slider_c.slider
    before = slider_c.value()
    far_right = QPoint(slider.width() - 2, slider.height() // 2)
    QTest.mouseClick(slider, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, far_right)
    assert _decades(before, slider_c.value()) == pytest.approx(PAGE_DECADES, abs=0.006)
    assert slider_c.value() > before
    QTest.mouseClick(
        slider, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(1, 5)
    )
    assert slider_c.value() == pytest.approx(before, rel=0.02)
