"""The scores' cost per iteration: SSIM with the reference's moments kept for the run, or not.

Every record of a run with a reference carries PSNR and SSIM (``core.metrics``, float64, 11×11
Gaussian window as shifted sums). ``core.algorithm.iterate`` keeps the reference's side — y in
float64, its local mean and second moment, two of SSIM's five blurs — in one
:class:`core.metrics.ScoredReference` for the whole run. Timed here in turns (ABBA, one process):

1. per side, ms per score (PSNR + SSIM) made afresh (``psnr``/``ssim``, as every iteration did
   before) and with the kept reference, and their ratio (the scores are equal to the bit);
2. one pg iteration (deblurring, the wavelet prior, the bundled sample at ``--run-side``) with the
   scores on and off: what they cost a fast run.

    .venv/bin/python benchmarks/metrics.py [--sides 128,256,512,1024] [--calls 40]
                                           [--run-side 128] [--iters 300] [--threads 1]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core import build_task, iterate  # noqa: E402
from core.io import load_image, resources_dir, save_image  # noqa: E402
from core.metrics import ScoredReference, psnr, ssim  # noqa: E402


def _abba(first, second, turns: int = 4) -> tuple[float, float]:
    """Median seconds of two callables timed in turns A B B A …"""
    times: tuple[list[float], list[float]] = ([], [])
    for turn in range(turns):
        order = (0, 1) if turn % 4 in (0, 3) else (1, 0)
        for which in order:
            start = time.perf_counter()
            (first, second)[which]()
            times[which].append(time.perf_counter() - start)
    return statistics.median(times[0]), statistics.median(times[1])


def _score_many(n: int, score, x: torch.Tensor) -> None:
    """``score(x)`` n times."""
    for _ in range(n):
        score(x)


def score_table(sides: list[int], calls: int) -> None:
    """Table 1: a score made afresh against one with the kept reference."""
    print("side   afresh ms   kept ms   ratio   same scores")
    for side in sides:
        g = torch.Generator().manual_seed(side)
        y = torch.rand(1, 1, side, side, generator=g)
        x = y + 0.05 * torch.randn(1, 1, side, side, generator=g)
        n = max(2, calls * 128 * 128 // (side * side))
        kept = ScoredReference(y)
        same = (psnr(x, y), ssim(x, y)) == (kept.psnr(x), kept.ssim(x))

        afresh = partial(_score_many, n, lambda t, y=y: (psnr(t, y), ssim(t, y)), x)
        with_kept = partial(_score_many, n, lambda t, k=kept: (k.psnr(t), k.ssim(t)), x)
        a, b = _abba(afresh, with_kept)
        print(f"{side:>4}² {1000 * a / n:>11.3f} {1000 * b / n:>9.3f} {a / b:>7.2f}   {same}")


def run_table(side: int, iters: int) -> None:
    """Table 2: pg iterations with the scores on and off."""
    sample = load_image(resources_dir() / "samples" / "house.png", grayscale=True)
    image = torch.nn.functional.interpolate(sample, size=(side, side), mode="area")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"sample_{side}.png"
        save_image(path, image.clamp(0, 1))
        setup = build_task("deblur", str(path), prior="wavelet", module="tv")

    def run(scores: bool):
        def go() -> None:
            records = iterate(
                setup.problem, setup.module, setup.parameters, "pg", max_iter=iters,
                compute_metrics=scores,
            )  # fmt: skip
            for _ in records:
                pass

        return go

    on, off = _abba(run(True), run(False))
    print(
        f"pg at {side}², {iters} iterations: scores on {1000 * on / iters:.3f} ms an iteration, "
        f"off {1000 * off / iters:.3f} ms (on / off {on / off:.3f})"
    )


def main(argv: list[str] | None = None) -> int:
    """Print both tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sides", default="128,256,512,1024")
    parser.add_argument("--calls", type=int, default=40)
    parser.add_argument("--run-side", type=int, default=128)
    parser.add_argument("--iters", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    print(f"torch threads {torch.get_num_threads()}")
    score_table([int(s) for s in args.sides.split(",")], args.calls)
    run_table(args.run_side, args.iters)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
