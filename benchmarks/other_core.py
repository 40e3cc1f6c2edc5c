"""What work on another core costs the solver, with no lock or GIL between them (issue 29).

    python benchmarks/other_core.py [--iters 3000] [--share 0.11] [--repeats 3]

The window's ratio (``benchmarks/gui.py``) compares the solver beside a window with the solver
alone. With the solver in the explorer's engine process, nothing is shared between the two any
more but the machine; this measures what the machine alone makes of it. The plain ``core.iterate``
loop of ``gui.py``'s fast problem (pg with the wavelet prior at 128², one torch thread) runs
``--iters`` iterations, in turns:

* ``alone``;
* ``memory``: beside another process that, 24 times a second, spends ``--share`` of each period
  writing an 8-bit 1200×800 picture from floats (as a window's paint does) and sleeps the rest;
* ``python``: the same with a pure Python loop instead;
* ``wakes``: the same process with ``--share 0``: it only wakes up 24 times a second.

Printed: each run's wall and CPU seconds, then each kind's median and its ratio to ``alone``. A
CPU ratio above 1 is the solver computing slower on its own core because the other one is busy
(cores sharing a physical core or a cache on the host), which no design of the window can avoid.
"""

from __future__ import annotations

import argparse
import importlib.util
import multiprocessing as mp
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
PERIOD_S = 1 / 24


def busy(stop, share: float, kind: str) -> None:
    """Spend ``share`` of every 1/24 s on ``kind`` work until ``stop`` is set."""
    import numpy as np

    picture = np.zeros((800, 1200), np.uint8)
    source = np.random.default_rng(0).random((800, 1200), dtype=np.float32)
    while not stop.is_set():
        start = time.perf_counter()
        while time.perf_counter() - start < share * PERIOD_S:
            if kind == "memory":
                np.multiply(source, 255, out=source)
                np.divide(source, 255, out=source)
                picture[...] = source * 255
            else:
                sum(range(2000))
        rest = PERIOD_S - (time.perf_counter() - start)
        if rest > 0:
            time.sleep(rest)


def _fast_loop():
    """The fast problem's pg generator, warmed up."""
    spec = importlib.util.spec_from_file_location(
        "gui_benchmark", Path(__file__).with_name("gui.py")
    )
    bench = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = bench
    spec.loader.exec_module(bench)
    from core import build_task, iterate

    folder = Path(tempfile.mkdtemp())
    image = bench.fast_image(folder, bench.FAST_SIDE)
    setup = build_task("deblur", str(image), **bench.PROBLEMS["fast"])
    loop = iterate(setup.problem, setup.module, setup.parameters, "pg")
    for _ in range(50):
        next(loop)
    return loop


def main(argv: list[str] | None = None) -> int:
    """Time the loop alone and beside each kind of work, in turns."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=3000)
    parser.add_argument("--share", type=float, default=0.11, help="busy share of the other core")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    loop = _fast_loop()
    context = mp.get_context("spawn")
    kinds = {"alone": None, "memory": args.share, "python": args.share, "wakes": 0.0}
    times: dict[str, list[tuple[float, float]]] = {kind: [] for kind in kinds}
    for _ in range(args.repeats):
        for kind, share in kinds.items():
            stop, other = context.Event(), None
            if share is not None:
                work = "memory" if kind == "memory" else "python"
                other = context.Process(target=busy, args=(stop, share, work), daemon=True)
                other.start()
                time.sleep(0.5)  # its imports are done
            wall, cpu = time.perf_counter(), time.thread_time()
            for _ in range(args.iters):
                next(loop)
            times[kind].append((time.perf_counter() - wall, time.thread_time() - cpu))
            if other is not None:
                stop.set()
                other.join()
            print(f"  {kind}: {times[kind][-1][0]:.2f} s wall, {times[kind][-1][1]:.2f} s CPU")
    alone = statistics.median(cpu for _, cpu in times["alone"])
    for kind, runs in times.items():
        wall = statistics.median(w for w, _ in runs)
        cpu = statistics.median(c for _, c in runs)
        print(f"{kind}: median {wall:.2f} s wall, {cpu:.2f} s CPU, CPU ÷ alone {cpu / alone:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
