"""One run of the solver: a :class:`SolverWorker` in its own QThread, started and stopped cleanly.

The run relays the worker's signals through bound methods of this GUI-thread object (queued
connections) and drops them once the run is stopped. ``stop()`` sets the cancel event and waits
(up to a timeout) for the worker loop to return (it then quits its own thread) before joining the
thread; a loop still inside a long iteration is left to finish in the background instead of
blocking the caller, and :meth:`SolverRun.join` can wait for it later (e.g. when the window closes).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QThread, Signal, Slot

from core import ParameterTimeline
from core.history import IterateHistory

from .solver_worker import RunUpdate, SolverWorker

STOP_TIMEOUT_S = 60.0  # one iteration of a big problem on a slow CPU can take seconds
_DETACHED: list[SolverRun] = []  # runs whose iteration outlived stop(); kept until they end


class SolverRun(QObject):
    """A QThread + worker pair for one run, with thread-safe controls and GUI-thread signals."""

    dataReady = Signal()
    limitReached = Signal()
    error = Signal(str)
    finished = Signal()

    def __init__(
        self,
        problem,
        module,
        timeline: ParameterTimeline,
        variants: list[str] | tuple[str, ...],
        limit: int,
        history: IterateHistory | None = None,
        predecessor: SolverRun | None = None,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        waits_for = (
            predecessor.worker if predecessor is not None and not predecessor.has_ended() else None
        )
        self.worker = SolverWorker(problem, module, timeline, variants, limit, history, waits_for)
        self.variants = self.worker.variants
        self._thread = QThread()
        self._thread.setObjectName("fima-solver")
        self.worker.moveToThread(self._thread)
        self._thread.started.connect(self.worker.run)
        self.worker.dataReady.connect(self._relay_data)
        self.worker.limitReached.connect(self._relay_limit)
        self.worker.error.connect(self._relay_error)
        self.worker.finished.connect(self._relay_finished)
        self._started = False
        self._stopped = False

    # ---- lifecycle ------------------------------------------------------------------------
    def start(self, running: bool = True) -> None:
        """Start the thread; free-running if ``running``, else paused until resumed or stepped."""
        if running:
            self.worker.resume()
        if not self._started:
            self._started = True
            self._thread.start()

    def stop(self, timeout_s: float = STOP_TIMEOUT_S) -> bool:
        """Cancel the worker, wait up to ``timeout_s`` for its loop to return, then join the
        thread (True if joined; False: it finishes its iteration in the background)."""
        if not self._stopped:
            self._stopped = True
            self.worker.cancel()
        return self.join(timeout_s)

    def join(self, timeout_s: float = STOP_TIMEOUT_S) -> bool:
        """Wait up to ``timeout_s`` for a stopped run's loop to return and its thread to end."""
        if not self._started:
            return True
        if self.worker.wait_returned(timeout_s):
            self._thread.quit()  # already asked by the worker itself; harmless twice
            self._thread.wait()
            self._forget()
            return True
        if self not in _DETACHED:
            _DETACHED.append(self)
            self._thread.finished.connect(self._forget)
        return False

    @Slot()
    def _forget(self) -> None:
        if self in _DETACHED and self.worker.has_ended():
            self._thread.wait()  # finished was emitted: the thread is ending
            _DETACHED.remove(self)

    @property
    def stopped(self) -> bool:
        """True once :meth:`stop` was called."""
        return self._stopped

    def is_thread_running(self) -> bool:
        """True while the QThread is alive."""
        return self._thread.isRunning()

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
    return list(_DETACHED)
