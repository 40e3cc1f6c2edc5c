"""Window ÷ headless measured in turns: one run of each, in slices, alternately (A B B A …).

    python benchmarks/gui_interleaved.py [--problem fast] [--side 128] [--iters 20000]
                                         [--slices 10] [--variants pg] [--engine process|thread]

``benchmarks/gui.py`` times the headless loop and the window one after the other, a minute or so
each; on a shared machine whose speed drifts by 10 % from one minute to the next that drift is the
size of the effect measured (the target is window ÷ headless ≤ 1.1). Here the same two runs go on
side by side: a plain ``core.iterate`` loop (in a worker thread of its own, which lives as long as
the run, like the window's solver thread) and the real window (offscreen), each advanced ``iters /
slices`` iterations at a time, in the order headless, window, window, headless, … (ABBA), so that a
drift weighs on both alike. While the headless loop runs, the window is paused at its limit and its
event loop does not run; the window's slices are timed from the resume to its run reaching the
slice's limit.

Printed: each pair's seconds and ratio, the ratio of the totals (the figure to compare with the
target) and the median of the slices' ratios. ``--engine thread`` runs the window's solver in a
thread of the window's process (``FIMA_ENGINE=thread``) instead of the explorer's engine process. Both runs keep their state across slices: the
window's history, plots and memory grow as in one long run.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import queue
import statistics
import sys
import threading
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import tempfile  # noqa: E402

from core import build_task, iterate  # noqa: E402


def _window_benchmark():
    """benchmarks/gui.py as a module (its name would clash with the ``gui`` package)."""
    spec = importlib.util.spec_from_file_location(
        "gui_benchmark", Path(__file__).with_name("gui.py")
    )
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclasses look themselves up there
    spec.loader.exec_module(module)
    return module


class HeadlessRun:
    """The plain ``core.iterate`` loop in one worker thread of its own for the whole run (as the
    window's solver has one), advanced ``count`` lockstep iterations at a time."""

    def __init__(self, generators: list) -> None:
        self._generators = generators
        self._asked: queue.Queue[int | None] = queue.Queue()
        self._seconds: queue.Queue[float] = queue.Queue()
        self._thread = threading.Thread(target=self._loop, name="headless", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        while (count := self._asked.get()) is not None:
            start = time.perf_counter()
            for _ in range(count):
                for generator in self._generators:
                    next(generator)
            self._seconds.put(time.perf_counter() - start)

    def advance(self, count: int) -> float:
        """Seconds for ``count`` more lockstep iterations."""
        self._asked.put(count)
        return self._seconds.get()

    def close(self) -> None:
        """End the thread."""
        self._asked.put(None)
        self._thread.join()


class WindowRun:
    """The explorer's window on the problem, advanced to a higher limit slice by slice."""

    def __init__(self, window) -> None:
        from PySide6.QtCore import QEventLoop

        self.window = window
        self._done = QEventLoop()
        self.window.runner.limitReached.connect(self._done.quit)
        self.window.runner.ended.connect(self._done.quit)
        self.limit = 0

    def advance(self, count: int) -> float:
        """Seconds for the window's run to go ``count`` iterations further (to its new limit)."""
        self.limit += count
        self.window.solver_panel.set_limit(self.limit)
        start = time.perf_counter()
        if self.limit == count:
            self.window.runner.start_run(running=True)
        else:
            self.window.runner.toggle_run()  # paused at the old limit: go on
        self._done.exec()
        return time.perf_counter() - start

    def rows(self, variant: str) -> int:
        """Rows the window holds for ``variant``."""
        return self.window.runner.history.count(variant)

    def close(self) -> None:
        """Close the window."""
        self.window.close()
        self.window.deleteLater()


def in_turns(
    headless: HeadlessRun, window: WindowRun, count: int, slices: int
) -> list[tuple[float, float]]:
    """(headless, window) seconds of each slice of ``count`` iterations, in ABBA order (printed)."""
    pairs: list[tuple[float, float]] = []
    for index in range(slices):
        if index % 2 == 0:
            pair = (headless.advance(count), window.advance(count))
        else:
            seconds = window.advance(count)
            pair = (headless.advance(count), seconds)
        pairs.append(pair)
        print(
            f"  slice {index + 1}: headless {pair[0]:.2f} s, window {pair[1]:.2f} s, "
            f"ratio {pair[1] / pair[0]:.3f}",
            flush=True,
        )
    return pairs


def main(argv: list[str] | None = None) -> int:
    """Run both in turns and print the ratios."""
    bench = _window_benchmark()
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--problem", choices=tuple(bench.PROBLEMS), default="fast")
    parser.add_argument("--side", type=int, default=bench.FAST_SIDE)
    parser.add_argument("--iters", type=int, default=20000)
    parser.add_argument("--slices", type=int, default=10)
    parser.add_argument("--variants", help="default: pg with --problem fast, else fima,pg")
    parser.add_argument(
        "--engine",
        choices=("process", "thread"),
        default="process",
        help="where the window's solver runs (the explorer's engine process, or FIMA_ENGINE=thread)",
    )
    args = parser.parse_args(argv)
    os.environ[bench.ENGINE_ENV] = args.engine
    fast = args.problem == "fast"
    variants = [v for v in (args.variants or ("pg" if fast else "fima,pg")).split(",") if v]
    options = bench.PROBLEMS[args.problem]
    from gui.app import application, leave_a_core_for_the_window

    leave_a_core_for_the_window()
    app = application()
    app.setApplicationName("FIMA Explorer benchmark")
    engine = bench.counters.start_engine()
    count = max(1, args.iters // args.slices)
    with tempfile.TemporaryDirectory() as tmp:
        image = bench._problem_image(args.problem, Path(tmp), args.side)
        setup = build_task("deblur", str(image), **options)
        generators = [iterate(setup.problem, setup.module, setup.parameters, v) for v in variants]
        headless = HeadlessRun(generators)
        headless.advance(2)  # warm-up (allocators, FFT plans)
        window = WindowRun(bench.open_window(image, variants, options))
        print(
            f"{args.problem} at {args.side}², variants {'+'.join(variants)}: {args.slices} slices "
            f"of {count} iterations, headless and window in turns (ABBA); the window's solver in "
            f"{engine}"
        )
        pairs = in_turns(headless, window, count, args.slices)
        rows = window.rows(variants[0])
        window.close()
        headless.close()
    plain = sum(h for h, _ in pairs)
    shown = sum(w for _, w in pairs)
    ratio = shown / plain
    print(
        f"window ÷ headless {ratio:.3f} over {count * args.slices} iterations "
        f"({count * args.slices / plain:.0f} against {count * args.slices / shown:.0f} it/s; "
        f"median of the slices {statistics.median(w / h for h, w in pairs):.3f}; target ≤ "
        f"{bench.FAST_RATIO}); rows {rows}/{count * args.slices}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
