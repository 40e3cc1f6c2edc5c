"""Engine overhead: one FIMA iteration vs the sum of its kernels timed alone, same process.

    python benchmarks/engine.py [--module cnn|tv] [--prior gs|wavelet] [--iters 20] [--sizes 256 512]

Kernels of one fima iteration, Ψ = s + h (core/splitting.py): one module call, ∇s at u and at ũ, s at
x^{k+1}, two proxes of h — and after a rejection the backward pass of ∇s at x^k. With the learned
prior (default) s = λ g_σ: a ∇s is a forward and a backward pass through the network; with a
hand-made prior s = f and a ∇s is one T and one Tᵀ. Target: iteration / kernels ≤ 1.2. Metrics
(PSNR/SSIM) are off in both, as in a headless run.
"""

from __future__ import annotations

import argparse
import statistics
import time

import torch
import torch.nn.functional as F

from core.algorithm import iterate
from core.io import load_image, resources_dir
from core.params import Parameters
from core.tasks import build_task, default_module_name


def _timed(fn, repeats: int) -> float:
    fn()  # warm-up
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return statistics.median(samples)


def measure(size: int, module: str, iters: int, prior: str) -> tuple[float, float]:
    """(mean seconds per fima iteration, mean seconds of its kernels summed), deblur at size²."""
    image = load_image(resources_dir() / "samples" / "house.png", grayscale=True)
    image = F.interpolate(image, size=(size, size), mode="bicubic", align_corners=False).clamp(0, 1)
    setup = build_task(
        "deblur", image, kernel="levin:4", noise=0.01, module=module, prior=prior, device="cpu"
    )
    problem, mod = setup.problem, setup.module
    params: Parameters = setup.parameters
    gen = iterate(problem, mod, params, "fima", max_iter=iters + 2, compute_metrics=False)
    records = [next(gen) for _ in range(2)]  # warm-up
    records += list(gen)
    timed = records[2:]

    x, split = records[-1].x, problem.splitting
    module_time = _timed(lambda: mod(x, 5, params, problem), iters)
    value_time = _timed(lambda: split.smooth.evaluate(x), iters)  # s(x) (keeps what ∇s needs)
    full_time = _timed(lambda: split.smooth.evaluate(x).gradient, iters)  # s(x) and ∇s(x)
    prox_time = _timed(lambda: split.proximal.prox_with_value(x, params.gamma), iters)
    accepted = module_time + 2 * full_time + value_time + 2 * prox_time
    rejected = accepted + (full_time - value_time)  # ∇s at x^k, from what s(x^k) kept
    kernels = [accepted if r.accepted else rejected for r in timed]
    return statistics.mean(r.seconds for r in timed), statistics.mean(kernels)


def main() -> None:
    """Print the table of measured ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--module", default=default_module_name())
    parser.add_argument("--iters", type=int, default=20)
    parser.add_argument("--sizes", type=int, nargs="+", default=[256, 512])
    parser.add_argument("--prior", default="gs", help="gs (learned, default) or wavelet, tv, …")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1)")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads, module {args.module}, "
        f"prior {args.prior}"
    )
    print(f"{'size':>6} {'iteration ms':>13} {'kernels ms':>11} {'ratio':>6}")
    for size in args.sizes:
        it, kernels = measure(size, args.module, args.iters, args.prior)
        print(f"{size:>6} {1e3 * it:>13.1f} {1e3 * kernels:>11.1f} {it / kernels:>6.2f}")


if __name__ == "__main__":
    main()
