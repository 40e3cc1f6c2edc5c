"""Iterate-history frames in their own memory mappings, so that thinning gives memory back.

A long run keeps thousands of image-sized arrays alive for a while (the iterate history) among the
solver's short-lived temporaries of the same size. Allocated by malloc, the frames end up in heap
arenas between temporaries; when the history thins, the holes they leave are seldom handed back to
the system, and the process slowly grows past the history's budget. A frame of at least
``MAPPED_MIN_BYTES`` is therefore copied into an anonymous mapping of its own, unmapped the moment
the array is freed: resident memory follows the history's byte count. (Mapping *every* large block
instead, with glibc's mallopt, costs the solver's temporaries 2–4× in page faults.)

``MAP_LARGE_FRAMES = False`` turns this off (benchmarks/long_run.py compares both).
"""

from __future__ import annotations

import mmap

import numpy as np

MAPPED_MIN_BYTES = 256 * 1024  # smaller frames stay with malloc (a mapping is whole pages)
MAP_LARGE_FRAMES = True


def frame_copy(arr: np.ndarray) -> np.ndarray:
    """A float32 C-contiguous copy of ``arr``; large ones live in their own memory mapping."""
    nbytes = arr.size * 4
    if not MAP_LARGE_FRAMES or nbytes < MAPPED_MIN_BYTES:
        return np.array(arr, dtype=np.float32, order="C", copy=True)
    out = np.frombuffer(mmap.mmap(-1, nbytes), dtype=np.float32, count=arr.size)
    out = out.reshape(arr.shape)
    out[...] = arr
    return out
