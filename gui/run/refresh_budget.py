"""Pacing of the window's refreshes: at most ~30 a second, and within a CPU budget.

A refresh (pulling the worker's data, new images, one plot redrawn) and the repaint it causes cost
GUI-thread CPU time, and on a small machine every millisecond of it is taken from the solver. The
budget measures the GUI thread's CPU time per refresh cycle (``time.thread_time``, paints
included) and spaces the refreshes so that they use about ``fraction`` of one core: 3 % where
cores are scarce (≤ 2: every GUI millisecond is one the solver's threads lose, and they hold each
other up), 8 % otherwise.
"""

from __future__ import annotations

import os
import time

MIN_INTERVAL_S = 1 / 30
MAX_INTERVAL_S = 1.0
DEFAULT_FRACTION = 0.03 if (os.cpu_count() or 1) <= 2 else 0.08
SMOOTHING = 0.5


class RefreshBudget:
    """Delay before the next refresh so that refreshing stays within a CPU fraction."""

    def __init__(
        self,
        fraction: float = DEFAULT_FRACTION,
        min_interval_s: float = MIN_INTERVAL_S,
        max_interval_s: float = MAX_INTERVAL_S,
    ) -> None:
        self.fraction = fraction
        self.min_interval_s = min_interval_s
        self.max_interval_s = max_interval_s
        self._cycle_start_cpu: float | None = None
        self._cost_s = 0.0
        self._last_end = -1e9

    def reset(self) -> None:
        """Forget the measured cost (a new run, or after an idle period)."""
        self._cycle_start_cpu = None
        self._cost_s = 0.0

    def begin(self) -> None:
        """A refresh starts: the CPU used since the previous one is this cycle's cost."""
        now_cpu = time.thread_time()
        if self._cycle_start_cpu is not None:
            cost = now_cpu - self._cycle_start_cpu
            self._cost_s = SMOOTHING * self._cost_s + (1 - SMOOTHING) * cost
        self._cycle_start_cpu = now_cpu

    def end(self) -> None:
        """A refresh ended."""
        self._last_end = time.perf_counter()

    def interval_s(self) -> float:
        """Seconds between refresh starts allowed by the budget."""
        wanted = self._cost_s / self.fraction if self.fraction > 0 else 0.0
        return min(max(wanted, self.min_interval_s), self.max_interval_s)

    def delay_ms(self) -> int:
        """Milliseconds to wait from now before the next refresh."""
        since = time.perf_counter() - self._last_end
        return max(0, round((self.interval_s() - since) * 1000))
