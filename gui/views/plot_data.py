"""The plots' numpy copy of a run's trace columns, grown by the new rows only.

A redraw needs every plotted column of every variant as a float array. Converting the history's
row lists on every redraw costs O(rows) in Python per column (about 9 ms a redraw at 20,000 rows,
growing with the run); here each row is converted once, into arrays that grow by doubling, and a
redraw takes views of them.
"""

from __future__ import annotations

import math

import numpy as np

from core.acceptance import running_acceptance_rate

from ..state.run_history import RunHistory

COLUMNS = ("k", "objective", "step", "residual", "tolerance", "accepted", "skipped", "psnr", "ssim")
INITIAL_CAPACITY = 1024


def _value(row: dict, name: str) -> float:
    value = row.get(name, math.nan)
    return float(value) if value is not None else math.nan


class VariantColumns:
    """One variant's plotted columns: every row, appended in order."""

    def __init__(self, variant: str = "") -> None:
        self.variant = variant
        self.count = 0
        self.last_row: dict | None = None  # the newest row appended (to notice a replaced history)
        self._data = np.empty((len(COLUMNS), INITIAL_CAPACITY), dtype=np.float64)

    def append(self, rows: list[dict]) -> None:
        """Convert ``rows`` and append them."""
        if not rows:
            return
        new = np.array([[_value(row, name) for name in COLUMNS] for row in rows]).T
        end = self.count + new.shape[1]
        if end > self._data.shape[1]:
            capacity = max(end, 2 * self._data.shape[1])
            data = np.empty((len(COLUMNS), capacity), dtype=np.float64)
            data[:, : self.count] = self._data[:, : self.count]
            self._data = data
        self._data[:, self.count : end] = new
        self.count = end
        self.last_row = rows[-1]

    def column(self, name: str) -> np.ndarray:
        """A read-only view of one column (valid until the next append)."""
        view = self._data[COLUMNS.index(name), : self.count]
        view.flags.writeable = False
        return view

    def acceptance_rate(self) -> np.ndarray:
        """The acceptance rate after each iteration (core.acceptance: accepted ÷ proposals made)."""
        return running_acceptance_rate(
            self.variant, self.column("accepted"), self.column("skipped")
        )


def _continues(columns: VariantColumns, rows: list[dict]) -> bool:
    """True if ``rows`` still begin with the rows ``columns`` hold (its newest is in place)."""
    if columns.count == 0:
        return True
    return len(rows) >= columns.count and rows[columns.count - 1] is columns.last_row


class PlotColumns:
    """Every variant's columns, kept in step with a :class:`RunHistory`."""

    def __init__(self) -> None:
        self._variants: dict[str, VariantColumns] = {}
        self._history: RunHistory | None = None

    def clear(self) -> None:
        """Forget everything."""
        self._variants.clear()
        self._history = None

    def sync(self, history: RunHistory) -> None:
        """Append the rows ``history`` gained since the last call (rebuild if it was replaced or
        cleared in between)."""
        if history is not self._history:
            self._variants.clear()
            self._history = history
        for variant in history.variants:
            columns = self._variants.get(variant)
            rows = history.rows(variant)
            if columns is None or not _continues(columns, rows):
                columns = self._variants[variant] = VariantColumns(variant)
            if len(rows) > columns.count:
                columns.append(rows[columns.count :])
        for variant in [v for v in self._variants if history.count(v) == 0]:
            del self._variants[variant]

    def get(self, variant: str) -> VariantColumns | None:
        """The columns of ``variant`` (None without rows)."""
        return self._variants.get(variant)


def visible_slice(x: np.ndarray, x_range: tuple[float, float] | None) -> slice:
    """The indices of sorted ``x`` inside ``x_range`` and one point beyond each end (the line
    runs on to the plot's edges); everything when ``x_range`` is None."""
    if x_range is None or x.size == 0:
        return slice(0, x.size)
    start = max(0, int(np.searchsorted(x, x_range[0], side="left")) - 1)
    stop = min(x.size, int(np.searchsorted(x, x_range[1], side="right")) + 1)
    return slice(start, stop)


def decimate(
    x: np.ndarray, y: np.ndarray, x_range: tuple[float, float] | None, pixels: int
) -> tuple[np.ndarray, np.ndarray]:
    """A curve reduced to what ``pixels`` columns can show: the points in ``x_range`` (sorted
    ``x``), and past 2 per pixel, the min and max of each run of points ("peak"), NaN-aware (a
    run with no finite value stays a gap). The first and last points are kept exactly, so the
    extent (and auto-range) never depends on the decimation and the curve ends at the last k."""
    part = visible_slice(x, x_range)
    x, y = x[part], y[part]
    n = x.size
    pixels = max(1, int(pixels))
    if n <= 2 * pixels:
        return x, y
    per = -(-(n - 2) // pixels)  # points per run, inner points only
    inner = n - 2
    bins = -(-inner // per)
    padded = np.full(bins * per, np.nan)
    padded[:inner] = y[1:-1]
    runs = padded.reshape(bins, per)
    with np.errstate(invalid="ignore"):
        high, low = np.fmax.reduce(runs, axis=1), np.fmin.reduce(runs, axis=1)
    xs = np.empty(2 * bins + 2)
    ys = np.empty(2 * bins + 2)
    xs[0], ys[0], xs[-1], ys[-1] = x[0], y[0], x[-1], y[-1]
    starts = x[1:-1][::per]
    xs[1:-1:2], xs[2:-1:2] = starts, starts
    ys[1:-1:2], ys[2:-1:2] = high, low
    return xs, ys


def decimate_markers(
    x: np.ndarray, y: np.ndarray, x_range: tuple[float, float] | None, pixels: int
) -> tuple[np.ndarray, np.ndarray]:
    """Markers (sorted ``x``) in ``x_range``, at most one a pixel column (the first in each); the
    last marker is always kept."""
    part = visible_slice(x, x_range)
    x, y = x[part], y[part]
    pixels = max(1, int(pixels))
    if x.size <= pixels:
        return x, y
    low, high = (x[0], x[-1]) if x_range is None else x_range
    width = (high - low) or 1.0
    column = np.floor((x - low) * (pixels / width))
    keep = np.flatnonzero(np.diff(column, prepend=column[0] - 1))
    if keep[-1] != x.size - 1:
        keep = np.append(keep, x.size - 1)
    return x[keep], y[keep]
