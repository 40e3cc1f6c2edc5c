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
    arr: np.ndarray, levels: tuple[float, float], scratch: np.ndarray | None = None
) -> np.ndarray:
    """``arr`` mapped from ``levels`` (lo, hi) onto 0 … 255, clipped, as uint8 — what an item draws.

    pyqtgraph would do the same from float32 at every paint, at about twice the cost (and a
    full scan for NaN first); given 8-bit data and levels (0, 255) it draws them as they are.
    ``scratch``: a float32 array of ``arr``'s shape to work in (fresh memory for a large image
    costs more than the arithmetic: 4.2 against 2.7 ms at 2048²), else one is made."""
    lo, hi = float(levels[0]), float(levels[1])
    usable = scratch is not None and scratch.shape == arr.shape and scratch.dtype == np.float32
    scaled = scratch if usable else np.empty(arr.shape, np.float32)
    np.subtract(arr, lo, out=scaled, dtype=np.float32)
    np.multiply(scaled, 255.0 / (hi - lo) if hi > lo else 0.0, out=scaled)
    np.clip(scaled, 0.0, 255.0, out=scaled)
    return scaled.astype(np.uint8)
