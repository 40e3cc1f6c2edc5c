"""What the image panels are given: float32, C-contiguous, finite arrays, the error map, and the
8-bit pictures their items draw."""

from __future__ import annotations

import numpy as np


def displayable(arr: np.ndarray | None) -> np.ndarray | None:
    """float32, C-contiguous, finite (NaN → 0, ±inf → clipped) — what an ImageItem is given."""
    if arr is None:
        return None
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if not np.isfinite(arr).all():
        arr = np.nan_to_num(arr, nan=0.0, posinf=1e6, neginf=-1e6)
    return arr


def error_map(x: np.ndarray | None, truth: np.ndarray | None) -> np.ndarray | None:
    """|x − truth| (averaged over colour channels), or None when either is missing."""
    if x is None or truth is None or x.shape != truth.shape:
        return None
    err = np.subtract(x, truth, dtype=np.float32)  # one temporary, made absolute in place
    np.abs(err, out=err)
    if err.ndim == 3:
        err = err.mean(axis=-1, dtype=np.float32)
    return np.ascontiguousarray(err)


def to_8bit(
    arr: np.ndarray,
    levels: tuple[float, float],
    scratch: np.ndarray | None = None,
    lut: bool = False,
) -> np.ndarray:
    """``arr`` mapped from ``levels`` (lo, hi) onto 0 … 255, clipped, as uint8 — what an item draws.

    pyqtgraph would do the same from float32 at every paint, at about twice the cost (and a
    full scan for NaN first); given 8-bit data and levels (0, 255) it draws them as they are.
    Like pyqtgraph, ``lo`` … ``hi`` spans 255 steps, or 256 when a 256-colour lookup table
    (``lut``: a colormap) indexes the result. ``scratch``: a float32 array of ``arr``'s shape to
    work in (fresh memory for a large image costs more than the arithmetic: 4.2 against 2.7 ms
    at 2048²), else one is made."""
    lo, hi = float(levels[0]), float(levels[1])
    scaled = np.empty(arr.shape, np.float32) if scratch is None else scratch
    gain = (256.0 if lut else 255.0) / (hi - lo) if hi > lo else 0.0
    if lo:
        np.subtract(arr, lo, out=scaled, dtype=np.float32)
        np.multiply(scaled, gain, out=scaled)
    else:  # the panels' levels start at 0: one pass fewer
        np.multiply(arr, gain, out=scaled, dtype=np.float32)
    np.clip(scaled, 0.0, 255.0, out=scaled)
    return scaled.astype(np.uint8)


EIGHT_BIT_MIN_PIXELS = 512 * 512  # from here up an 8-bit picture is cheaper to draw (see ItemData)
SCRATCH_SHAPES = 2  # an image's shape and its maps' (a colour image's differs)


class ItemData:
    """What the panels' ImageItems are given: a large image as an 8-bit picture at its levels
    (:func:`to_8bit`), a small one as it is — below about 512² the extra numpy calls cost more
    than pyqtgraph's own conversion saves (at 128²: 0.17 against 0.07 ms an image; at 1024²: 0.5
    against 0.65 ms, and no NaN scan). The pictures are made one after the other in the GUI
    thread, so they share one float32 scratch buffer per shape (at most ``SCRATCH_SHAPES``)."""

    def __init__(self) -> None:
        self._scratch: dict[tuple[int, ...], np.ndarray] = {}

    def __call__(
        self, arr: np.ndarray, levels: tuple[float, float], lut: bool = False
    ) -> tuple[np.ndarray, tuple[float, float]]:
        """(data, the item's levels) for ``arr`` shown at ``levels`` (``lut``: through a
        colormap's 256-colour table)."""
        if arr.shape[0] * arr.shape[1] < EIGHT_BIT_MIN_PIXELS:
            return arr, levels
        scratch = self._scratch.get(arr.shape)
        if scratch is None:
            if len(self._scratch) >= SCRATCH_SHAPES:  # a new problem's shapes replace the old
                del self._scratch[next(iter(self._scratch))]
            scratch = self._scratch[arr.shape] = np.empty(arr.shape, np.float32)
        return to_8bit(arr, levels, scratch, lut), (0, 255)

    def scratch_bytes(self) -> int:
        """Memory the scratch buffers hold."""
        return sum(buffer.nbytes for buffer in self._scratch.values())
