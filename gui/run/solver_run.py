"""One run of the solver: a :class:`SolverWorker` in its own QThread, started and stopped cleanly.

The run relays the worker's signals through bound methods of this GUI-thread object (queued
connections) and drops them once the run is stopped. ``stop()`` sets the cancel event and waits
(up to a timeout) for the worker loop to return (it then quits its own thread) before joining the
thread; a loop still inside a long iteration is left to finish in the background instead of
blocking the caller, and :meth:`SolverRun.join` can wait for it later (e.g. when the window closes).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal, Slot

from .engine_child import SOLVER_THREAD
from .solver_worker import RunSpec, RunUpdate, SolverWorker
from .worker_thread import WorkerThread, detached

STOP_TIMEOUT_S = 60.0  # one iteration of a big problem on a slow CPU can take seconds


class SolverRun(WorkerThread):
    """A QThread + worker pair for one run, with thread-safe controls and GUI-thread signals."""

    dataReady = Signal()
    limitReached = Signal()
    error = Signal(str)
    finished = Signal()

    def __init__(
        self,
        spec: RunSpec,
        predecessor: SolverRun | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        waits_for = (
            predecessor.worker if predecessor is not None and not predecessor.has_ended() else None
        )
        self.worker = SolverWorker(spec, waits_for)
        self.variants = self.worker.variants
        self.history = spec.history  # the iterate history the worker writes (the window's own)
        self.propose = spec.propose  # fima's proposal policy, for the session
        w = self.worker
        self._attach(w, SOLVER_THREAD, w.run, w.wait_returned, w.has_ended)
        self.worker.dataReady.connect(self._relay_data)
        self.worker.limitReached.connect(self._relay_limit)
        self.worker.error.connect(self._relay_error)
        self.worker.finished.connect(self._relay_finished)
        self._stopped = False

    # ---- lifecycle ------------------------------------------------------------------------
    def start(self, running: bool = True) -> None:
        """Start the thread; free-running if ``running``, else paused until resumed or stepped."""
        if running:
            self.worker.resume()
        self._start_thread()

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> bool:
        """Cancel the worker, wait up to ``timeout_s`` for its loop to return, then join the
        thread (True if joined; False: it finishes its iteration in the background)."""
        if not self._stopped:
            self._stopped = True
            self.worker.cancel()
        return self.join(timeout_s)

    def join(self, timeout_s: float = STOP_TIMEOUT_S) -> bool:
        """Wait up to ``timeout_s`` for a stopped run's loop to return and its thread to end."""
        return super().join(timeout_s)

    @property
    def stopped(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stopped

    # ---- controls (pause, limit: on the worker itself) -----------------------------------
    def step(self) -> None:
        """Advance exactly one iteration of each variant (starting the thread if needed)."""
        self.worker.step()
        self.start(running=False)

    # ---- state ----------------------------------------------------------------------------
    def is_running(self) -> bool:
        """True while free-running."""
        return self.worker.is_running() and not self.worker.has_ended()

    def has_ended(self) -> bool:
        """True when the worker loop has returned (error, cancel, or every variant stopped)."""
        return self.worker.has_ended()

    def take_update(self) -> RunUpdate:
        """New rows and the latest images since the last pull."""
        return self.worker.take_update()

    # ---- relays (GUI thread) --------------------------------------------------------------
    @Slot()
    def _relay_data(self) -> None:
        if not self._stopped:
            self.dataReady.emit()

    @Slot()
    def _relay_limit(self) -> None:
        if not self._stopped:
            self.limitReached.emit()

    @Slot(str)
    def _relay_error(self, message: str) -> None:
        if not self._stopped:
            self.error.emit(message)

    @Slot()
    def _relay_finished(self) -> None:
        if not self._stopped:
            self.finished.emit()


def detached_runs() -> list[SolverRun]:
    """Stopped runs still finishing an iteration in the background."""
    return detached(SolverRun)
