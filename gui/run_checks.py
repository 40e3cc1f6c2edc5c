"""The checks made before a problem is loaded or a run starts: will it fit in memory, and will it
be interactive? Each may offer the downscale that fixes it (issue 30: real photos on a CPU).

- **Memory** (:func:`core.memory.memory_shortfall`): a run that would not fit is refused unless
  the user downscales or goes on anyway; scripted, it is refused as ``fima run`` refuses it.
- **Speed** (:func:`core.speed.slow_run`): a run slower than one iteration a second is offered the
  downscale that makes it about one a second; the user may keep the size (the run works, only
  slowly), and is not asked again for the same problem and runs. Scripted, the estimate is said in
  the status bar and nothing is refused. Problems of at most :data:`CHECKED_FROM` values (the
  bundled samples, tests' images) are not timed: at that size every prior here runs well above
  one iteration a second on a CPU.

A part of the window (``window.checks``), composed like :class:`gui.window_files.WindowFiles`.
"""

from __future__ import annotations

import math
import weakref
from typing import Protocol

from core import TaskSetup
from core.memory import MemoryShortfall, memory_shortfall, shortfall_text
from core.speed import SlowRun, slow_run, slow_run_text

from .busy import wait_cursor
from .dialogs.memory_dialog import ANYWAY, CANCEL, DOWNSCALE
from .dialogs.speed_dialog import SpeedDialog
from .state.problem_spec import ProblemSpec
from .views.status import StatusPanel

CHECKED_FROM = 300 * 300  # image values (pixels × channels) from which a run's speed is timed


class CheckedWindow(Protocol):
    """What the checks need of the window."""

    scripted: bool
    status: StatusPanel

    def show_error(self, message: str) -> None: ...
    def memory_dialog(self, shortfall: MemoryShortfall) -> str: ...


class RunChecks:
    """Memory and speed checks of the window's problem, with their dialogs."""

    def __init__(self, window: CheckedWindow) -> None:
        self.window = window
        self._kept_problem: weakref.ref | None = None  # the problem the kept runs belong to
        self._kept: set[tuple[str, ...]] = set()  # runs the user kept slow on it

    def fits(
        self, setup: TaskSetup, spec: ProblemSpec, labels: list[str], refused: str
    ) -> bool | ProblemSpec:
        """True when ``setup`` may run ``labels`` (it fits, or the user goes on); the downscaled
        spec when the user takes a downscale; else False (said after ``refused``)."""
        memory = self._memory(setup, spec, len(labels), refused)
        if memory is not True:
            return memory
        return self._speed(setup, spec, labels)

    def _memory(
        self, setup: TaskSetup, spec: ProblemSpec, variants: int, refused: str
    ) -> bool | ProblemSpec:
        w = self.window
        shortfall = memory_shortfall(setup, variants, int(spec.value("downscale") or 1))
        if shortfall is None:
            return True
        if w.scripted:
            can = shortfall.can_downscale()
            advice = f": set Downscale to {shortfall.suggested}" if can else ""
            w.show_error(f"{shortfall_text(shortfall)}{advice}")
            choice = CANCEL
        else:
            choice = w.memory_dialog(shortfall)
        if choice == DOWNSCALE:
            return spec.with_option("downscale", shortfall.suggested)
        if choice != ANYWAY:
            w.status.message(f"{refused}: {shortfall_text(shortfall)}", 10000)
        return choice == ANYWAY

    def _speed(self, setup: TaskSetup, spec: ProblemSpec, labels: list[str]) -> bool | ProblemSpec:
        if self._kept_problem is None or self._kept_problem() is not setup:
            self._kept_problem, self._kept = weakref.ref(setup), set()  # another problem
        key = tuple(sorted(labels))
        if key in self._kept or math.prod(setup.problem.x0.shape) <= CHECKED_FROM:
            return True
        w = self.window
        w.status.message("Timing one iteration on a small copy of the image…")
        with wait_cursor():
            slow = slow_run(setup, labels, int(spec.value("downscale") or 1))
        if slow is None:
            return True
        if w.scripted or not slow.can_downscale():
            w.status.message(slow_run_text(slow), 10000)
            self._kept.add(key)
            return True
        if self.speed_dialog(slow) == DOWNSCALE:
            return spec.with_option("downscale", slow.suggested)
        self._kept.add(key)
        w.status.message(f"Kept: {slow_run_text(slow)}", 10000)
        return True

    def speed_dialog(self, slow: SlowRun) -> str:
        """Ask whether to downscale a slow run: ``downscale`` or ``keep`` (tests replace it)."""
        dialog = SpeedDialog(slow, self.window)
        dialog.exec()
        return dialog.choice()
