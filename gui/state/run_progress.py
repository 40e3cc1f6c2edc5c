"""The run's progress, Qt-free: what the run has computed so far, and which iteration is on screen.

The run controller is the only writer (GUI thread): it starts a run here (:meth:`RunProgress.begin`),
adds what it pulls from the worker (:meth:`RunProgress.add`), says when the numbers are due
(:meth:`RunProgress.show_numbers`) and clears it. The views — plots, images, history bar, status
bar, certificate — bind to :class:`RunProgressEvents` and draw from the data held here (the scalar
history, each run's newest images, the iterate history under its memory budget), so every view
shows the same k and no view depends on which push came last.

Signals are psygnal's (Qt-free, synchronous in the emitting thread); a view's bound method is held
weakly, so a closed view stops listening by itself.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from psygnal import Signal, SignalGroup

from core.history import IterateHistory
from core.run_spec import variant_of

from .labels import variant_label as label
from .run_history import RunHistory

COST_WINDOW = 10  # the iterations over which one iteration's cost is averaged


class RunProgressEvents(SignalGroup):
    """What views of the run listen to."""

    started = Signal(tuple)  # the run labels of a fresh run (x⁰ is in the iterate history)
    cleared = Signal()  # the run was discarded: views empty themselves
    rows = Signal(object)  # the scalar history grew (the RunHistory)
    markers = Signal(dict)  # parameter changes in force, by k (up to the newest row)
    images = Signal(dict, int)  # each run's newest images ({label: {"x": …, "d": …}}, k)
    numbers = Signal(int)  # the newest k the bars show (paced: at most a few times a second)
    certificate = Signal(bool)  # recompute the certificate (True: now, not throttled)
    diverged = Signal(dict)  # {label: k} of runs that diverged and were stopped
    message = Signal(str)  # a transient message about the run
    frame = Signal()  # a draw turn: views that pace their drawing draw one piece now
    frame_wanted = Signal()  # a view has drawing left: the controller gives another turn soon
    position = Signal(object)  # k asked to be pinned on screen, or None: follow the newest
    budget = Signal(int)  # the iterate history's budget changed (bytes)


class RunProgress:
    """The current run's data (history, newest images, iterate history) and its events."""

    def __init__(self, budget_bytes: int) -> None:
        self.events = RunProgressEvents()
        self.budget_bytes = int(budget_bytes)
        self.history = RunHistory()
        self.iterates = IterateHistory(self.budget_bytes)
        self.latest_x: dict[str, np.ndarray] = {}  # each run's newest iterate (display array)
        self.variants: tuple[str, ...] = ()
        self.policy = ""  # the run's proposal policy (core/proposal.py), as it started
        self.iterations = 0  # rows pulled so far (x^iterations is the newest iterate)
        self.numbers_at = 0  # the k the bars show
        self.pinned: int | None = None  # the iterate pinned on screen (None: the newest)
        self.shown: int | None = None  # the stored k the images show when pinned
        self.announced: set[str] = set()  # runs whose divergence was said

    # ---- the controller writes ------------------------------------------------------------
    def begin(self, variants: Sequence[str], x0: np.ndarray | None, policy: str = "") -> None:
        """A fresh run of ``variants`` from x⁰ (kept in the iterate history of every run) with
        proposal policy ``policy``."""
        self._forget()
        self.variants, self.policy = tuple(variants), policy
        if x0 is not None:
            for variant in self.variants:
                self.iterates.add(variant, 0, x0)
        self.events.started.emit(self.variants)

    def clear(self) -> None:
        """Forget the run; views empty themselves."""
        self._forget()
        self.variants = ()
        self.events.cleared.emit()

    def _forget(self) -> None:
        self.history = RunHistory()
        self.iterates = IterateHistory(self.budget_bytes)  # a retiring worker may write the old
        self.latest_x = {}
        self.iterations = self.numbers_at = 0
        self.pinned = self.shown = None
        self.announced = set()

    def add(
        self,
        rows: dict[str, list[dict]],
        images: dict[str, dict[str, np.ndarray | None]],
        iterations: int,
        markers: dict[int, dict[str, float]],
    ) -> None:
        """New rows and images pulled from the worker: x^iterations is now the newest iterate."""
        for variant, new in rows.items():
            self.history.extend(variant, new)
        for variant, shown in images.items():
            if shown.get("x") is not None:
                self.latest_x[variant] = shown["x"]
        self.iterations = int(iterations)
        self.events.rows.emit(self.history)
        self.events.markers.emit({k: c for k, c in markers.items() if k < self.iterations})
        self.events.images.emit(images, self.iterations)

    def show_numbers(self, iterations: int | None = None) -> bool:
        """The bars show k = ``iterations`` (default: the newest); False if they already do."""
        k = self.iterations if iterations is None else int(iterations)
        if k == self.numbers_at:
            return False
        self.numbers_at = k
        self.events.numbers.emit(k)
        return True

    def announce_divergence(self, done: Sequence[str]) -> None:
        """Runs that stopped: say once each which diverged, and show them all."""
        diverged = {v: self.history.diverged_at(v) for v in done}
        diverged = {v: k for v, k in diverged.items() if k is not None}
        for variant, at in diverged.items():
            if variant not in self.announced:
                self.announced.add(variant)
                self.events.message.emit(f"{label(variant)} diverged at k = {at} and was stopped")
        if diverged:
            self.events.diverged.emit(diverged)

    def set_budget(self, budget_bytes: int) -> None:
        """The iterate history's memory budget; the history thins to it at its next iterate."""
        self.budget_bytes = int(budget_bytes)
        self.iterates.budget_bytes = self.budget_bytes
        self.events.budget.emit(self.budget_bytes)

    # ---- which iterate is on screen --------------------------------------------------------
    def pin(self, k: int) -> int | None:
        """Show iterate x^k (clamped to 0 … newest); returns the stored k the views show."""
        self.pinned = max(0, min(int(k), self.numbers_at))
        self.shown = self.pinned
        self.events.position.emit(self.pinned)  # the image view sets ``shown`` (nearest kept)
        return self.shown

    def follow(self) -> None:
        """Show the newest iterate again, and keep following it."""
        self.pinned = self.shown = None
        self.events.position.emit(None)

    # ---- what the views read ---------------------------------------------------------------
    def iteration_costs(self) -> dict[str, float]:
        """Seconds one iteration of each run costs, over its last few iterations."""
        costs = {}
        for variant in self.history.variants:
            recent = [r.get("seconds", 0.0) for r in self.history.rows(variant)[-COST_WINDOW:]]
            if recent:
                costs[label(variant)] = sum(recent) / len(recent)
        return costs

    def fima_runs(self) -> list[str]:
        """The fima runs with rows (the only variant whose check rejects)."""
        runs = [v for v in self.history.variants if variant_of(v) == "fima"]
        return [v for v in runs if self.history.count(v)]

    def acceptance_summary(self) -> str:
        """``FIMA accepted 80 %``, and ``FIMA · C=0.3 95 %`` beside it in an A/B run."""
        runs = self.fima_runs()
        if not runs:
            return ""
        rates = {v: 100 * float(self.history.acceptance_rate(v)[-1]) for v in runs}
        if len(rates) == 1:
            return f"{label(runs[0])} accepted {rates[runs[0]]:.0f} %"
        return "accepted: " + ", ".join(f"{label(v)} {r:.0f} %" for v, r in rates.items())
