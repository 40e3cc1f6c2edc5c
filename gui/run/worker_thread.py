"""A worker QObject in its own QThread, joined with a timeout and kept alive while it finishes.

Both the solver run (:mod:`gui.run.solver_run`) and the study runner (:mod:`gui.study.study_runner`)
are such a pair. The worker quits its own thread when its loop returns; :meth:`WorkerThread.join`
waits (up to a timeout) for that and joins the thread. A loop still inside long work is left to
finish in the background instead of blocking the caller: the pair is kept in a registry (so the
QThread is not destroyed while running) until its thread ends.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, QThread, Slot

_DETACHED: list[WorkerThread] = []  # pairs whose loop outlived join(); kept until they end


class WorkerThread(QObject):
    """The QThread side of a worker pair: start once, join with a timeout, detach if still busy.

    A subclass calls :meth:`_attach` with its worker, the thread's name, the worker's slot to run,
    and two callables of the worker: ``wait(timeout_s) -> bool`` (its loop returned) and
    ``ended() -> bool``.
    """

    def _attach(
        self,
        worker: QObject,
        name: str,
        run: Callable[[], None],
        wait: Callable[[float], bool],
        ended: Callable[[], bool],
    ) -> None:
        self._thread = QThread()
        self._thread.setObjectName(name)
        worker.moveToThread(self._thread)
        self._thread.started.connect(run)
        self._wait_loop = wait
        self._loop_ended = ended
        self._started = False

    def _start_thread(self) -> None:
        """Start the thread (once)."""
        if not self._started:
            self._started = True
            self._thread.start()

    def join(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for the worker's loop to return and its thread to end."""
        if not self._started:
            return True
        if self._wait_loop(timeout_s):
            self._thread.quit()  # already asked by the worker itself; harmless twice
            self._thread.wait()
            self._forget()
            return True
        if self not in _DETACHED:  # keep the QThread alive until the loop comes back
            _DETACHED.append(self)
            self._thread.finished.connect(self._forget)
        return False

    @Slot()
    def _forget(self) -> None:
        if self in _DETACHED and self._loop_ended():
            self._thread.wait()  # finished was emitted: the thread is ending
            _DETACHED.remove(self)

    def is_thread_running(self) -> bool:
        """True while the QThread is alive."""
        return self._thread.isRunning()


def detached(kind: type[WorkerThread] = WorkerThread) -> list[WorkerThread]:
    """Pairs of ``kind`` still finishing their work in the background."""
    return [pair for pair in _DETACHED if isinstance(pair, kind)]
