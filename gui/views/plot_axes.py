"""Axes of the convergence plots: a log axis that always shows at least two readable labels, and an
iteration axis with whole-number ticks.

pyqtgraph's log axis only ticks at 1…9·10ⁿ, so a range narrower than a decade (Ψ going from 3.25 to
3.20, the usual case once a run settles) gets one tick or none. :class:`LogAxis` then ticks at
round linear values (3.20, 3.21, …) with as many digits as they need.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtGui import QImage, QPainter

MIN_LOG_TICKS = 3  # fewer pyqtgraph log ticks than this in range: tick at round linear values
LINEAR_TICK_PIXELS = 28  # aimed-at distance between two linear ticks


def nice_linear_ticks(low: float, high: float, pixels: float) -> tuple[float, list[float]]:
    """(spacing, values): round values 1·/2·/5·10ⁿ apart in [low, high], at least two of them,
    about LINEAR_TICK_PIXELS apart on an axis ``pixels`` long."""
    low, high = sorted((float(low), float(high)))
    span = high - low
    if not (math.isfinite(span) and span > 0):
        return 0.0, []
    wanted = max(2, min(6, int(pixels / LINEAR_TICK_PIXELS)))
    top = math.floor(math.log10(span))
    for exponent in range(top, top - 4, -1):
        for mantissa in (5.0, 2.0, 1.0):
            spacing = mantissa * 10.0**exponent
            first = math.ceil(low / spacing - 1e-9)
            last = math.floor(high / spacing + 1e-9)
            if last - first + 1 >= wanted:
                return spacing, [i * spacing for i in range(first, last + 1)]
    return span, [low, high]


def linear_tick_string(value: float, spacing: float) -> str:
    """``value`` with the digits that ``spacing`` calls for (3.20, 3.21 …; 1.2345e+05 …)."""
    if value == 0:
        return "0"
    magnitude = abs(value)
    if 1e-3 <= magnitude < 1e4:
        places = max(0, -math.floor(math.log10(spacing) + 1e-9))
        return f"{value:.{places}f}"
    digits = max(1, math.floor(math.log10(magnitude)) - math.floor(math.log10(spacing) + 1e-9) + 1)
    return f"{value:.{digits}g}"


class LogAxis(pg.AxisItem):
    """A log axis that thins its labels to what fits (all, then 1·/2·/5·10ⁿ, then 10ⁿ), never
    prints two labels closer than LABEL_PIXELS, and ticks at round linear values when the range
    holds too few log ticks (narrower than about a decade), so it always shows two labels or more."""

    LABEL_PIXELS = 16

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._linear_spacing: float | None = None

    def tickValues(self, minVal, maxVal, size) -> list:  # noqa: N803 (pyqtgraph's names)
        """pyqtgraph's log ticks, or round linear ones where those are too few in range."""
        levels = super().tickValues(minVal, maxVal, size)
        if not self.logMode:
            self._linear_spacing = None
            return levels
        low, high = sorted((float(minVal), float(maxVal)))
        inside = {round(v, 9) for _, values in levels for v in values if low <= v <= high}
        if len(inside) >= MIN_LOG_TICKS or not (math.isfinite(low) and math.isfinite(high)):
            self._linear_spacing = None
            return levels
        spacing, values = nice_linear_ticks(10.0**low, 10.0**high, size)
        values = [v for v in values if v > 0]
        if len(values) < 2:
            self._linear_spacing = None
            return levels
        self._linear_spacing = spacing
        return [(spacing, [math.log10(v) for v in values])]

    def logTickStrings(self, values, scale, spacing) -> list[str]:
        """pyqtgraph's labels (or round linear ones), with crowded ones left blank."""
        if self._linear_spacing is not None:
            strings = [
                linear_tick_string(float(10.0 ** float(v)) * scale, self._linear_spacing * scale)
                for v in values
            ]
            mantissas = [0.0] * len(values)
            return self._spaced(values, mantissas, strings)
        strings = super().logTickStrings(values, scale, spacing)
        fit = max(2, int(self.geometry().height() / self.LABEL_PIXELS))
        mantissas = [round(10 ** (float(v) % 1.0), 3) for v in values]
        chosen = strings
        for keep in ((1, 2, 5), (1,)):
            if sum(1 for text in chosen if text) <= fit:
                break
            out = [
                text if any(abs(m - k) < 1e-2 for k in keep) else ""
                for text, m in zip(strings, mantissas, strict=False)
            ]
            if sum(1 for text in out if text) < 2:
                break  # thinner would leave fewer than two labels: the spacing below thins
            chosen = out
        return self._spaced(values, mantissas, chosen)

    def _spaced(self, values, mantissas: list[float], labels: list[str]) -> list[str]:
        """Blank labels closer than LABEL_PIXELS to a kept one (decades are kept first)."""
        low, high = self.range
        height = self.geometry().height()
        if high == low or height <= 0:
            return labels
        order = sorted(range(len(labels)), key=lambda i: (abs(mantissas[i] - 1) > 1e-2, i))
        kept: list[float] = []
        out = list(labels)
        for i in order:
            if not out[i]:
                continue
            pixel = (float(values[i]) - low) / (high - low) * height
            if any(abs(pixel - other) < self.LABEL_PIXELS for other in kept):
                out[i] = ""
            else:
                kept.append(pixel)
        return out


class IterationAxis(pg.AxisItem):
    """An iteration axis: ticks on whole numbers only, never an SI scale ("(x0.001)" at k = 1)."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.enableAutoSIPrefix(False)

    def tickValues(self, minVal, maxVal, size) -> list:  # noqa: N803 (pyqtgraph's names)
        """pyqtgraph's ticks without the fractional ones."""
        levels = super().tickValues(minVal, maxVal, size)
        return [
            (max(spacing, 1.0), [v for v in values if abs(v - round(v)) < 1e-9])
            for spacing, values in levels
        ]


def tick_labels(axis: pg.AxisItem) -> list[str]:
    """The non-blank labels ``axis`` prints for its current range and size, as its paint does."""
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        if axis.style["tickFont"] is not None:
            painter.setFont(axis.style["tickFont"])
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    if not specs:
        return []
    return list(dict.fromkeys(text for _rect, _flags, text in specs[2] if text))
