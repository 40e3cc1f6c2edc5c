"""Denoising at convergence: `fima run --task denoise` models against the one-shot `fima denoise`.

    python benchmarks/denoise_converged.py [--images 01 … 12] [--sigma 25] [--iters 300]
        [--variants fima pg] [--priors gs-prox gs wavelet] [--threads 1]

For each Set12 image: the noisy image (seed = image index, float noise, no clipping), the one-shot
CNN denoiser (`fima denoise`, the module), the one-shot gradient-step denoiser D_σ(y) (σ = the
noise), and the last / best iterate of each variant on each task prior at the task defaults, with
the gap of the last iterate to `fima denoise` and whether Ψ was non-increasing. Needs
../shared/data/set12.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from core.algorithm import iterate
from core.learned_prior import GradientStepPrior
from core.metrics import psnr
from core.modules.cnn import CNNDenoiser
from core.tasks import build_task

CNN = "fima denoise (cnn, one shot)"
SET12 = Path(__file__).resolve().parents[2] / "shared" / "data" / "set12"


def main() -> None:
    """Print one line per image and the means."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", nargs="+", default=[f"{i:02d}" for i in range(1, 13)])
    parser.add_argument("--sigma", type=float, default=25.0, help="0-255 scale")
    parser.add_argument("--iters", type=int, default=300)
    parser.add_argument("--variants", nargs="+", default=["fima"])
    parser.add_argument("--priors", nargs="+", default=["gs-prox"])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if not SET12.is_dir():
        print(f"Set12 not found at {SET12}: nothing to measure")
        return
    noise = args.sigma / 255
    cnn = CNNDenoiser()
    table: dict[str, list[tuple[float, float]]] = {}
    gaps: dict[str, list[float]] = {}  # last − fima denoise, per image
    flags: dict[str, list[bool]] = {}  # Ψ non-increasing, per image
    for name in args.images:
        path = SET12 / f"{name}.png"
        seed = int(name)
        setup0 = build_task("denoise", path, noise=noise, seed=seed, module="none", prior="none")
        y, truth = setup0.problem.observation_image, setup0.problem.ground_truth
        table.setdefault("noisy", []).append((psnr(y, truth), psnr(y, truth)))
        one = psnr(cnn(y, noise), truth)
        table.setdefault("fima denoise (cnn, one shot)", []).append((one, one))
        shot = psnr(GradientStepPrior(sigma=noise).denoise(y), truth)
        table.setdefault("D_σ(y) (gs.pt, one shot)", []).append((shot, shot))
        gaps.setdefault("D_σ(y) (gs.pt, one shot)", []).append(shot - one)
        gaps.setdefault("fima denoise (cnn, one shot)", []).append(0.0)
        print(f"{name} one shot: fima denoise {one:.2f}, D_σ(y) {shot:.2f} ({shot - one:+.2f})")
        for prior in args.priors:
            setup = build_task("denoise", path, noise=noise, seed=seed, prior=prior)
            for variant in args.variants:
                start = time.perf_counter()
                records = list(
                    iterate(setup.problem, setup.module, setup.parameters, variant, args.iters)
                )
                ps, psi = [r.psnr for r in records], [r.objective for r in records]
                label = f"{variant}, prior {prior}"
                table.setdefault(label, []).append((ps[-1], max(ps)))
                gaps.setdefault(label, []).append(ps[-1] - one)
                monotone = all(b <= a + 1e-6 * abs(a) for a, b in zip(psi, psi[1:], strict=False))
                flags.setdefault(label, []).append(monotone)
                print(
                    f"{name} {variant} {prior}: last {ps[-1]:.2f} best {max(ps):.2f}@{ps.index(max(ps))}"
                    f" (fima denoise {one:.2f}, gap {ps[-1] - one:+.2f}; Ψ monotone {monotone};"
                    f" {time.perf_counter() - start:.0f} s)",
                    flush=True,
                )
    print(f"\nSet12 {' '.join(args.images)}, σ = {args.sigma:g}/255, {args.iters} iterations")
    print(f"{'configuration':<32} {'last':>7} {'best':>7} {'gap':>6} {'worst':>6} monotone")
    for label, rows in table.items():
        last = statistics.mean(r[0] for r in rows)
        best = statistics.mean(r[1] for r in rows)
        gap = gaps.get(label, [last - statistics.mean(r[0] for r in table[CNN])])
        worst = min(gap)
        mono = flags.get(label)
        mono_text = "" if mono is None else f"{sum(mono)}/{len(mono)}"
        print(
            f"{label:<32} {last:>7.2f} {best:>7.2f} {statistics.mean(gap):>+6.2f} {worst:>+6.2f} {mono_text}"
        )


if __name__ == "__main__":
    main()
