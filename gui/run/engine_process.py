"""The engine process: one child process per application in which the solver runs (issue 29).

In a thread of the window's process, every small torch operation of a fast solver hands Python's
GIL back and forth with the GUI thread, and the window cost a solver of 300 iterations a second
10-25 % of its speed (docs/benchmarks.md, "Keeping up with a fast engine"). Here the solver runs in
a spawned child (:mod:`gui.run.engine_child`) with its iterate history; the window pulls rows and
the newest images a few dozen times a second and a past iterate only when it shows one.

* :class:`EngineProcess` is the child and its two pipes: requests (with replies) go down one,
  notices (data waiting, limit, error, loop returned) come up the other, read by a thread here.
  It starts at the first run (or :func:`warm_up`, once the window is up) and lives until the
  application ends; a run that finds it gone starts a new one.
* :class:`gui.run.process_run.ProcessRun` is what :class:`gui.run.solver_run.SolverRun` is for
  a thread: the same signals (emitted in the GUI thread, dropped once stopped), controls and
  ``take_update``. The parameter timelines stay the window's: each edit is forwarded, and every
  pull brings back what the engine's copies recorded (the iteration each edit started at). Its
  ``history`` is a :class:`gui.run.process_run.RemoteHistory` that reads the engine's iterate
  history.
* A run whose problem or network cannot be pickled, or that the child cannot load, raises
  :class:`EngineUnavailable`; the caller then runs it in a thread (:mod:`gui.run.runs`).
"""

from __future__ import annotations

import atexit
import multiprocessing as mp
import os
import pickle
import threading
from dataclasses import replace

from core.history import IterateHistory

from .engine_child import serve
from .solver_worker import RunSpec

ENGINE_ENV = "FIMA_ENGINE"  # "thread": every run in the window's process
REPLY_TIMEOUT_S = 120.0  # the first request waits for the child's imports (seconds on a slow CPU)


class EngineUnavailable(RuntimeError):
    """This run cannot go to the engine process (the reason, in one line)."""


def process_engine_wanted() -> bool:
    """True unless ``FIMA_ENGINE=thread`` asks for the solver in the window's process."""
    return os.environ.get(ENGINE_ENV, "process").strip().lower() != "thread"


class EngineProcess:
    """The child process that runs the solver, and the pipes to it."""

    def __init__(self, threads: int) -> None:
        """Spawn the child; it runs torch on ``threads`` threads."""
        context = mp.get_context("spawn")
        self._requests, child_requests = context.Pipe()
        notices, child_notices = context.Pipe(duplex=False)
        self._process = context.Process(
            target=serve,
            args=(child_requests, child_notices, threads),
            name="fima-engine",
            daemon=True,
        )
        self._process.start()
        child_requests.close()
        child_notices.close()
        self._lock = threading.Lock()  # one request (and its reply) at a time
        self._runs_lock = threading.Lock()  # the notices thread never waits for a reply
        self._runs: dict[int, object] = {}  # run id → its ProcessRun
        self.ready = threading.Event()
        self._lost = threading.Event()
        self._listener = threading.Thread(
            target=self._listen, args=(notices,), name="fima-engine-notices", daemon=True
        )
        self._listener.start()

    @property
    def pid(self) -> int | None:
        """The child's process id."""
        return self._process.pid

    def alive(self) -> bool:
        """True while the child runs and its pipes are open."""
        return not self._lost.is_set() and self._process.is_alive()

    def register(self, run: object) -> None:
        """Route ``run``'s notices to it."""
        with self._runs_lock:
            self._runs[run.run_id] = run

    def unregister(self, run_id: int) -> None:
        """Stop routing a run's notices."""
        with self._runs_lock:
            self._runs.pop(run_id, None)

    def ask(self, kind: str, run_id: int, *args: object) -> object:
        """A request and its reply (raises EngineUnavailable when the child is gone)."""
        with self._lock:
            try:
                self._requests.send((kind, run_id, *args))
                if not self._requests.poll(REPLY_TIMEOUT_S):
                    raise EngineUnavailable("the engine process did not answer")
                return self._requests.recv()
            except (OSError, EOFError) as exc:
                self._lost.set()
                raise EngineUnavailable("the engine process has stopped") from exc

    def tell(self, kind: str, run_id: int, *args: object) -> None:
        """A request without a reply (ignored when the child is gone)."""
        with self._lock:
            try:
                self._requests.send((kind, run_id, *args))
            except (OSError, EOFError):
                self._lost.set()

    def _listen(self, notices: object) -> None:
        """Hand each notice to its run (this thread; the run relays it to the GUI thread)."""
        while True:
            try:
                run_id, kind, *args = notices.recv()
            except (EOFError, OSError):
                break
            if run_id is None:
                self.ready.set()
                continue
            with self._runs_lock:
                run = self._runs.get(run_id)
            if run is not None:
                run.notice(kind, *args)
        self._lost.set()
        self._process.join(1.0)
        code = self._process.exitcode
        with self._runs_lock:
            runs, self._runs = list(self._runs.values()), {}
        for run in runs:
            run.notice("error", f"the engine process stopped (exit code {code})")
            run.notice("finished")

    def close(self, timeout_s: float = 5.0) -> None:
        """Ask the child to cancel its runs and end; terminate it if it does not."""
        self.tell("quit", 0)
        self._process.join(timeout_s)
        if self._process.is_alive():
            self._process.terminate()
            self._process.join(timeout_s)
        self._lost.set()


_ENGINE: EngineProcess | None = None
_ENGINE_LOCK = threading.Lock()


def engine() -> EngineProcess:
    """The application's engine process (started now if there is none, or it stopped)."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is None or not _ENGINE.alive():
            import torch

            _ENGINE = EngineProcess(torch.get_num_threads())
        return _ENGINE


def running_engine() -> EngineProcess | None:
    """The engine process if one runs (none is started)."""
    with _ENGINE_LOCK:
        return _ENGINE if _ENGINE is not None and _ENGINE.alive() else None


def warm_up() -> None:
    """Start the engine process now (its imports take a second or two), if runs will use it."""
    if process_engine_wanted():
        engine()


@atexit.register
def shut_down() -> None:
    """End the engine process (at exit, and in tests)."""
    global _ENGINE
    with _ENGINE_LOCK:
        if _ENGINE is not None:
            _ENGINE.close()
            _ENGINE = None


def run_payload(spec: RunSpec) -> bytes:
    """``spec`` pickled for the engine: its iterate history goes as its budget and frames (x⁰)
    (EngineUnavailable when the problem or the network can't be pickled)."""
    history = spec.history if spec.history is not None else IterateHistory()
    run = (replace(spec, history=None), history.budget_bytes, history.frames())
    try:
        return pickle.dumps(run, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # a closure or a handle somewhere in the problem or the network
        raise EngineUnavailable(f"it cannot be sent to another process ({exc})") from exc
