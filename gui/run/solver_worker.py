"""The solver worker: advances one ``core.iterate`` generator per variant in lockstep, off the GUI.

Threading contract (DESIGN.md §5):

* The worker lives in its own QThread; :meth:`SolverWorker.run` is started by ``QThread.started``
  and loops until cancelled, sleeping on an event while paused so pause / step / cancel respond at
  once. After a cancel, the loop quits its own thread once it has returned. Control methods
  (:meth:`resume`, :meth:`pause`, :meth:`step`, :meth:`cancel`, :meth:`set_limit`) are
  thread-safe and only touch ``threading`` primitives.
* Parameter changes go straight to the shared :class:`core.ParameterTimeline` (``submit`` is
  thread-safe) and are applied to every variant at the next iteration boundary. In an A/B run
  (several runs of one variant with their own parameters, :mod:`core.run_spec`) the "variants"
  are run labels (``fima · C=0.3``), each iterated with its own :class:`core.RunTimeline` over the
  shared one, so a change sent to one run reaches that run only.
* Back-pressure: every scalar row is kept; of the images only the latest per variant (float32,
  C-contiguous numpy copies made here, in the worker thread). ``dataReady`` carries no payload and
  is emitted only when the previous one has been collected with :meth:`take_update`.
* Every iterate x^{k+1} also goes into the run's :class:`core.history.IterateHistory` (thread-safe,
  memory-bounded) before its row is published, so the history scrubber can show any past iterate;
  beside it (kind ``d``) the optimality-error map |d| of the step that made it, when one was made.
* A worker started while the previous run's worker is still finishing a long iteration on the same
  problem waits (in its own thread) for that one to return before it starts iterating.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

import numpy as np
import torch
from PySide6.QtCore import QObject, QThread, Signal, Slot

from core import ParameterTimeline, iterate
from core.errors import one_line
from core.history import IterateHistory
from core.interrupt import Abandoned
from core.io import map_to_array, tensor_to_array
from core.proposal import DEFAULT_POLICY
from core.run_spec import variant_of

from ..display import to_display_array
from .allocator import frame_copy

IDLE_WAIT_S = 0.1  # upper bound on a paused sleep; control calls wake the loop at once
RUN, STEP = "run", "step"  # why the iteration in flight was started


def to_map_frame(d_map: torch.Tensor | None) -> np.ndarray | None:
    """An (H, W) map (the optimality error |d|) as a history frame (None → None)."""
    return frame_copy(map_to_array(d_map)) if d_map is not None else None


def to_history_frame(x: torch.Tensor) -> np.ndarray:
    """Like :func:`to_display_array`, in memory the history can give back (gui.run.allocator)."""
    return frame_copy(tensor_to_array(x))


@dataclass(frozen=True)
class RunSpec:
    """What one run iterates: the problem, the module A, the parameter timeline (C, μ, γ, λ …),
    the variants (or run labels) advanced in lockstep, the iteration limit, where the iterates
    are kept, and a timeline of its own for any run label that has one."""

    problem: object
    module: object
    timeline: ParameterTimeline | None
    variants: tuple[str, ...]
    limit: int
    history: IterateHistory | None = None
    propose: str = DEFAULT_POLICY  # fima's proposal policy (core/proposal.py)
    timelines: Mapping[str, ParameterTimeline] = field(default_factory=dict)  # by run label


@dataclass
class RunUpdate:
    """What the GUI collects in one pull: new rows per variant and the latest images."""

    rows: dict[str, list[dict]] = field(default_factory=dict)
    images: dict[str, dict[str, np.ndarray | None]] = field(default_factory=dict)
    iterations: int = 0
    done: tuple[str, ...] = ()


class SolverWorker(QObject):
    """Owns the algorithm generators of one run and advances them in lockstep."""

    dataReady = Signal()  # new rows/images are waiting; payload-free on purpose
    limitReached = Signal()  # the iteration limit was reached and the worker paused itself
    error = Signal(str)  # an engine exception ended the run (one line)
    finished = Signal()  # the loop returned (cancelled, error, or every variant stopped)

    def __init__(self, spec: RunSpec, predecessor: SolverWorker | None = None) -> None:
        super().__init__()
        if not spec.variants:
            raise ValueError("no variant selected")
        self.problem = spec.problem
        self.module = spec.module
        self.timeline = spec.timeline
        self.timelines = dict(spec.timelines)
        self.variants = tuple(dict.fromkeys(spec.variants))
        self.history = spec.history
        self.propose = spec.propose
        self._predecessor = predecessor
        self._lock = threading.Lock()
        self._limit = int(spec.limit)
        self._steps = 0
        self._iterations = 0  # lockstep steps completed (= records per live variant)
        self._rows: dict[str, list[dict]] = {v: [] for v in self.variants}
        self._taken: dict[str, int] = {v: 0 for v in self.variants}
        self._images: dict[str, dict[str, np.ndarray | None]] = {}
        self._done: list[str] = []
        self._pending = False
        self._running = threading.Event()
        self._cancel = threading.Event()
        self._interrupt = threading.Event()  # pause / cancel: abandon the iteration in flight
        self._partial: dict[str, object] = {}  # records of the lockstep step in flight so far
        self._flight: str | None = None  # the iteration in flight: RUN, STEP (or None), locked
        self._wake = threading.Event()
        self._idle = threading.Event()
        self._returned = threading.Event()
        self._idle.set()

    # ---- control (any thread) -------------------------------------------------------------
    def resume(self) -> None:
        """Run freely until paused, cancelled or at the iteration limit."""
        self._interrupt.clear()
        self._running.set()
        self._wake.set()

    def pause(self) -> None:
        """Stop now: the iteration in flight is abandoned before its next network pass (and
        computed again on resume), so a pause acts within one pass, not one iteration."""
        with self._lock:
            self._running.clear()
            self._interrupt.set()
            self._steps = 0
            if self._flight == STEP:
                self._flight = RUN  # the step in flight is abandoned too
        self._wake.set()

    def step(self) -> None:
        """Pause after exactly one more iteration of every variant (even past the limit): while
        running, the iteration in flight is that one; while paused, one more is computed."""
        with self._lock:
            self._running.clear()
            self._interrupt.clear()  # an iteration being abandoned by a pause goes on instead
            if self._flight == RUN:
                self._flight = STEP
            else:
                self._steps += 1
        self._wake.set()

    def cancel(self) -> None:
        """End the loop within one network pass (the iteration in flight is abandoned)."""
        self._cancel.set()
        self._interrupt.set()
        self._wake.set()

    def set_limit(self, limit: int) -> None:
        """Change the iteration limit (live)."""
        with self._lock:
            self._limit = int(limit)
        self._wake.set()

    # ---- state (any thread) ---------------------------------------------------------------
    @property
    def limit(self) -> int:
        """The iteration limit."""
        with self._lock:
            return self._limit

    @property
    def iterations(self) -> int:
        """Lockstep iterations completed so far."""
        with self._lock:
            return self._iterations

    def is_running(self) -> bool:
        """True while free-running (not paused)."""
        return self._running.is_set()

    def is_idle(self) -> bool:
        """True when no iteration is running or queued (paused, at the limit, or ended)."""
        if self.has_ended():
            return True
        with self._lock:
            return self._idle.is_set() and self._steps == 0 and not self._running.is_set()

    def has_ended(self) -> bool:
        """True once the loop has returned."""
        return self._returned.is_set()

    def at_limit(self) -> bool:
        """True when the iteration limit has been reached."""
        with self._lock:
            return self._iterations >= self._limit

    def row_count(self, variant: str) -> int:
        """Records produced so far by ``variant``."""
        with self._lock:
            return len(self._rows[variant])

    def rows(self, variant: str | None = None) -> list[dict]:
        """A copy of every row so far (of one variant, or all variants grouped by variant)."""
        with self._lock:
            chosen = [variant] if variant else list(self.variants)
            return [dict(row) for v in chosen for row in self._rows[v]]

    def take_update(self) -> RunUpdate:
        """Collect rows added since the last call and the latest images; re-arms ``dataReady``."""
        with self._lock:
            update = RunUpdate(iterations=self._iterations, done=tuple(self._done))
            for v in self.variants:
                new = self._rows[v][self._taken[v] :]
                if new:
                    update.rows[v] = new
                    self._taken[v] += len(new)
            update.images = self._images
            self._images = {}
            self._pending = False
        return update

    def wait_returned(self, timeout: float | None = None) -> bool:
        """Block until the loop has returned (True) or ``timeout`` seconds passed (False)."""
        return self._returned.wait(timeout)

    # ---- the loop (worker thread) ---------------------------------------------------------
    @Slot()
    def run(self) -> None:
        """The worker loop: iterate while allowed, sleep while paused, return when cancelled."""
        try:
            self._wait_for_predecessor()
            generators = {
                v: iterate(
                    self.problem,
                    self.module,
                    self.timelines.get(v, self.timeline),
                    variant_of(v),
                    propose=self.propose,
                    d_maps=True,
                    interrupt=self._interrupt,
                )
                for v in self.variants
            }
            while not self._cancel.is_set() and generators:
                self._wake.clear()
                if self._claim_iteration():
                    self._advance(generators)
                else:
                    self._wake.wait(IDLE_WAIT_S)
        except Exception as exc:  # an engine failure ends this run, never the application
            self.error.emit(one_line(exc))
        finally:
            self._running.clear()
            self._idle.set()
            self._returned.set()
            self.finished.emit()
            if self._cancel.is_set():  # the loop has returned: now the thread may end
                QThread.currentThread().quit()

    def _wait_for_predecessor(self) -> None:
        """Let a cancelled earlier run on the same problem finish its iteration first."""
        predecessor, self._predecessor = self._predecessor, None
        while predecessor is not None and not self._cancel.is_set():
            if predecessor.wait_returned(IDLE_WAIT_S):
                return

    def _timelines_in_use(self) -> list:
        """Every parameter timeline the runs read (the shared one and each run's own)."""
        chosen = [self.timelines.get(v, self.timeline) for v in self.variants]
        return [t for t in chosen if t is not None]

    def _claim_iteration(self) -> bool:
        """Decide under the lock whether to do one more iteration now (and mark busy / idle)."""
        with self._lock:
            stepping = self._steps > 0
            claim = stepping or (self._running.is_set() and self._iterations < self._limit)
            if stepping:
                self._steps -= 1
            if claim:
                self._idle.clear()
                self._flight = STEP if stepping else RUN
                return True
            self._idle.set()
            hit_limit = self._running.is_set()
            self._running.clear()
        if hit_limit:
            self.limitReached.emit()
        return False

    def _advance(self, generators: dict) -> None:
        """One iteration of every live variant; images copied here, rows kept under the lock.

        An interrupted variant (pause, cancel) yields :class:`core.interrupt.Abandoned`: the
        records of the variants done so far wait in ``_partial`` and only the others are computed
        when the run goes on, so the lockstep step is published whole or not at all."""
        for variant, generator in list(generators.items()):
            if variant in self._partial:
                continue
            if self._cancel.is_set():  # a cancelled run is discarded: don't start another variant
                return
            record = next(generator, None)
            if isinstance(record, Abandoned):
                if not self._partial:  # no run finished iteration k: later edits may start at k
                    for timeline in {id(t): t for t in self._timelines_in_use()}.values():
                        timeline.reopen(record.k)
                with self._lock:  # a step asked for as the abandon landed: compute it again
                    if self._flight == STEP and not self._cancel.is_set():
                        self._steps += 1
                    self._flight = None
                return
            if record is None or record.diverged:
                del generators[variant]
                with self._lock:
                    self._done.append(variant)
            if record is not None:
                record.label = variant  # the run's label (its variant when it has no overrides)
            self._partial[variant] = record
        records = {v: r for v, r in self._partial.items() if r is not None}
        self._partial = {}
        images = {
            v: {
                "x": to_history_frame(r.x),
                "u": to_display_array(r.u),
                "u_tilde": to_display_array(r.u_tilde),
                "d": to_map_frame(r.d_map),
            }
            for v, r in records.items()
        }
        if self.history is not None:
            for v, r in records.items():
                if images[v]["x"] is not None:
                    self.history.add(v, r.k + 1, images[v]["x"])
                if images[v]["d"] is not None:  # beside x^{k+1}, the map of the step that made it
                    self.history.add(v, r.k + 1, images[v]["d"], kind="d")
        with self._lock:
            for v, r in records.items():
                self._rows[v].append(r.row())
            self._images.update(images)
            self._iterations += 1
            self._flight = None
            notify = not self._pending
            self._pending = True
        if notify:
            self.dataReady.emit()
