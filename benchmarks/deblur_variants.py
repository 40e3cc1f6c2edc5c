"""FIMA deblurring on Set12: every variant, the CNN against a classical module, Ψ monotonicity.

    python benchmarks/deblur_variants.py [--images 12] [--iters 50] [--kernel levin:4] [--noise 0.01]

Prints the average PSNR / SSIM of the observation and of each (variant, module, prior, preset)
configuration, the number of accepted learned steps, and whether Ψ was non-increasing on every
image. Needs ../shared/data/set12 (skips with a message otherwise).
"""

from __future__ import annotations

import argparse
import statistics
from pathlib import Path

from core.algorithm import iterate
from core.metrics import psnr, ssim
from core.params import PRESETS
from core.tasks import build_task

SET12 = Path(__file__).resolve().parents[2] / "shared" / "data" / "set12"
CONFIGS = [  # (label, variant, module, prior, preset)
    ("pg", "pg", "tv", "wavelet", "guaranteed"),
    ("fima cnn", "fima", "cnn", "wavelet", "guaranteed"),
    ("naive cnn", "naive", "cnn", "wavelet", "guaranteed"),
    ("unchecked cnn", "unchecked", "cnn", "wavelet", "guaranteed"),
    ("fima tv, paper", "fima", "tv", "wavelet", "paper"),
    ("fima cnn, paper", "fima", "cnn", "wavelet", "paper"),
    ("pg, l0", "pg", "tv", "wavelet:p=0", "paper"),
    ("fima tv, l0, paper", "fima", "tv", "wavelet:p=0", "paper"),
    ("fima cnn, l0, paper", "fima", "cnn", "wavelet:p=0", "paper"),
]
L0_LAMBDA = 1e-4


def monotone(objectives: list[float]) -> bool:
    """Ψ(x^{k+1}) ≤ Ψ(x^k)(1 + 1e-6) for every k."""
    return all(b <= a + 1e-6 * abs(a) for a, b in zip(objectives, objectives[1:], strict=False))


def main() -> None:
    """Run every configuration on the first N Set12 images and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=12)
    parser.add_argument("--iters", type=int, default=50)
    parser.add_argument("--kernel", default="levin:4")
    parser.add_argument("--noise", type=float, default=0.01)
    args = parser.parse_args()
    if not SET12.is_dir():
        print(f"Set12 not found at {SET12}: nothing to measure")
        return
    images = sorted(SET12.glob("*.png"))[: args.images]
    results: dict[str, list[tuple[float, float, int, bool]]] = {c[0]: [] for c in CONFIGS}
    observed = []
    for path in images:
        for label, variant, module, prior, preset in CONFIGS:
            setup = build_task(
                "deblur", path, kernel=args.kernel, noise=args.noise, module=module, prior=prior
            )
            changes = dict(PRESETS[preset])
            if prior.endswith("p=0"):
                changes["lam"] = L0_LAMBDA
            params = setup.parameters.with_changes(**changes)
            records = list(iterate(setup.problem, setup.module, params, variant, args.iters))
            last = records[-1]
            accepted = sum(r.accepted for r in records) if variant == "fima" else -1
            ok = monotone([r.objective for r in records])
            results[label].append((last.psnr, last.ssim, accepted, ok))
        p = setup.problem
        observed.append(
            (psnr(p.observation_image, p.ground_truth), ssim(p.observation_image, p.ground_truth))
        )
        print(f"{path.name} done", flush=True)
    n = len(images)
    print(f"\nSet12 ({n} images), {args.kernel}, noise {args.noise}, {args.iters} iterations")
    print(f"{'configuration':<22} {'PSNR':>7} {'SSIM':>7} {'accepted':>9} {'Ψ monotone':>11}")
    print(
        f"{'observation':<22} {statistics.mean(o[0] for o in observed):>7.2f} "
        f"{statistics.mean(o[1] for o in observed):>7.4f}"
    )
    for label, rows in results.items():
        acc = statistics.mean(r[2] for r in rows)
        acc_text = f"{acc:>9.1f}" if acc >= 0 else f"{'-':>9}"
        mono = f"{sum(r[3] for r in rows)}/{n}"
        print(
            f"{label:<22} {statistics.mean(r[0] for r in rows):>7.2f} "
            f"{statistics.mean(r[1] for r in rows):>7.4f} {acc_text} {mono:>11}"
        )


if __name__ == "__main__":
    main()
