"""ℓ1 on wavelets: Haar vs db4 vs sym8 at their best λ, at convergence (plain proximal gradient).

    .venv/bin/python benchmarks/wavelets.py [--task deblur|mri] [--wavelets haar db4 sym8]
        [--lams 3e-4 1e-3 3e-3] [--images 01 02 …] [--kernels 1 2 …] [--iters 300] [--threads 1]

Each case is Ψ = f + λ Σ|(W x)_i| (detail coefficients, 4 levels) minimised by ``pg`` (no learned
module, so the prior alone decides) for ``--iters`` iterations from the task's start. deblur: Set12
images (../shared/data/set12) blurred by Levin kernels with 1 % noise; mri: Brain_data1/2
(../shared/data/mri/brain), radial 20 % mask. Prints PSNR (dB) of the last iterate per case and λ,
then per wavelet the mean PSNR at its best single λ and at each case's own best λ.
"""

from __future__ import annotations

import argparse
import dataclasses
import time
from collections import deque
from pathlib import Path

import torch

from core.algorithm import iterate
from core.metrics import psnr
from core.tasks import build_task

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"


def cases(task: str, images: list[str], kernels: list[str]) -> list[tuple[str, str, dict]]:
    """(label, image path, task options) of every case."""
    if task == "mri":
        return [
            (
                f"Brain_data{n}",
                str(SHARED / "mri" / "brain" / f"Brain_data{n}.npy"),
                {"mask": "radial:20"},
            )
            for n in images
        ]
    return [
        (
            f"{name} levin:{k}",
            str(SHARED / "set12" / f"{name}.png"),
            {"kernel": f"levin:{k}", "noise": 0.01, "grayscale": True},
        )
        for name in images
        for k in kernels
    ]


def final_psnr(task: str, image: str, options: dict, wavelet: str, lam: float, iters: int):
    """PSNR of the last pg iterate on Ψ = f + λ‖W x‖₁ (4 levels of ``wavelet``), and seconds."""
    prior = f"wavelet:wavelet={wavelet},levels=4,p=1"
    setup = build_task(task, image, prior=prior, module="none", device="cpu", **options)
    params = dataclasses.replace(setup.parameters, lam=lam)
    start = time.perf_counter()
    steps = iterate(setup.problem, None, params, "pg", max_iter=iters, compute_metrics=False)
    last = deque(steps, maxlen=1)[0]  # only the last iterate is kept
    return psnr(last.x, setup.problem.ground_truth), time.perf_counter() - start


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", choices=("deblur", "mri"), default="deblur")
    parser.add_argument("--wavelets", nargs="+", default=["haar", "db4", "sym8"])
    parser.add_argument("--lams", nargs="+", type=float, default=[3e-4, 1e-3, 3e-3])
    parser.add_argument("--images", nargs="+", default=None)
    parser.add_argument("--kernels", nargs="+", default=[str(k) for k in range(1, 9)])
    parser.add_argument("--iters", type=int, default=300)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    images = args.images or (
        ["1", "2"] if args.task == "mri" else [f"{n:02d}" for n in range(1, 8)]
    )
    table: dict[tuple[str, float], list[float]] = {}
    print(f"{args.task}, pg, {args.iters} iterations, PSNR dB of the last iterate\n")
    print("| case | wavelet | " + " | ".join(f"λ = {lam:g}" for lam in args.lams) + " | s |")
    print("|---" * (len(args.lams) + 3) + "|")
    for label, image, options in cases(args.task, images, args.kernels):
        for wavelet in args.wavelets:
            row, seconds = [], 0.0
            for lam in args.lams:
                value, spent = final_psnr(args.task, image, options, wavelet, lam, args.iters)
                table.setdefault((wavelet, lam), []).append(value)
                row.append(value)
                seconds += spent
            cells = " | ".join(f"{v:.2f}" for v in row)
            print(f"| {label} | {wavelet} | {cells} | {seconds:.0f} |", flush=True)
    print("\n| wavelet | best single λ | mean PSNR there | mean PSNR, each case's best λ |")
    print("|---|---|---|---|")
    for wavelet in args.wavelets:
        means = {lam: sum(table[wavelet, lam]) / len(table[wavelet, lam]) for lam in args.lams}
        best = max(means, key=means.get)
        per_case = [
            max(vals) for vals in zip(*(table[wavelet, lam] for lam in args.lams), strict=True)
        ]
        oracle = sum(per_case) / len(per_case)
        print(f"| {wavelet} | {best:g} | {means[best]:.2f} | {oracle:.2f} |")


if __name__ == "__main__":
    main()
