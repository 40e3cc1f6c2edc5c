"""Prototype: the solver worker in a process of its own — what it would save the window (issue 29).

    python benchmarks/engine_process.py [--engine process|thread] [--side 128] [--iters 12000]
                                        [--slices 6]

In the explorer the solver runs in a thread of the window's process, and every small torch
operation hands Python's GIL back and forth with the GUI thread: at 300 iterations a second the
window costs the solver 10–17 % (``benchmarks/gui_interleaved.py``). This script measures the design
that would take the GIL out of it, on the same problem and in the same turns as
``gui_interleaved.py`` (the plain ``core.iterate`` loop in a thread, and the real window, offscreen,
advanced slice by slice, ABBA):

* ``--engine process``: the window's run is a :class:`ProcessRun`: the real
  :class:`gui.run.solver_worker.SolverWorker`, with an iterate history of the explorer's budget,
  runs in a child process (spawned; one torch thread); the window pulls new rows and the newest
  images over a pipe when the worker says there are some (``take_update``, ~24 times a second), and
  pause, resume and the limit travel the other way. Parameter edits, the scrubber's past iterates
  and a stopped run's retirement are not carried: this is a measurement, not the explorer's engine.
* ``--engine thread``: the explorer as it is, for the same-session comparison.

One slice of 200 iterations before the timed ones starts both runs (the child's start-up: spawn,
imports, problem transfer; printed). Printed as ``gui_interleaved.py`` does: each pair's seconds,
the ratio of the totals and the median of the slices' ratios.
"""

from __future__ import annotations

import argparse
import importlib.util
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QObject, Signal  # noqa: E402

if TYPE_CHECKING:
    from gui.run.solver_worker import RunSpec, RunUpdate

WARM_UP = 200  # iterations of the untimed first slice


def _child(payload: tuple, requests, notices) -> None:
    """The child process: the worker's loop in its main thread, requests served beside it."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    torch.set_num_threads(1)
    from core.history import IterateHistory
    from core.params import ParameterTimeline
    from gui.run.solver_worker import RunSpec, SolverWorker

    problem, module, initial, variants, limit, propose, budget = payload
    timeline = ParameterTimeline(initial)
    history = IterateHistory(budget)
    worker = SolverWorker(RunSpec(problem, module, timeline, variants, limit, history, propose))
    lock = threading.Lock()

    def tell(what: object) -> None:
        with lock:
            notices.send(what)

    # the worker lives in this (main) thread and emits from it: the connections run at once
    worker.dataReady.connect(lambda: tell("data"))
    worker.limitReached.connect(lambda: tell("limit"))
    worker.error.connect(lambda message: tell(("error", message)))
    worker.finished.connect(lambda: tell("finished"))

    def serve() -> None:
        while True:
            try:
                kind, *args = requests.recv()
            except EOFError:
                kind, args = "cancel", []
            if kind == "take":
                requests.send(worker.take_update())
            elif kind == "set_limit":
                worker.set_limit(*args)
            else:
                getattr(worker, kind)()
            if kind == "cancel":
                return

    threading.Thread(target=serve, name="requests", daemon=True).start()
    worker.run()


class _Controls:
    """What the run controller calls on ``run.worker``, sent to the child."""

    def __init__(self, run: ProcessRun) -> None:
        self._run = run

    def pause(self) -> None:
        """Pause the child's loop."""
        self._run.running = False
        self._run.send("pause")

    def set_limit(self, limit: int) -> None:
        """Change the iteration limit."""
        self._run.limit = int(limit)
        self._run.send("set_limit", int(limit))

    def at_limit(self) -> bool:
        """Whether the pulled iterations reached the limit."""
        return self._run.iterations >= self._run.limit


class ProcessRun(QObject):
    """A stand-in for :class:`gui.run.solver_run.SolverRun` whose worker runs in a child process."""

    dataReady = Signal()
    limitReached = Signal()
    error = Signal(str)
    finished = Signal()

    def __init__(
        self, spec: RunSpec, predecessor: object | None = None, parent: QObject | None = None
    ) -> None:
        """Start the child on ``spec`` (``predecessor``: not waited for in this prototype)."""
        super().__init__(parent)
        context = mp.get_context("spawn")
        self._requests, child_requests = context.Pipe()
        notices, child_notices = context.Pipe(duplex=False)
        budget = spec.history.budget_bytes if spec.history is not None else 512 * 2**20
        payload = (
            spec.problem,
            spec.module,
            spec.timeline.initial,
            tuple(spec.variants),
            spec.limit,
            spec.propose,
            budget,
        )
        self.started_at = time.perf_counter()
        self.first_data_s: float | None = None
        self._process = context.Process(
            target=_child, args=(payload, child_requests, child_notices), daemon=True
        )
        self._process.start()
        self.variants = tuple(spec.variants)
        self.propose = spec.propose
        self.worker = _Controls(self)
        self.running = False
        self.limit = spec.limit
        self.iterations = 0
        self.stopped = False
        self._ended = False
        self._lock = threading.Lock()
        threading.Thread(target=self._listen, args=(notices,), daemon=True).start()

    def send(self, kind: str, *args: object) -> None:
        """A request the child needs no answer to."""
        with self._lock:
            self._requests.send((kind, *args))

    def _listen(self, notices) -> None:
        """Turn the child's notices into this object's signals (queued to the GUI thread)."""
        while True:
            try:
                what = notices.recv()
            except EOFError:
                what = "finished"
            if what == "data":
                if self.first_data_s is None:
                    self.first_data_s = time.perf_counter() - self.started_at
                self.dataReady.emit()
            elif what == "limit":
                self.running = False
                self.limitReached.emit()
            elif what == "finished":
                self._ended = True
                self.finished.emit()
                return
            else:
                self.error.emit(what[1])

    def start(self, running: bool = True) -> None:
        """Resume the child's loop (or leave it paused)."""
        if running:
            self.running = True
            self.send("resume")

    def step(self) -> None:
        """One more iteration."""
        self.send("step")

    def stop(self, timeout_s: float = 60.0) -> bool:
        """Cancel the child's loop and wait for its process to end."""
        if not self.stopped:
            self.stopped = True
            try:
                self.send("cancel")
            except OSError:  # already gone
                pass
        return self.join(timeout_s)

    def join(self, timeout_s: float = 60.0) -> bool:
        """Wait for the child process to end."""
        self._process.join(timeout_s)
        return not self._process.is_alive()

    def is_running(self) -> bool:
        """True while free-running."""
        return self.running and not self._ended

    def has_ended(self) -> bool:
        """True once the child's loop returned."""
        return self._ended

    def take_update(self) -> RunUpdate:
        """New rows and the newest images, from the child."""
        with self._lock:
            self._requests.send(("take",))
            update = self._requests.recv()
        self.iterations = update.iterations
        return update


def _module(name: str):
    """A sibling benchmark script as a module (their names would clash with packages)."""
    path = Path(__file__).with_name(f"{name}.py")
    spec = importlib.util.spec_from_file_location(f"{name}_benchmark", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


def main(argv: list[str] | None = None) -> int:
    """Run the headless loop and the window in turns and print the ratios."""
    bench, turns = _module("gui"), _module("gui_interleaved")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("process", "thread"), default="process")
    parser.add_argument("--side", type=int, default=bench.FAST_SIDE)
    parser.add_argument("--iters", type=int, default=12000)
    parser.add_argument("--slices", type=int, default=6)
    args = parser.parse_args(argv)
    import gui.run.controller as controller
    from core import build_task, iterate
    from gui.app import application, leave_a_core_for_the_window

    if args.engine == "process":
        controller.SolverRun = ProcessRun
    leave_a_core_for_the_window()
    app = application()
    app.setApplicationName("FIMA Explorer benchmark")
    options, variants = bench.PROBLEMS["fast"], ["pg"]
    count = max(1, args.iters // args.slices)
    with tempfile.TemporaryDirectory() as tmp:
        image = bench._problem_image("fast", Path(tmp), args.side)
        setup = build_task("deblur", str(image), **options)
        generators = [iterate(setup.problem, setup.module, setup.parameters, v) for v in variants]
        headless = turns.HeadlessRun(generators)
        window = turns.WindowRun(bench.open_window(image, variants, options))
        warm = (headless.advance(WARM_UP), window.advance(WARM_UP))
        run = window.window.runner.run
        first = getattr(run, "first_data_s", None)
        print(
            f"engine {args.engine}, pg at {args.side}²: warm-up slice of {WARM_UP} iterations "
            f"headless {warm[0]:.2f} s, window {warm[1]:.2f} s"
            + (f" (first rows {first:.2f} s after the child was started)" if first else "")
        )
        pairs = turns.in_turns(headless, window, count, args.slices)
        rows = window.rows(variants[0])
        window.close()
        headless.close()
    plain, shown = sum(h for h, _ in pairs), sum(w for _, w in pairs)
    total = count * args.slices
    print(
        f"window ÷ headless {shown / plain:.3f} over {total} iterations ({total / plain:.0f} "
        f"against {total / shown:.0f} it/s; median of the slices "
        f"{statistics.median(w / h for h, w in pairs):.3f}; target ≤ {bench.FAST_RATIO}); "
        f"rows {rows}/{total + WARM_UP}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
