"""Denoising at convergence: `fima run --task denoise` models against the one-shot `fima denoise`.

    python benchmarks/denoise_converged.py [--images 01 02 03] [--sigma 25] [--iters 300]
        [--variants pg fima] [--priors gs wavelet] [--threads 1]

For each Set12 image: the noisy image (seed = image index, float noise, no clipping), the one-shot
CNN denoiser (`fima denoise`, the module), and the last / best iterate of each variant on each
task prior at the task defaults. Needs ../shared/data/set12.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import torch

from core.algorithm import iterate
from core.metrics import psnr
from core.modules.cnn import CNNDenoiser
from core.tasks import build_task

SET12 = Path(__file__).resolve().parents[2] / "shared" / "data" / "set12"


def main() -> None:
    """Print one line per image and the means."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", nargs="+", default=["01", "02", "03"])
    parser.add_argument("--sigma", type=float, default=25.0, help="0-255 scale")
    parser.add_argument("--iters", type=int, default=300)
    parser.add_argument("--variants", nargs="+", default=["pg", "fima"])
    parser.add_argument("--priors", nargs="+", default=["gs", "wavelet"])
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    if not SET12.is_dir():
        print(f"Set12 not found at {SET12}: nothing to measure")
        return
    noise = args.sigma / 255
    cnn = CNNDenoiser()
    table: dict[str, list[tuple[float, float]]] = {}
    for name in args.images:
        path = SET12 / f"{name}.png"
        seed = int(name)
        setup0 = build_task("denoise", path, noise=noise, seed=seed, module="none", prior="none")
        y, truth = setup0.problem.observation_image, setup0.problem.ground_truth
        table.setdefault("noisy", []).append((psnr(y, truth), psnr(y, truth)))
        one = psnr(cnn(y, noise), truth)
        table.setdefault("fima denoise (cnn, one shot)", []).append((one, one))
        for prior in args.priors:
            setup = build_task("denoise", path, noise=noise, seed=seed, prior=prior)
            for variant in args.variants:
                start = time.perf_counter()
                records = list(
                    iterate(setup.problem, setup.module, setup.parameters, variant, args.iters)
                )
                ps = [r.psnr for r in records]
                table.setdefault(f"{variant}, prior {prior}", []).append((ps[-1], max(ps)))
                print(
                    f"{name} {variant} {prior}: last {ps[-1]:.2f} best {max(ps):.2f}@{ps.index(max(ps))}"
                    f" ({time.perf_counter() - start:.0f} s)",
                    flush=True,
                )
    print(f"\nSet12 {' '.join(args.images)}, σ = {args.sigma:g}/255, {args.iters} iterations")
    print(f"{'configuration':<32} {'last':>7} {'best':>7}")
    for label, rows in table.items():
        last = statistics.mean(r[0] for r in rows)
        best = statistics.mean(r[1] for r in rows)
        print(f"{label:<32} {last:>7.2f} {best:>7.2f}")


if __name__ == "__main__":
    main()
