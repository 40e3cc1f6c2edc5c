"""Iterate history under a memory budget: every iterate is kept until the budget is reached, then
older ones are thinned evenly (keep every 2nd, then every 4th, …); the newest is always kept.

Scalars (the trace rows) are not stored here: they are small and always kept in full by the caller.
"""

from __future__ import annotations

import bisect
import threading

import numpy as np

DEFAULT_BUDGET = 512 * 2**20  # bytes


class IterateHistory:
    """Images x^k by (variant, k) within ``budget_bytes``; thread-safe."""

    def __init__(self, budget_bytes: int = DEFAULT_BUDGET):
        if budget_bytes <= 0:
            raise ValueError("the history budget must be positive")
        self.budget_bytes = int(budget_bytes)
        self._frames: dict[str, dict[int, np.ndarray]] = {}
        self._newest: dict[str, int] = {}  # newest k per variant (kept whatever the stride)
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

    def add(self, variant: str, k: int, image: np.ndarray) -> None:
        """Store x^k of ``variant`` (a copy is NOT made: pass an array you no longer modify)."""
        with self._lock:
            frames = self._frames.setdefault(variant, {})
            newest = self._newest.get(variant)
            if newest is not None and k > newest and newest % self._stride != 0:
                self._bytes -= frames.pop(newest).nbytes  # it was kept only for being the newest
            old = frames.pop(k, None)
            if old is not None:
                self._bytes -= old.nbytes
            frames[k] = image
            self._newest[variant] = max(k, newest) if newest is not None else k
            self._bytes += image.nbytes
            while self._bytes > self.budget_bytes and self._thin():
                pass

    def _thin(self) -> bool:
        """Double the stride and drop what no longer fits it; False if nothing could go."""
        before = self._bytes
        self._stride *= 2
        for variant, frames in self._frames.items():
            newest = self._newest.get(variant)
            for k in [k for k in frames if k % self._stride and k != newest]:
                self._bytes -= frames.pop(k).nbytes
        return self._bytes < before or any(len(f) > 2 for f in self._frames.values())

    def iterations(self, variant: str) -> list[int]:
        """Stored iteration indices of ``variant``, ascending."""
        with self._lock:
            return sorted(self._frames.get(variant, {}))

    def get(self, variant: str, k: int) -> tuple[int, np.ndarray] | None:
        """The stored iterate at k, or the nearest stored one before it: (k_stored, image)."""
        with self._lock:
            frames = self._frames.get(variant)
            if not frames:
                return None
            keys = sorted(frames)
            i = bisect.bisect_right(keys, k) - 1
            kk = keys[max(i, 0)]
            return kk, frames[kk]

    def variants(self) -> list[str]:
        """Variants with stored iterates."""
        with self._lock:
            return list(self._frames)

    def clear(self) -> None:
        """Forget everything (the stride starts over)."""
        with self._lock:
            self._frames.clear()
            self._newest.clear()
            self._bytes = 0
            self._stride = 1
