"""What one pull of the newest images from the engine process costs the window (issue 29).

    python benchmarks/engine_pull.py [--sides 256,512,1024,2048] [--pulls 12]

The explorer's solver runs in a process of its own (``gui/run/engine_process.py``) and the window
pulls the newest images about 24 times a second. Per side, a real :class:`ProcessRun` of fima
(deblurring with the TV module and the wavelet prior, a random picture) is stepped one iteration at
a time, and each ``take_update`` (its four pictures x, u, ũ, |d|) is timed: wall and the calling
thread's CPU, median over the pulls after the first two. Large pictures come through shared memory
(``gui/run/shared_images.py``). For comparison, the same four float32 arrays sent by a child
process through a pipe, pickled, as the pull itself would carry them.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

KINDS = ("x", "u", "u_tilde", "d")


def _median_ms(values: list[float]) -> float:
    return 1e3 * statistics.median(values[2:] if len(values) > 4 else values)


def _send_arrays(conn, side: int, pulls: int) -> None:
    """The child of the pipe comparison: answer each request with four side² float32 arrays."""
    import numpy as np

    images = {kind: np.random.default_rng(0).random((side, side), np.float32) for kind in KINDS}
    for _ in range(pulls):
        conn.recv()
        conn.send(images)


def through_a_pipe(side: int, pulls: int) -> tuple[float, float]:
    """(wall, CPU) milliseconds of one request answered with the four arrays, pickled."""
    context = mp.get_context("spawn")
    here, there = context.Pipe()
    child = context.Process(target=_send_arrays, args=(there, side, pulls), daemon=True)
    child.start()
    walls, cpus = [], []
    for _ in range(pulls):
        wall, cpu = time.perf_counter(), time.thread_time()
        here.send(1)
        here.recv()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.thread_time() - cpu)
    child.join()
    return _median_ms(walls), _median_ms(cpus)


def from_the_engine(side: int, pulls: int, folder: Path) -> tuple[float, float, str]:
    """(wall, CPU) milliseconds of one ``take_update`` of fima at side², and how the x came."""
    import imageio.v3 as iio
    import numpy as np

    from core import ParameterTimeline, build_task
    from core.history import IterateHistory
    from gui.run.process_run import ProcessRun
    from gui.run.shared_images import SHARED_MIN_BYTES
    from gui.run.solver_worker import RunSpec

    path = folder / f"random_{side}.png"
    picture = np.random.default_rng(side).random((side, side)) * 255
    iio.imwrite(path, picture.astype(np.uint8))
    setup = build_task("deblur", str(path), module="tv", prior="wavelet")
    timeline = ParameterTimeline(setup.parameters)
    spec = RunSpec(setup.problem, setup.module, timeline, ("fima",), 10**6, IterateHistory())
    run = ProcessRun(spec)
    walls, cpus = [], []
    try:
        for done in range(1, pulls + 1):
            run.step()
            while run.worker.iterations < done or not run.worker.is_idle():
                time.sleep(0.005)
            wall, cpu = time.perf_counter(), time.thread_time()
            update = run.take_update()
            walls.append(time.perf_counter() - wall)
            cpus.append(time.thread_time() - cpu)
            missing = [k for k in KINDS if update.images["fima"].get(k) is None]
            if missing:
                raise SystemExit(f"benchmark: the pull at {side}² lacked {', '.join(missing)}")
    finally:
        run.stop()
    way = "shared memory" if side * side * 4 >= SHARED_MIN_BYTES else "the pull itself"
    return _median_ms(walls), _median_ms(cpus), way


def main(argv: list[str] | None = None) -> int:
    """Print, per side, a pull from the engine against the same pictures through a pipe."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sides", default="256,512,1024,2048")
    parser.add_argument("--pulls", type=int, default=12)
    args = parser.parse_args(argv)
    from PySide6.QtCore import QCoreApplication

    from core.threads import choose_threads

    choose_threads()
    _app = QCoreApplication.instance() or QCoreApplication([])
    with tempfile.TemporaryDirectory() as tmp:
        for side in (int(s) for s in args.sides.split(",")):
            wall, cpu, way = from_the_engine(side, args.pulls, Path(tmp))
            pipe_wall, pipe_cpu = through_a_pipe(side, args.pulls)
            print(
                f"{side}²: a pull from the engine {wall:.2f} ms ({cpu:.2f} ms of this thread's "
                f"CPU; large pictures by {way}); four pictures pickled through a pipe "
                f"{pipe_wall:.2f} ms ({pipe_cpu:.2f} ms)",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
