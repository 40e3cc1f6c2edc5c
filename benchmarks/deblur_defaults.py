"""Deblur defaults at convergence: a grid of σ = s·ν and λ = l·ν²/σ² for the learned Ψ = f + λ g_σ.

    python benchmarks/deblur_defaults.py [--sigma-factors 3 4] [--lam-factors 0.5 0.7 1]
        [--iters 300] [--variant pg] [--threads 1]

The cases are train400 images (never Set12, which the README's deblur table reports) with one Levin
kernel each, 1 % noise, seed 1; everything else is the deblur task's default (``core/tasks/deblur.py``
``LEARNED``: s = 3, l = 0.5, chosen by this grid). pg is the default variant: it reaches the same
limit as fima on this Ψ (0.01 dB in the README's runs) at a fifth of the cost. Prints, per (s, l), the LAST iterate's PSNR
on every case, the mean, and the mean best-minus-last (a peak-then-fall shows there). Needs
../shared/data/train400.
"""

from __future__ import annotations

import argparse
import itertools
import statistics
import sys
from pathlib import Path

import torch

TRAIN = Path(__file__).resolve().parents[2] / "shared" / "data" / "train400"
CASES = (  # (train400 image, Levin kernel)
    (31, 2),
    (144, 7),
    (250, 5),
    (377, 3),
    (45, 1),
    (99, 4),
    (180, 6),
    (320, 8),
)
NOISE = 0.01


def run_case(image: int, kernel: int, s: float, lam: float, variant: str, iters: int):
    """(last PSNR, best PSNR) of ``variant`` on one case with σ = s·ν, λ = lam·ν²/σ²."""
    from core.algorithm import run
    from core.tasks import build_task

    sigma = s * NOISE
    weight = lam * NOISE * NOISE / (sigma * sigma)
    setup = build_task(
        "deblur",
        str(TRAIN / f"test_{image:03d}.png"),
        kernel=f"levin:{kernel}",
        noise=NOISE,
        seed=1,
        prior=f"gs:sigma={sigma},weight={weight}",
    )
    records = run(setup.problem, setup.module, setup.parameters, variant, iterations=iters)
    return records[-1].psnr, max(r.psnr for r in records)


def main() -> None:
    """Print the grid."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sigma-factors", nargs="+", type=float, default=[3.0, 4.0])
    parser.add_argument("--lam-factors", nargs="+", type=float, default=[0.5, 0.7, 1.0])
    parser.add_argument("--iters", type=int, default=300)
    parser.add_argument("--variant", default="pg", choices=["pg", "fima"])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    if not TRAIN.is_dir():
        print(f"{TRAIN} not found: this benchmark needs the train400 images", file=sys.stderr)
        raise SystemExit(2)
    torch.set_num_threads(args.threads)
    names = " | ".join(f"{i:03d} L{k}" for i, k in CASES)
    print(f"{args.variant}, {args.iters} iterations; LAST iterate PSNR dB\n")
    print(f"| σ/ν | λ·σ²/ν² | {names} | mean | mean best − last |")
    print("|---" * (len(CASES) + 4) + "|")
    for s, lam in itertools.product(args.sigma_factors, args.lam_factors):
        rows = [run_case(i, k, s, lam, args.variant, args.iters) for i, k in CASES]
        cells = " | ".join(f"{last:.2f}" for last, _ in rows)
        mean = statistics.mean(last for last, _ in rows)
        gap = statistics.mean(best - last for last, best in rows)
        print(f"| {s:g} | {lam:g} | {cells} | {mean:.2f} | {gap:.2f} |", flush=True)


if __name__ == "__main__":
    main()
