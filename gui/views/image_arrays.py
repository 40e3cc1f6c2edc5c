"""What the image panels are given: float32, C-contiguous, finite arrays, and the error map."""

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
    err = np.abs(x - truth)
    if err.ndim == 3:
        err = err.mean(axis=-1)
    return np.ascontiguousarray(err, dtype=np.float32)
