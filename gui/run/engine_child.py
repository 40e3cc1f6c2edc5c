"""The engine process's side: solver workers run here, out of the window's GIL (issue 29).

:mod:`gui.run.engine_process` spawns one such process per application and talks to it over two
pipes. Requests come in on ``requests`` and are served one at a time by this process's main thread
(:func:`serve`); each run's :class:`gui.run.solver_worker.SolverWorker` loops in a thread of its
own, with its :class:`core.history.IterateHistory` and its copies of the parameter timelines, and
its notifications (data waiting, limit reached, error, loop returned) go back on ``notices``.

A request is a tuple ``(kind, run_id, *args)``; those of :data:`ANSWERED` get one reply each.
The window pulls rows, the newest images, the timelines' records and the history's figures with
``take`` (a few dozen times a second), and a past iterate with ``history`` when the user scrubs:
no iterate travels unless it is shown.
"""

from __future__ import annotations

import ctypes
import pickle
import signal
import threading
from dataclasses import dataclass, field, replace

from .shared_images import ImageExport

PR_SET_NAME = 15  # prctl(2)
SOLVER_THREAD = "fima-solver"  # the kernel's name of a solver thread (here, and in a QThread)
ANSWERED = frozenset({"start", "take", "query", "history"})
QUERIES = frozenset({"row_count", "rows", "is_idle", "iterations", "at_limit"})
HISTORY_READS = frozenset({"get", "iterations"})


@dataclass
class ChildRun:
    """One run in the engine: its worker, the thread that loops it, and what the window reads."""

    worker: object
    thread: threading.Thread
    history: object
    timelines: dict = field(default_factory=dict)  # "" → the shared timeline; label → its own
    cancelled: bool = False
    images: ImageExport = field(default_factory=ImageExport)  # large images of its pulls


def name_this_thread(name: str) -> None:
    """Give the calling thread ``name`` in the kernel (what top and profilers show; Linux only)."""
    try:
        libc = ctypes.CDLL(None)
        libc.prctl(PR_SET_NAME, ctypes.c_char_p(name[:15].encode()), 0, 0, 0)
    except (OSError, AttributeError):  # not Linux: the name is cosmetic
        pass


def history_figures(history: object) -> tuple[int, int, list[str]]:
    """(stride, stored bytes, variants) of an iterate history: what its status line shows."""
    return history.stride, history.stored_bytes, history.variants()


class Engine:
    """The runs of one engine process, by the id the window gave each."""

    def __init__(self, notices: object) -> None:
        self.runs: dict[int, ChildRun] = {}
        self._notices = notices
        self._lock = threading.Lock()  # workers notify from their own threads
        self._runs_lock = threading.Lock()

    def tell(self, *notice: object) -> None:
        """A notice to the window (any thread)."""
        with self._lock:
            try:
                self._notices.send(notice)
            except OSError:  # the window is gone: nothing to tell
                pass

    def handle(self, kind: str, run_id: int, args: tuple) -> object:
        """Serve one request; the reply of an answered one (else None)."""
        if kind == "start":
            return self.start(run_id, *args)
        with self._runs_lock:
            run = self.runs.get(run_id)
        if kind == "history" and args[0] in HISTORY_READS:
            return None if run is None else getattr(run.history, args[0])(*args[1:])
        if kind == "query":
            if run is None or args[0] not in QUERIES:
                return None
            value = getattr(run.worker, args[0])  # a method, or a property (iterations, limit)
            return value(*args[1:]) if callable(value) else value
        if run is None:
            return None
        if kind == "take":
            return self.take(run)
        if kind == "submit":
            run.timelines[args[0]].submit(**args[1])
        elif kind == "history":
            name, *rest = args
            if name == "budget":
                run.history.budget_bytes = int(rest[0])
        elif kind == "set_limit":
            run.worker.set_limit(*args)
        elif kind == "cancel":
            run.cancelled = True
            run.worker.cancel()
            self._forget_if_returned(run_id)
        elif kind in ("resume", "pause", "step"):
            getattr(run.worker, kind)()
        return None

    def start(self, run_id: int, payload: bytes, predecessor: int | None) -> str | None:
        """Unpickle a run and start its worker; None, or why the run cannot be done here."""
        from PySide6.QtCore import Qt

        from core.history import IterateHistory

        from .solver_worker import SolverWorker

        try:
            spec, budget, frames = pickle.loads(payload)
        except Exception as exc:  # a network whose code this process cannot import
            return f"{type(exc).__name__}: {exc}"
        history = IterateHistory(budget)
        for variant, k, image, kind in frames:
            history.add(variant, k, image, kind)
        spec = replace(spec, history=history)
        with self._runs_lock:
            waits_for = self.runs.get(predecessor) if predecessor is not None else None
        worker = SolverWorker(spec, waits_for.worker if waits_for is not None else None)
        timelines = {"": spec.timeline, **spec.timelines}
        # no event loop here: the notices leave from the worker's thread, as it emits them
        direct = Qt.ConnectionType.DirectConnection
        worker.dataReady.connect(lambda: self.tell(run_id, "data"), direct)
        worker.limitReached.connect(lambda: self.tell(run_id, "limit"), direct)
        worker.error.connect(lambda message: self.tell(run_id, "error", message), direct)
        thread = threading.Thread(target=self._loop, args=(run_id, worker), name="fima-solver")
        with self._runs_lock:
            self.runs[run_id] = ChildRun(worker, thread, history, timelines)
        thread.start()
        return None

    def _loop(self, run_id: int, worker: object) -> None:
        """A worker's loop; when it returns, the window hears of it (and a cancelled run goes)."""
        name_this_thread(SOLVER_THREAD)
        try:
            worker.run()
        finally:
            self._forget_if_returned(run_id)
            self.tell(run_id, "finished")

    def _forget_if_returned(self, run_id: int) -> None:
        """Drop a cancelled run once its loop has returned (its results are not wanted)."""
        with self._runs_lock:
            run = self.runs.get(run_id)
            if run is not None and run.cancelled and run.worker.has_ended():
                del self.runs[run_id]
                run.images.close()

    def take(self, run: ChildRun) -> tuple:
        """New rows and images, every timeline's record, and the history's figures."""
        update = run.worker.take_update()
        update.images = run.images.pack(update.images)
        records = {key: t.snapshot() for key, t in run.timelines.items() if t is not None}
        return update, records, history_figures(run.history), run.worker.is_running()

    def shut_down(self) -> None:
        """Cancel every run and wait a little for their loops."""
        with self._runs_lock:
            runs = list(self.runs.values())
        for run in runs:
            run.worker.cancel()
        for run in runs:
            run.thread.join(5.0)
            run.images.close()


def serve(requests: object, notices: object, threads: int) -> None:
    """The engine process's main: serve requests until told to quit or the window goes away."""
    from core.threads import choose_threads

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C in a terminal is the window's to handle
    choose_threads(threads)
    from . import solver_worker  # noqa: F401  (imported before the first run, not in it)

    engine = Engine(notices)
    engine.tell(None, "ready")
    while True:
        try:
            kind, run_id, *args = requests.recv()
        except (EOFError, OSError):  # the window's process ended
            break
        if kind == "quit":
            break
        try:
            reply = engine.handle(kind, run_id, tuple(args))
        except Exception as exc:  # a request that fails must not end the other runs
            reply = f"{type(exc).__name__}: {exc}"
            if kind not in ANSWERED:
                engine.tell(run_id, "error", reply)
        if kind in ANSWERED:
            requests.send(reply)
    engine.shut_down()
