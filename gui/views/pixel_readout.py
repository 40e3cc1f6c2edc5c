"""The pixel readout of the image panels: the values under the mouse, short enough to fit.

Grey: ``(40, 12)  y 0.535  x 0.512  truth 0.498``; colour: ``(40, 12)  y 0.54 0.44 0.53  x …``
(R G B, two decimals), then the optimality error there, ``|d| 0.012 (3.1 %)``: |d_i| and its share
|d_i|²/‖d‖² of ‖d‖² (:mod:`gui.views.optimality_map`). The label never asks for more width than :data:`MIN_WIDTH`: text that does
not fit is elided on the right, and the whole of it is in the tooltip.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
from PySide6.QtCore import QSize, Qt
from PySide6.QtWidgets import QSizePolicy, QWidget
from superqt import QElidingLabel

from .optimality_map import share_text

MIN_WIDTH = 120  # the most width the readout ever claims from the layout
SHOWN = (("observation", "y"), ("x", "x"), ("truth", "truth"))  # panel, short name
TIP = (
    "Values under the mouse: (row, column), then y, x and the truth (colour: R G B), and the "
    "optimality error |d| there with its share |d_i|²/‖d‖² of ‖d‖²"
)


def number_text(value: float, colour: bool = False) -> str:
    """One value, short: three decimals (two for a colour channel), ``g``-style when large."""
    value = float(value)
    if not np.isfinite(value) or abs(value) >= 100:
        return f"{value:.3g}"
    return f"{value:.2f}" if colour else f"{value:.3f}"


def values_text(
    row: int, col: int, arrays: Mapping[str, np.ndarray | None], d_total: float = 0.0
) -> str:
    """``(row, col)`` and the value of each shown panel there ('' when the mouse is off them);
    ``d_total`` is ‖d‖² of the |d| map shown, for its pixel's share."""
    parts = []
    for panel, short in SHOWN:
        arr = arrays.get(panel)
        if arr is None or not (0 <= row < arr.shape[0] and 0 <= col < arr.shape[1]):
            continue
        value = arr[row, col]
        if np.ndim(value) == 0:
            parts.append(f"{short} {number_text(value)}")
        else:
            parts.append(f"{short} " + " ".join(number_text(v, colour=True) for v in value))
    d_map = arrays.get("d")
    if parts and d_map is not None and 0 <= row < d_map.shape[0] and 0 <= col < d_map.shape[1]:
        value = float(d_map[row, col])
        parts.append(f"|d| {value:.3g} ({share_text(value, d_total)})")
    return f"({row}, {col})  " + "  ".join(parts) if parts else ""


class PixelReadout(QElidingLabel):
    """A one-line label that elides what does not fit instead of widening the layout (superqt's
    eliding label: ``text()`` is the whole text, the screen shows it cut with '…')."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        self.setToolTip(TIP)

    def show_values(
        self, row: int, col: int, arrays: Mapping[str, np.ndarray | None], d_total: float = 0.0
    ) -> None:
        """Show the values of ``arrays`` at pixel (row, col) (``d_total``: ‖d‖² of the d map)."""
        self.set_readout(values_text(row, col, arrays, d_total))

    def set_readout(self, text: str) -> None:
        """Show ``text`` (elided when it does not fit; the tooltip holds all of it)."""
        if text != self.text():
            self.setText(text)
            self.setToolTip(f"{text}\n{TIP}" if text else TIP)

    def clear_readout(self) -> None:
        """Nothing under the mouse (or a new problem): an empty readout."""
        self.set_readout("")

    def is_elided(self) -> bool:
        """True when the text is wider than the label (so it is shown cut, with '…')."""
        return self.fontMetrics().horizontalAdvance(self.text()) > self.contentsRect().width()

    def minimumSizeHint(self) -> QSize:
        """Never wider than MIN_WIDTH, whatever the text."""
        hint = super().minimumSizeHint()
        return QSize(min(hint.width(), MIN_WIDTH), hint.height())

    def sizeHint(self) -> QSize:
        """The text's width, at least MIN_WIDTH (the layout may give less: then it is elided)."""
        hint = super().sizeHint()
        return QSize(max(hint.width(), MIN_WIDTH), hint.height())
