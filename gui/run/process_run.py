"""A run in the engine process, seen from the window: :class:`ProcessRun` (the controls, the
signals and the pulls of :class:`gui.run.solver_run.SolverRun`), the worker's state asked of the
engine (``run.worker``) and the engine's iterate history read as the window's own
(:class:`RemoteHistory`). The process itself: :mod:`gui.run.engine_process`.
"""

from __future__ import annotations

import itertools
import threading
from functools import partial

from PySide6.QtCore import QObject, Signal, Slot

from core.history import ITERATE, IterateHistory

from .engine_child import history_figures
from .engine_process import EngineUnavailable, engine, run_payload
from .shared_images import ImageImport
from .solver_worker import RunSpec, RunUpdate

_IDS = itertools.count(1)


class RemoteHistory:
    """The engine's iterate history of one run, read as a :class:`core.history.IterateHistory`."""

    def __init__(self, run: ProcessRun, budget_bytes: int, figures: tuple) -> None:
        self._run = run
        self._budget = int(budget_bytes)
        self.figures = figures  # (stride, stored bytes, variants), renewed at every pull

    @property
    def budget_bytes(self) -> int:
        """The history's memory budget (bytes)."""
        return self._budget

    @budget_bytes.setter
    def budget_bytes(self, value: int) -> None:
        self._budget = int(value)
        self._run.send("history", "budget", self._budget)

    @property
    def stride(self) -> int:
        """Current spacing of kept iterates (at the last pull)."""
        return self.figures[0]

    @property
    def stored_bytes(self) -> int:
        """Bytes the engine's history holds (at the last pull)."""
        return self.figures[1]

    def variants(self) -> list[str]:
        """Variants with stored iterates (at the last pull)."""
        return list(self.figures[2])

    def iterations(self, variant: str, kind: str = ITERATE) -> list[int]:
        """Stored iteration indices of ``variant``, ascending (asked of the engine)."""
        return self._run.ask("history", "iterations", variant, kind) or []

    def get(self, variant: str, k: int, kind: str = ITERATE) -> tuple | None:
        """The stored image at k or the nearest before it (asked of the engine)."""
        return self._run.ask("history", "get", variant, int(k), kind)


class _Worker:
    """What callers read and control on ``run.worker``, asked of the engine."""

    def __init__(self, run: ProcessRun, timeline: object) -> None:
        self._run = run
        self.timeline = timeline

    def resume(self) -> None:
        """Run freely."""
        self._run.send("resume", running=True)

    def pause(self) -> None:
        """Stop within one network pass."""
        self._run.send("pause", running=False)

    def step(self) -> None:
        """One more iteration of every variant, then pause."""
        self._run.send("step", running=False)

    def cancel(self) -> None:
        """End the loop."""
        self._run.send("cancel", running=False)

    def set_limit(self, limit: int) -> None:
        """Change the iteration limit (live)."""
        self._run.send("set_limit", int(limit))

    def _query(self, name: str, *args: object, default: object = None) -> object:
        value = self._run.ask("query", name, *args)
        return default if value is None else value

    @property
    def iterations(self) -> int:
        """Lockstep iterations completed so far."""
        return self._query("iterations", default=0)

    def at_limit(self) -> bool:
        """True when the iteration limit has been reached."""
        return bool(self._query("at_limit", default=False))

    def is_idle(self) -> bool:
        """True when no iteration is running or queued."""
        return self._run.has_ended() or bool(self._query("is_idle", default=True))

    def is_running(self) -> bool:
        """True while free-running (as of the last control sent or pull)."""
        return self._run.is_running()

    def has_ended(self) -> bool:
        """True once the loop has returned."""
        return self._run.has_ended()

    def row_count(self, variant: str) -> int:
        """Records produced so far by ``variant``."""
        return self._query("row_count", variant, default=0)

    def rows(self, variant: str | None = None) -> list[dict]:
        """Every row so far (of one variant, or all)."""
        return self._query("rows", variant, default=[])

    def wait_returned(self, timeout: float | None = None) -> bool:
        """Block until the loop has returned (True) or ``timeout`` passed (False)."""
        return self._run.wait_returned(timeout)


class ProcessRun(QObject):
    """One run in the engine process, with :class:`gui.run.solver_run.SolverRun`'s interface."""

    dataReady = Signal()
    limitReached = Signal()
    error = Signal(str)
    finished = Signal()
    _noticed = Signal(str, str)  # from the notices thread to this GUI-thread object

    def __init__(
        self, spec: RunSpec, predecessor: object | None = None, parent: QObject | None = None
    ) -> None:
        """Send ``spec`` to the engine (EngineUnavailable: it must run in a thread instead)."""
        super().__init__(parent)
        payload = run_payload(spec)
        self.run_id = next(_IDS)
        self.variants = tuple(dict.fromkeys(spec.variants))
        self.propose = spec.propose
        self.worker = _Worker(self, spec.timeline)
        self._stopped = False
        self._running = False
        self._returned = threading.Event()
        self._images = ImageImport()  # large images come through shared memory
        self._noticed.connect(self._relay)
        self._engine = engine()
        self._engine.register(self)
        waits_for = None
        if isinstance(predecessor, ProcessRun) and not predecessor.has_ended():
            waits_for = predecessor.run_id
        try:
            refused = self._engine.ask("start", self.run_id, payload, waits_for)
        except EngineUnavailable:
            self._engine.unregister(self.run_id)
            raise
        if refused is not None:
            self._engine.unregister(self.run_id)
            raise EngineUnavailable(f"the engine process could not load it ({refused})")
        self._timelines = {"": spec.timeline, **spec.timelines}
        for key, timeline in self._timelines.items():
            if timeline is not None:
                timeline.forward_to(partial(self._forward, key))
        history = spec.history if spec.history is not None else IterateHistory()
        self.history = RemoteHistory(self, history.budget_bytes, history_figures(history))

    # ---- talking to the engine --------------------------------------------------------------
    def send(self, kind: str, *args: object, running: bool | None = None) -> None:
        """A request about this run that needs no reply (``running``: what a control makes of
        the loop: free-running or not)."""
        if running is not None:
            self._running = running
        self._engine.tell(kind, self.run_id, *args)

    def ask(self, kind: str, *args: object) -> object:
        """A request about this run and its reply (None once the engine is gone)."""
        try:
            return self._engine.ask(kind, self.run_id, *args)
        except EngineUnavailable:
            return None

    def _forward(self, key: str, changes: dict) -> None:
        """An edit the window made to a timeline goes to the engine's copy."""
        self.send("submit", key, changes)

    def notice(self, kind: str, *args: object) -> None:
        """A notice from the engine (notices thread): relayed to the GUI thread."""
        if kind == "finished":
            self._returned.set()
        self._noticed.emit(kind, str(args[0]) if args else "")

    @Slot(str, str)
    def _relay(self, kind: str, message: str) -> None:
        if self._stopped:
            if kind == "finished":
                self._engine.unregister(self.run_id)
            return
        if kind == "data":
            self.dataReady.emit()
        elif kind == "limit":
            self.limitReached.emit()
        elif kind == "error":
            self.error.emit(message)
        elif kind == "finished":
            self.finished.emit()

    # ---- lifecycle --------------------------------------------------------------------------
    def start(self, running: bool = True) -> None:
        """Free-running if ``running`` (the engine's loop waits for it, or for a step)."""
        if running:
            self.worker.resume()

    def step(self) -> None:
        """Advance exactly one iteration of each variant."""
        self.worker.step()

    def stop(self, timeout_s: float = 60.0) -> bool:
        """Cancel the run and wait up to ``timeout_s`` for its loop to return (False: it
        finishes its iteration in the engine, and its results are dropped)."""
        if not self._stopped:
            self._stopped = True
            for timeline in self._timelines.values():
                if timeline is not None:
                    timeline.forward_to(None)
            self.worker.cancel()
        return self.join(timeout_s)

    def join(self, timeout_s: float = 60.0) -> bool:
        """Wait up to ``timeout_s`` for the run's loop to return."""
        if self._returned.wait(timeout_s) or not self._engine.alive():
            self._engine.unregister(self.run_id)
            self._images.close()
            return True
        return False

    def wait_returned(self, timeout: float | None = None) -> bool:
        """Block until the loop has returned (True) or ``timeout`` passed (False)."""
        return self._returned.wait(timeout)

    @property
    def stopped(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stopped

    # ---- state ------------------------------------------------------------------------------
    def is_running(self) -> bool:
        """True while free-running: as the last control sent made it, or as the engine said at
        the last pull (the controls and pulls reach it in order; no round trip here)."""
        return self._running and not self.has_ended()

    def has_ended(self) -> bool:
        """True when the loop has returned (error, cancel, every variant stopped, engine gone)."""
        return self._returned.is_set()

    def is_thread_running(self) -> bool:
        """True while the engine still runs this run's loop."""
        return not self._returned.is_set() and self._engine.alive()

    def take_update(self) -> RunUpdate:
        """New rows and the newest images since the last pull; the timelines' records too."""
        reply = self.ask("take")
        if not isinstance(reply, tuple):
            return RunUpdate()
        update, records, figures, self._running = reply
        for key, record in records.items():
            timeline = self._timelines.get(key)
            if timeline is not None:
                timeline.restore(record)
        self.history.figures = figures
        update.images = self._images.unpack(update.images)
        return update
