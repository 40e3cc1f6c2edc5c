"""Pacing of the window's refreshes: images at a steady ~24 a second, plots within a CPU budget.

Three cadences, so that a slow part never drags the others down:

* a *frame* (:class:`RefreshBudget`): the window pulls the worker's rows and latest images, shows
  the images. Frames start ``1/FRAME_RATE`` apart (start to start, so the rate does
  not fall behind by the refresh's own time) while what they cost — the GUI thread's CPU time
  between two frame starts (``time.thread_time``, paints included), less what the plots report
  for themselves — stays within ``fraction`` of one core; a very costly frame (huge colour images
  on a slow machine) spaces them further, down to one a second.
* the *numbers* (iteration count, rate, costs in the status bar, the history bar's range) are
  text to read, not motion: a running run updates them at most NUMBERS_RATE times a second
  (:meth:`RefreshBudget.numbers_due`), a paused or finished one at once.
* a *plot draw* (:class:`DrawPacing`, used by :class:`gui.views.plots.PlotPanel`): ``setData`` on
  every curve and the repaint of the plots, at most ``MAX_DRAW_RATE`` a second and spaced so that
  drawing uses about ``fraction`` of one core: the plots of a long run cost more (tens of thousands
  of points, decimated to the pixels), so they are redrawn less often, the images not.

Where cores are scarce (≤ 2: every GUI millisecond held under the GIL is one the solver's thread
waits for) the fractions are smaller.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

FEW_CORES = (os.cpu_count() or 1) <= 2
FRAME_RATE = 24.0  # frames a second while data keep coming (≥ 20 with the timer's slack)
MIN_INTERVAL_S = 1 / FRAME_RATE
MAX_INTERVAL_S = 1.0
FEW_CORES_FRACTION, MANY_CORES_FRACTION = 0.2, 0.3  # of one core, for frames (8 ms, 12 ms a frame)
DEFAULT_FRACTION = FEW_CORES_FRACTION if FEW_CORES else MANY_CORES_FRACTION
NUMBERS_RATE = 8.0  # the status and history bars' numbers: text to read, not motion
MAX_DRAW_RATE = 30.0  # plot draws a second at most (DESIGN.md §5)
DRAW_FRACTION = 0.015 if FEW_CORES else 0.06  # of one core, for plot draws
MAX_DRAW_INTERVAL_S = 1.0
SMOOTHING = 0.8  # weight of the past in the cost averages (one costly cycle barely moves them)


class RefreshBudget:
    """When the next frame may start: FRAME_RATE a second, slower only past a CPU fraction."""

    def __init__(
        self,
        fraction: float = DEFAULT_FRACTION,
        min_interval_s: float = MIN_INTERVAL_S,
        max_interval_s: float = MAX_INTERVAL_S,
        excluded: Callable[[], float] | None = None,
    ) -> None:
        """``excluded()``: cumulative CPU seconds paced elsewhere (the plots'), not charged to
        frames (nor is what runs inside :meth:`paced_apart`)."""
        self.fraction = fraction
        self.min_interval_s = min_interval_s
        self.max_interval_s = max_interval_s
        self._excluded = excluded or (lambda: 0.0)
        self._apart_s = 0.0
        self._cycle_start_cpu: float | None = None
        self._cycle_excluded = 0.0
        self._cost_s = 0.0
        self._last_start = -1e9
        self._numbers_at = -1e9

    def reset(self) -> None:
        """Forget the measured cost (a new run, or after an idle period)."""
        self._cycle_start_cpu = None
        self._cost_s = 0.0
        self._numbers_at = -1e9

    def numbers_due(self) -> bool:
        """True (and the clock restarts) when the numbers may be shown again."""
        now = time.perf_counter()
        if now - self._numbers_at < 1 / NUMBERS_RATE:
            return False
        self._numbers_at = now
        return True

    @contextmanager
    def paced_apart(self) -> Iterator[None]:
        """Work inside is throttled by its own rule (the certificate's recomputation): its CPU is
        not charged to frames."""
        start = time.thread_time()
        try:
            yield
        finally:
            self._apart_s += time.thread_time() - start

    def begin(self) -> None:
        """A frame starts: the CPU used since the previous one (less the excluded) is its cost."""
        now_cpu, excluded = time.thread_time(), self._excluded() + self._apart_s
        if self._cycle_start_cpu is not None:
            cost = max(0.0, now_cpu - self._cycle_start_cpu - (excluded - self._cycle_excluded))
            self._cost_s = SMOOTHING * self._cost_s + (1 - SMOOTHING) * cost
        self._cycle_start_cpu, self._cycle_excluded = now_cpu, excluded
        self._last_start = time.perf_counter()

    def end(self) -> None:
        """A frame ended (kept for symmetry: the spacing counts from frame starts)."""

    @property
    def cost_s(self) -> float:
        """The smoothed CPU seconds one frame costs."""
        return self._cost_s

    def interval_s(self) -> float:
        """Seconds between frame starts allowed by the budget."""
        wanted = self._cost_s / self.fraction if self.fraction > 0 else 0.0
        return min(max(wanted, self.min_interval_s), self.max_interval_s)

    def delay_ms(self) -> int:
        """Milliseconds to wait from now before the next frame."""
        since = time.perf_counter() - self._last_start
        return max(0, round((self.interval_s() - since) * 1000))


class DrawPacing:
    """When the plots may be redrawn: at most MAX_DRAW_RATE a second, within a CPU fraction."""

    def __init__(
        self,
        fraction: float = DRAW_FRACTION,
        min_interval_s: float = 1 / MAX_DRAW_RATE,
        max_interval_s: float = MAX_DRAW_INTERVAL_S,
    ) -> None:
        self.fraction = fraction
        self.min_interval_s = min_interval_s
        self.max_interval_s = max_interval_s
        self._cost_s = 0.0
        self._last = -1e9

    def reset(self) -> None:
        """Forget the cost; the next draw is due at once."""
        self._cost_s = 0.0
        self._last = -1e9

    def interval_s(self) -> float:
        """Seconds between two draws."""
        wanted = self._cost_s / self.fraction if self.fraction > 0 else 0.0
        return min(max(wanted, self.min_interval_s), self.max_interval_s)

    def due_in_s(self, now: float | None = None) -> float:
        """Seconds until the next draw is allowed (0: now)."""
        now = time.perf_counter() if now is None else now
        return max(0.0, self._last + self.interval_s() - now)

    def drawing(self, previous_cost_s: float, now: float | None = None) -> None:
        """A draw starts now; ``previous_cost_s``: what the previous one cost, paints included."""
        if self._last > -1e9:
            self._cost_s = SMOOTHING * self._cost_s + (1 - SMOOTHING) * previous_cost_s
        self._last = time.perf_counter() if now is None else now
