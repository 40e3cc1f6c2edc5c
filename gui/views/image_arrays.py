"""What the image panels are given: float32, C-contiguous, finite arrays, the error map, and the
8-bit pictures their items draw."""

from __future__ import annotations

import numpy as np


def displayable(arr: np.ndarray | None) -> np.ndarray | None:
    """float32, C-contiguous, finite (NaN → 0, ±inf → clipped) — what an ImageItem is given. A
    large image (:func:`is_large`) is not scanned (3 ms a frame at 4096²): its 8-bit picture draws
    ±inf at the ends and NaN black (:func:`to_8bit`), and the readout shows them as they are."""
    if arr is None:
        return None
    arr = np.ascontiguousarray(arr, dtype=np.float32)
    if (arr.ndim < 2 or not is_large(arr.shape)) and not np.isfinite(arr).all():
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


class LazyErrorMap:
    """|x − truth| of a large image, computed only where it is read: ``m[::s, ::s]`` computes that
    sample (a zoomed-out panel's picture: at 4096² and step 12, 0.1 against 15 ms), ``np.asarray(m)``
    every pixel."""

    ndim = 2
    dtype = np.dtype(np.float32)

    def __init__(self, x: np.ndarray, truth: np.ndarray) -> None:
        self.x, self.truth = x, truth
        self.shape = x.shape[:2]

    def __getitem__(self, rows_cols: tuple[slice, slice]) -> np.ndarray:
        """The map over a block of rows and columns (slices)."""
        return error_map(self.x[rows_cols], self.truth[rows_cols])

    def __array__(self, dtype=None, copy=None) -> np.ndarray:
        """The whole map."""
        whole = error_map(self.x, self.truth)
        return whole if dtype is None else whole.astype(dtype)


def shown_error_map(
    x: np.ndarray | None, truth: np.ndarray | None
) -> np.ndarray | LazyErrorMap | None:
    """The error panel's map: computed now for a small image, where it is read for a large one."""
    if x is None or truth is None or x.shape != truth.shape or not is_large(x.shape):
        return error_map(x, truth)
    return LazyErrorMap(x, truth)


def to_8bit(
    arr: np.ndarray,
    levels: tuple[float, float],
    scratch: np.ndarray | None = None,
    lut: bool = False,
) -> np.ndarray:
    """``arr`` mapped from ``levels`` (lo, hi) onto 0 … 255, clipped, as uint8 — what an item draws.

    pyqtgraph would do the same from float32 at every paint, at about twice the cost (and a
    full scan for NaN first); given 8-bit data and no levels it draws them as they are.
    Like pyqtgraph, ``lo`` … ``hi`` spans 255 steps, or 256 when a 256-colour lookup table
    (``lut``: a colormap) indexes the result. ``scratch``: a float32 array of ``arr``'s shape to
    work in (fresh memory for a large image costs more than the arithmetic: 4.2 against 2.7 ms
    at 2048²), else one is made. ±inf is drawn at the ends, as :func:`displayable` would have it;
    NaN (a diverged iterate) as the cast's byte: 0 on x86-64 and ARM, as :func:`displayable` has
    it (a test holds it; replacing NaN first would cost a third more at 1024²)."""
    lo, hi = float(levels[0]), float(levels[1])
    scaled = np.empty(arr.shape, np.float32) if scratch is None else scratch
    gain = (256.0 if lut else 255.0) / (hi - lo) if hi > lo else 0.0
    if lo:
        np.subtract(arr, lo, out=scaled, dtype=np.float32)
        np.multiply(scaled, gain, out=scaled)
    else:  # the panels' levels start at 0: one pass fewer
        np.multiply(arr, gain, out=scaled, dtype=np.float32)
    np.clip(scaled, 0.0, 255.0, out=scaled)  # ±inf → the ends (NaN stays: fmax would cost 2×)
    with np.errstate(invalid="ignore"):  # NaN → an undefined byte (0 on x86-64 and ARM)
        return scaled.astype(np.uint8)


EIGHT_BIT_MIN_PIXELS = 512 * 512  # from here up an 8-bit picture is cheaper to draw (see ItemData)
SCRATCH_SHAPES = 2  # an image's shape and its maps' (a colour image's differs)


def is_large(shape: tuple[int, ...]) -> bool:
    """Whether an image of ``shape`` reaches its item as an 8-bit picture (see :class:`ItemData`)."""
    return shape[0] * shape[1] >= EIGHT_BIT_MIN_PIXELS


class ItemData:
    """What the panels' ImageItems are given: a large image as an 8-bit picture at its levels
    (:func:`to_8bit`), a small one as it is — below about 512² the extra numpy calls cost more
    than pyqtgraph's own conversion saves (at 128²: 0.17 against 0.07 ms an image; at 1024²: 0.5
    against 0.65 ms, and no NaN scan).

    A large picture is made from every ``step``-th pixel of every ``step``-th row when its view
    shows ``step`` or more image pixels on one screen pixel (:func:`gui.views.image_grid.
    display_step`): Qt draws a zoomed-out image by its nearest pixels anyway, so the screen shows
    the same, and a 2048² image in a 370-pixel panel is made and drawn from 512² pixels, not 4M.
    The pictures are made one after the other in the GUI thread, so they share one float32 scratch
    buffer per shape (at most ``SCRATCH_SHAPES``)."""

    def __init__(self) -> None:
        self._scratch: dict[tuple[int, ...], np.ndarray] = {}

    def __call__(
        self, arr: np.ndarray, levels: tuple[float, float], lut: bool = False, step: int = 1
    ) -> tuple[np.ndarray, tuple[float, float] | None, int]:
        """(data, the item's levels, the step it was sampled with) for ``arr`` shown at ``levels``
        (``lut``: through a colormap's 256-colour table; ``step``: the view's, see above). A
        picture's levels are None: pyqtgraph then hands gray or colour bytes to Qt as they are
        (with levels (0, 255) it would build a 256-entry colour table for each image)."""
        if not is_large(arr.shape):
            return arr, levels, 1
        step = max(1, int(step))
        sampled = arr[::step, ::step] if step > 1 else arr
        scratch = self._scratch.get(sampled.shape)
        if scratch is None:
            if len(self._scratch) >= SCRATCH_SHAPES:  # a new problem's shapes replace the old
                del self._scratch[next(iter(self._scratch))]
            scratch = self._scratch[sampled.shape] = np.empty(sampled.shape, np.float32)
        return to_8bit(sampled, levels, scratch, lut), None, step

    def scratch_bytes(self) -> int:
        """Memory the scratch buffers hold."""
        return sum(buffer.nbytes for buffer in self._scratch.values())
