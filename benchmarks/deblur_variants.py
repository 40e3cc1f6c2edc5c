"""Deblurring at convergence: Set12 × Levin kernels, every variant, last iterate beside the best one.

    python benchmarks/deblur_variants.py [--images 01 02 ... 07] [--kernels 1 2 ... 8] [--iters 300]
        [--noise 0.01] [--configs fima naive pg fima-wavelet] [--workers 2] [--threads 1]
        [--results FILE.json]

Configurations (task defaults unless said):
  fima          Algorithm 1 on the learned Ψ = f + λ g_σ, module cnn + 2 refinement steps
  naive         x^{k+1} = A(x^k) with the same module (plug-and-play, no safeguard)
  unchecked     Algorithm 1 without the check
  pg            proximal gradient on the learned Ψ (no learned step; the GS-PnP iteration)
  fima-wavelet  the previous defaults: Ψ = f + λ‖Wx‖₁ (λ = 1e-3), module cnn + 10 refinement steps
  pg-wavelet    proximal gradient on that hand-made Ψ
  pg-from-naive-best
                pg on the learned Ψ started at naive's best iterate of its first 40 (chosen with
                the ground truth): whether Ψ's critical point or the starting point decides the
                result (a nonconvex Ψ might keep a better start)
  fima-symN, pg-symN (N = 2, 4, 8)
                fima and pg on Ψ = f + λ g with g_σ averaged over N of the square's symmetries
                (``--prior gs:symmetries=N``: the self-ensembled denoiser in Ψ, N× the network cost)

For each run: PSNR of the last iterate and of the best one (and where it was), the first k from
which PSNR stays within 0.5 dB of the final value, learned steps accepted, Ψ monotone. Results are
appended to ``--results`` as they come (a rerun skips what is there), and the table is printed from
it. Runs are spread over ``--workers`` processes with ``--threads`` torch threads each. Needs
../shared/data/set12 (prints a message otherwise).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

SET12 = Path(__file__).resolve().parents[2] / "shared" / "data" / "set12"
CONFIGS = {  # label: (variant, build options)
    "fima": ("fima", {}),
    "naive": ("naive", {}),
    "unchecked": ("unchecked", {}),
    "pg": ("pg", {}),
    "fima-wavelet": ("fima", {"prior": "wavelet"}),
    "pg-wavelet": ("pg", {"prior": "wavelet"}),
    "pg-from-naive-best": ("pg", {}),
    **{
        f"{variant}-sym{n}": (variant, {"prior": f"gs:symmetries={n}"})
        for n in (2, 4, 8)
        for variant in ("fima", "pg")
    },
}
WARM_START_ITERS = 40  # naive iterations searched for the warm start of pg-from-naive-best
WITHIN_DB = 0.5


def monotone(objectives: list[float]) -> bool:
    """Ψ(x^{k+1}) ≤ Ψ(x^k)(1 + 1e-6) for every k."""
    return all(b <= a + 1e-6 * abs(a) for a, b in zip(objectives, objectives[1:], strict=False))


def settles_at(psnrs: list[float], within: float = WITHIN_DB) -> int:
    """The first k from which PSNR stays within ``within`` dB of the final PSNR."""
    final = psnrs[-1]
    k = len(psnrs)
    while k > 0 and abs(psnrs[k - 1] - final) <= within:
        k -= 1
    return k


def one_run(image: str, kernel: int, config: str, iters: int, noise: float, threads: int) -> dict:
    """Run one configuration on one image and kernel; the row for the results file."""
    import dataclasses

    import torch

    torch.set_num_threads(threads)
    from core.algorithm import iterate
    from core.metrics import psnr
    from core.tasks import build_task

    variant, options = CONFIGS[config]
    start = time.perf_counter()
    setup = build_task(
        "deblur", image, kernel=f"levin:{kernel}", noise=noise, grayscale=True, **options
    )
    if config == "pg-from-naive-best":
        warm = list(
            iterate(setup.problem, setup.module, setup.parameters, "naive", WARM_START_ITERS)
        )
        start_at = max(warm, key=lambda r: r.psnr).x.detach().clone()
        setup = dataclasses.replace(setup, problem=dataclasses.replace(setup.problem, x0=start_at))
    records = list(iterate(setup.problem, setup.module, setup.parameters, variant, iters))
    psnrs = [r.psnr for r in records]
    best = max(range(len(psnrs)), key=lambda i: psnrs[i])
    problem = setup.problem
    return {
        "image": Path(image).name,
        "kernel": kernel,
        "config": config,
        "iters": iters,
        "observation": psnr(problem.observation_image, problem.ground_truth),
        "last": psnrs[-1],
        "best": psnrs[best],
        "best_k": best,
        "settles": settles_at(psnrs),
        "accepted": sum(r.accepted for r in records) if variant == "fima" else None,
        "monotone": monotone([r.objective for r in records]),
        "diverged": records[-1].diverged,
        "seconds": time.perf_counter() - start,
    }


def load(path: Path) -> list[dict]:
    """Rows already in the results file."""
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def table(rows: list[dict], configs: list[str]) -> str:
    """The summary: per configuration, means over every (image, kernel) it ran on."""
    lines = [
        f"{'configuration':<18} {'runs':>5} {'last':>7} {'best':>7} {'best−last':>9} "
        f"{'settles k':>9} {'accepted':>9} {'Ψ monotone':>10} {'s/run':>7}"
    ]
    obs = {(r["image"], r["kernel"]): r["observation"] for r in rows}
    if obs:
        lines.append(f"{'observation':<18} {len(obs):>5} {statistics.mean(obs.values()):>7.2f}")
    for config in configs:
        mine = [r for r in rows if r["config"] == config]
        if not mine:
            continue
        acc = [r["accepted"] for r in mine if r["accepted"] is not None]
        lines.append(
            f"{config:<18} {len(mine):>5} {statistics.mean(r['last'] for r in mine):>7.2f} "
            f"{statistics.mean(r['best'] for r in mine):>7.2f} "
            f"{statistics.mean(r['best'] - r['last'] for r in mine):>9.2f} "
            f"{statistics.mean(r['settles'] for r in mine):>9.1f} "
            f"{(f'{statistics.mean(acc):.1f}' if acc else '-'):>9} "
            f"{sum(r['monotone'] for r in mine):>5}/{len(mine):<4} "
            f"{statistics.mean(r['seconds'] for r in mine):>7.1f}"
        )
    return "\n".join(lines)


def main() -> None:
    """Run what is missing from the results file, then print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", nargs="+", default=[f"{i:02d}" for i in range(1, 8)])
    parser.add_argument("--kernels", nargs="+", type=int, default=list(range(1, 9)))
    parser.add_argument("--iters", type=int, default=300)
    parser.add_argument("--noise", type=float, default=0.01)
    parser.add_argument("--configs", nargs="+", default=["fima", "naive", "pg", "fima-wavelet"])
    parser.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 1)))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--results", type=Path, default=Path("runs/deblur_variants.jsonl"))
    args = parser.parse_args()
    if not SET12.is_dir():
        print(f"Set12 not found at {SET12}: nothing to measure")
        return
    unknown = sorted(set(args.configs) - set(CONFIGS))
    if unknown:
        raise SystemExit(
            f"unknown configuration(s) {', '.join(unknown)}: choose {', '.join(CONFIGS)}"
        )
    done = {(r["image"], r["kernel"], r["config"], r["iters"]) for r in load(args.results)}
    jobs = [
        (str(SET12 / f"{name}.png"), kernel, config)
        for name in args.images
        for kernel in args.kernels
        for config in args.configs
        if (f"{name}.png", kernel, config, args.iters) not in done
    ]
    args.results.parent.mkdir(parents=True, exist_ok=True)
    print(f"{len(jobs)} runs to do ({len(done)} already in {args.results})", flush=True)
    with ProcessPoolExecutor(max_workers=args.workers) as pool:
        futures = [
            pool.submit(one_run, img, k, c, args.iters, args.noise, args.threads)
            for img, k, c in jobs
        ]
        for future in as_completed(futures):
            row = future.result()
            with args.results.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
            print(
                f"{row['image']} levin:{row['kernel']} {row['config']}: last {row['last']:.2f} "
                f"best {row['best']:.2f}@{row['best_k']} ({row['seconds']:.0f} s)",
                flush=True,
            )
    rows = [
        r
        for r in load(args.results)
        if r["iters"] == args.iters
        and r["image"] in {f"{n}.png" for n in args.images}
        and r["kernel"] in args.kernels
        and not math.isnan(r["last"])
    ]
    images = sorted({r["image"] for r in rows})
    print(
        f"\nSet12 {', '.join(i[:-4] for i in images)} × Levin {args.kernels}, noise {args.noise}, "
        f"{args.iters} iterations (PSNR dB; settles: first k within {WITHIN_DB} dB of the final)"
    )
    print(table(rows, args.configs))


if __name__ == "__main__":
    main()
