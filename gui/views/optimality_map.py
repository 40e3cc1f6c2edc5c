"""The optimality-error map beside the error map: |d| per pixel, which map to show, its own levels.

d = (1/γ − μ)(u − ũ) + ∇s(ũ) − ∇s(u) is what FIMA's check measures (step 4: ‖d‖ ≤ C‖ũ − x^k‖); the
engine hands it per pixel, |d_i| with the colour channels combined (``Iteration.d_map``), so the
panel shows WHERE a proposal is far from a critical point of Ψ^k — and the pixel readout each
pixel's share |d_i|²/‖d‖² of ‖d‖².

The panel follows the x panel: beside x^k it shows the map of trace row k − 1 (the step that made
x^k), from the worker's newest images or, while scrubbing, from the run's history (kind ``d``, same
budget as the iterates). A skipped or failed proposal makes no map: the last map made is shown,
marked "last made" in the title. naive and pg judge no proposal and have none.

Levels are the map's own (|d| is not on the image's scale, nor on the error map's): 0 … its 99.5th
percentile rounded up to 1, 2 or 5 × 10ⁿ — so one outlier does not darken the rest, and the levels
change only when the map's scale does — written in the panel's title.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping

import numpy as np

from core.run_spec import variant_of

from .style import variant_label

D_KIND = "d"  # the history's kind for these maps (core.history.IterateHistory)
CHECKED = ("fima", "unchecked")  # the variants that judge a proposal, and so have a d
AUTO_PERCENTILE = 99.5
AUTO_SAMPLES = 2**16  # auto levels from at most about this many pixels (a regular subsample)
MARK_COLOUR = "#f0a030"  # "last made" in the title
MapFrame = tuple[int, np.ndarray]  # (trace row k, |d| map)
MapSource = Callable[[str, int], "tuple[int, np.ndarray] | None"]  # (variant, k) → (k_stored, map)


def nice_ceiling(value: float) -> float:
    """The smallest 1, 2 or 5 × 10ⁿ at or above ``value`` (1 for a value that is not positive)."""
    if not value > 0 or not math.isfinite(value):
        return 1.0
    exponent = math.floor(math.log10(value))
    for step in (1.0, 2.0, 5.0, 10.0):
        top = step * 10.0**exponent
        if top >= value * (1 - 1e-9):
            return top
    return 10.0 ** (exponent + 1)


def auto_top(d_map: np.ndarray) -> float:
    """Auto levels' top: the map's 99.5th percentile (of a regular subsample of a large map),
    rounded up by :func:`nice_ceiling`."""
    stride = max(1, math.ceil(math.sqrt(d_map.size / AUTO_SAMPLES)))
    sample = d_map[::stride, ::stride] if d_map.ndim == 2 else d_map
    finite = sample[np.isfinite(sample)]
    return nice_ceiling(float(np.percentile(finite, AUTO_PERCENTILE)) if finite.size else 0.0)


def squared_norm(d_map: np.ndarray | None) -> float:
    """‖d‖² = Σ|d_i|² (each row's sum in the map's precision, the rows' in float64; 0 for no map)."""
    if d_map is None:
        return 0.0
    rows = np.atleast_2d(d_map)
    rows = rows.reshape(rows.shape[0], -1)
    return float(np.einsum("ij,ij->i", rows, rows).sum(dtype=np.float64))


def share_text(value: float, total: float) -> str:
    """Pixel i's share |d_i|²/‖d‖² in per cent, short."""
    if not total > 0:
        return "—"
    percent = 100.0 * float(value) ** 2 / total
    return f"{percent:.2g} %" if percent < 10 else f"{percent:.0f} %"


class OptimalityMaps:
    """The newest |d| map of each variant, and past ones from the run's history."""

    def __init__(self) -> None:
        self._latest: dict[str, MapFrame] = {}
        self._source: MapSource | None = None
        # (map, top, ‖d‖² once asked for) of the map last shown
        self._scaled: tuple[np.ndarray, float, float | None] | None = None

    def set_source(self, source: MapSource | None) -> None:
        """Where past maps come from: ``source(variant, k) -> (k_stored, map) | None`` with the
        map of row k − 1 stored at k (beside x^k)."""
        self._source = source

    def clear(self) -> None:
        """Forget the run's maps (a reset, a new problem)."""
        self._latest.clear()
        self._scaled = None

    def take(self, images: Mapping[str, Mapping[str, np.ndarray | None]], k: int) -> None:
        """The worker's newest images after ``k`` iterations (their maps are of row k − 1)."""
        for variant, arrays in images.items():
            d_map = arrays.get(D_KIND)
            if d_map is not None:
                self._latest[variant] = (k - 1, d_map)

    def latest(self, variant: str | None) -> MapFrame | None:
        """(row, map): the last map ``variant`` made, or None."""
        return self._latest.get(variant or "")

    def scale(self, d_map: np.ndarray | None) -> float:
        """The top of the map's auto levels, computed once per map (1 without one)."""
        if d_map is None:
            return 1.0
        if self._scaled is None or self._scaled[0] is not d_map:
            self._scaled = (d_map, auto_top(d_map), None)
        return self._scaled[1]

    def total(self, d_map: np.ndarray | None) -> float:
        """‖d‖² of the map last scaled (0 without one), computed when first asked for: only the
        readout's shares need it (3.5 ms a frame at 4096²)."""
        if d_map is None or self._scaled is None or self._scaled[0] is not d_map:
            return squared_norm(d_map)
        if self._scaled[2] is None:
            self._scaled = (d_map, self._scaled[1], squared_norm(d_map))
        return self._scaled[2]

    def beside(self, variant: str | None, k: int) -> MapFrame | None:
        """(row, map) shown beside x^k: row k − 1's map, or the last one made before it."""
        if variant is None or k < 1 or self._source is None:
            return None
        frame = self._source(variant, k)
        return None if frame is None else (frame[0] - 1, frame[1])


def map_title(variant: str | None, frame: MapFrame | None, row: int | None, top: float) -> str:
    """The panel's short title: the map's row and levels, marked (in colour) "last made" when it is
    an earlier row's than ``row`` (a skipped or failed proposal made none since)."""
    if variant is not None and variant_of(variant) not in CHECKED:
        return f"|d|: none ({variant_label(variant)}: no check)"
    if frame is None:
        return "|d|: none yet"
    made = frame[0]
    marked = (
        f" <span style='color:{MARK_COLOUR}'>last made</span>"
        if row is not None and made < row
        else ""
    )
    return f"|d|, k = {made}{marked} (≤ {top:.2g})"


def proposal_title(base: str, variant: str | None, made: int | None, row: int | None) -> str:
    """The proposal panel's title: ``base`` (uᵏ or ũᵏ) with the row ``made`` it was made at,
    marked "last made" when that is before ``row`` (skipped or rejected since); pg makes none."""
    if variant is not None and variant_of(variant) == "pg":
        return f"{base}: none ({variant_label(variant)} takes no learned step)"
    if made is None:
        return base if row is None else f"{base}: none yet"
    marked = (
        f" <span style='color:{MARK_COLOUR}'>last made</span>"
        if row is not None and made < row
        else ""
    )
    return f"{base} (k = {made}){marked}"
