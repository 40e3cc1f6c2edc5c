"""Iterate history under a memory budget: every iterate is kept until the budget is reached, then
older ones are thinned evenly (keep every 2nd, then every 4th, …); the newest is always kept.

Beside the iterates x^k (kind ``x``) the history holds other per-iteration images under their own
kind — the optimality-error map |d| (kind ``d``) — in the same budget and thinned with the same stride.

Scalars (the trace rows) are not stored here: they are small and always kept in full by the caller.
"""

from __future__ import annotations

import bisect
import threading

import numpy as np

DEFAULT_BUDGET = 512 * 2**20  # bytes
ITERATE = "x"  # the kind of x^k itself


class IterateHistory:
    """Images x^k (and other kinds) by (variant, k) within ``budget_bytes``; thread-safe."""

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET):
        if budget_bytes <= 0:
            raise ValueError("the history budget must be positive")
        self.budget_bytes = int(budget_bytes)
        self._frames: dict[
            tuple[str, str], dict[int, np.ndarray]
        ] = {}  # (variant, kind) → k → image
        self._newest: dict[tuple[str, str], int] = {}  # newest k per key (kept whatever the stride)
        self._stride = 1
        self._bytes = 0
        self._lock = threading.Lock()

    @property
    def stride(self) -> int:
        """Current spacing of kept iterates (1 = all kept)."""
        return self._stride

    @property
    def stored_bytes(self) -> int:
        """Bytes held by stored images."""
        return self._bytes

    def add(self, variant: str, k: int, image: np.ndarray, kind: str = ITERATE) -> None:
        """Store x^k of ``variant`` (or its image of another ``kind``; a copy is NOT made: pass an
        array you no longer modify)."""
        key = (variant, kind)
        with self._lock:
            frames = self._frames.setdefault(key, {})
            newest = self._newest.get(key)
            if newest is not None and k > newest and newest % self._stride != 0:
                self._bytes -= frames.pop(newest).nbytes  # it was kept only for being the newest
            old = frames.pop(k, None)
            if old is not None:
                self._bytes -= old.nbytes
            frames[k] = image
            self._newest[key] = max(k, newest) if newest is not None else k
            self._bytes += image.nbytes
            while self._bytes > self.budget_bytes and self._thin():
                pass

    def _thin(self) -> bool:
        """Double the stride and drop what no longer fits it; False if nothing could go."""
        before = self._bytes
        self._stride *= 2
        for key, frames in self._frames.items():
            newest = self._newest.get(key)
            for k in [k for k in frames if k % self._stride and k != newest]:
                self._bytes -= frames.pop(k).nbytes
        return self._bytes < before or any(len(f) > 2 for f in self._frames.values())

    def iterations(self, variant: str, kind: str = ITERATE) -> list[int]:
        """Stored iteration indices of ``variant`` (of images of ``kind``), ascending."""
        with self._lock:
            return sorted(self._frames.get((variant, kind), {}))

    def get(self, variant: str, k: int, kind: str = ITERATE) -> tuple[int, np.ndarray] | None:
        """The stored image at k, or the nearest stored one before it: (k_stored, image); None
        when there is none at or before k."""
        with self._lock:
            frames = self._frames.get((variant, kind))
            if not frames:
                return None
            keys = sorted(frames)
            i = bisect.bisect_right(keys, k) - 1
            if i < 0:  # nothing stored at or before k
                return None
            return keys[i], frames[keys[i]]

    def frames(self) -> list[tuple[str, int, np.ndarray, str]]:
        """Every stored image as (variant, k, image, kind) (to hand the history to another one)."""
        with self._lock:
            return [
                (variant, k, image, kind)
                for (variant, kind), frames in self._frames.items()
                for k, image in sorted(frames.items())
            ]

    def variants(self) -> list[str]:
        """Variants with stored iterates."""
        with self._lock:
            return [variant for variant, kind in self._frames if kind == ITERATE]

    def clear(self) -> None:
        """Forget everything (the stride starts over)."""
        with self._lock:
            self._frames.clear()
            self._newest.clear()
            self._bytes = 0
            self._stride = 1
