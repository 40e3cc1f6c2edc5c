"""Study backends: the same cells serial, on N local worker processes, and on a local Ray.

    python benchmarks/study.py [--cells 16] [--iters 30] [--size 64] [--workers 2] [--threads 1]
                               [--backends serial local ray] [--module tv]

Prints, per backend: wall time, cells per second, speed-up over serial, the mean cell's own compute
(build + iterations, timed inside the worker) and the study's overhead per cell,
(wall × workers − Σ cell compute) / cells, which counts worker start-up, scheduling, transfer, the
store's writes and idle workers at the end; "start-up" is the time to the first result less that
cell's compute (spawning workers, ray.init), "steady" the overhead without it. Targets (issue 12, on an otherwise idle 2-core machine):
speed-up with 2 workers ≥ 1.7×, overhead ≤ 5 % of cell compute, Ray local within 15 % of local on
cells of ≥ 1 s.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import torch.nn.functional as F

from core.io import load_image, resources_dir, save_image
from core.study import LocalBackend, RayBackend, SerialBackend, load_spec, run_study


def write_study(folder: Path, cells: int, iters: int, size: int, module: str) -> Path:
    """A deblur spec of ``cells`` cells (one image, fima, a C axis) in ``folder``; its path."""
    image = load_image(resources_dir() / "samples" / "house.png", grayscale=True)
    image = F.interpolate(image, size=(size, size), mode="area").clamp(0, 1)
    save_image(folder / "house.png", image)
    spec = folder / "study.toml"
    spec.write_text(
        'task = "deblur"\nimages = ["house.png"]\nvariants = ["fima"]\n'
        f'iterations = {iters}\n[fixed]\nkernel = "gauss:1.6"\nnoise = 0.01\nmodule = "{module}"\n'
        f"mu = 1.0\n[grid]\nC = {{log = [0.01, 0.45, {cells}]}}\n"
    )
    return spec


def make(name: str, workers: int, threads: int):
    """The backend called ``name``."""
    if name == "serial":
        return SerialBackend(threads)
    if name == "local":
        return LocalBackend(workers, threads)
    return RayBackend("local", workers, threads)


def main() -> None:
    """Run the study on each backend and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", type=int, default=16)
    parser.add_argument("--iters", type=int, default=30, help="iterations per cell")
    parser.add_argument("--size", type=int, default=64, help="image side in pixels")
    parser.add_argument("--module", default="tv")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=1, help="torch threads per cell")
    parser.add_argument(
        "--backends",
        nargs="+",
        default=["serial", "local", "ray"],
        choices=["serial", "local", "ray"],
    )
    args = parser.parse_args()

    folder = Path(tempfile.mkdtemp(prefix="fima-study-bench-"))
    try:
        spec = load_spec(write_study(folder, args.cells, args.iters, args.size, args.module))
        print(
            f"{args.cells} cells: deblur {args.size}×{args.size}, fima, {args.iters} iterations, "
            f"module {args.module}, {args.threads} torch thread(s) per cell"
        )
        header = f"{'backend':<10}{'workers':>8}{'wall s':>9}{'cells/s':>9}{'speed-up':>10}"
        header += f"{'cell s':>9}{'overhead/cell':>15}{'of cell':>9}{'start-up s':>12}{'steady':>9}"
        print(header)
        serial_wall = None
        for name in args.backends:
            backend = make(name, args.workers, args.threads)
            arrivals: list[tuple[float, float]] = []

            def arrived(result: dict, arrivals: list = arrivals) -> None:
                arrivals.append((time.perf_counter(), result.get("seconds") or 0.0))

            start = time.perf_counter()
            report = run_study(
                spec, folder / f"out-{name}", backend, progress=False, on_result=arrived
            )
            wall = time.perf_counter() - start
            workers = 1 if name == "serial" else args.workers
            cell = report.cell_seconds / max(report.done, 1)
            overhead = (wall * workers - report.cell_seconds) / max(report.done, 1)
            # start-up: until the first result, less that cell's own compute (pool spawn, ray.init)
            startup = arrivals[0][0] - start - arrivals[0][1] if arrivals else 0.0
            steady = ((wall - startup) * workers - report.cell_seconds) / max(report.done, 1)
            if name == "serial":
                serial_wall = wall
            speedup = f"{serial_wall / wall:.2f}×" if serial_wall else "-"
            print(
                f"{name:<10}{workers:>8}{wall:>9.2f}{report.done / wall:>9.2f}{speedup:>10}"
                f"{cell:>9.3f}{overhead * 1000:>12.1f} ms{100 * overhead / cell:>8.1f}%"
                f"{startup:>12.2f}{100 * steady / cell:>8.1f}%"
            )
            if report.failed:
                print(f"  ({report.failed} cells failed: fima study show {folder / f'out-{name}'})")
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
