"""The four newer tasks on their synthetic benchmarks: input metric, pg, naive and fima, same budget.

    .venv/bin/python benchmarks/tasks.py [--iters 50] [--tasks mri smooth lowlight derain]
                                         [--module NAME] [--prior SPEC] [--device cpu|cuda]
                                         [--images FILE ...] [--variants pg naive fima]
                                         [--seed N] [--threads N]

``--images`` replaces each task's benchmark cases by these images with the task's default options
(e.g. CS-MRI on natural images: ``--tasks mri --images ../shared/data/train400/test_010.png``);
``--variants`` runs fewer variants (the others print as "-"); ``--seed`` seeds the noise and masks.

Each row: the input's PSNR/SSIM against the ground truth (mri: the zero-filled image; lowlight: the
dark photo against the clean one), then PSNR/SSIM of the LAST iterate (and the best iterate's PSNR
and where it was) after ``--iters`` iterations of pg, naive and fima
with each task's default parameters and module (the trained CNN when its weights exist), and whether
Ψ was monotone under fima (Ψ(x^{k+1}) ≤ Ψ(x^k)(1 + 1e-6) for every k). lowlight is scored on the
rendered picture D(y)/t^γ_e against the clean image. Cases needing ../shared are skipped without it.
"""

from __future__ import annotations

import argparse
import time
from dataclasses import dataclass
from pathlib import Path

import torch

from core.algorithm import run
from core.io import resources_dir
from core.metrics import psnr, ssim
from core.tasks import build_task

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
BRAIN = SHARED / "mri" / "brain" / "Brain_data1.npy"
BRAIN2 = SHARED / "mri" / "brain" / "Brain_data2.npy"
SAMPLES = resources_dir() / "samples"
VARIANTS = ("pg", "naive", "fima")


def cases() -> dict[str, list[tuple[str, str | None, dict]]]:
    """(label, image, options) per task."""
    brain = str(BRAIN) if BRAIN.is_file() else None
    brain2 = str(BRAIN2) if BRAIN2.is_file() else None
    return {
        "mri": [
            ("Brain_data1 radial:20", brain, {"mask": "radial:20"}),
            ("Brain_data2 radial:20", brain2, {"mask": "radial:20"}),
            ("Brain_data1 radial:20 rician", brain, {"mask": "radial:20", "noise_model": "rician"}),
            (
                "Brain_data2 radial:20 rician",
                brain2,
                {"mask": "radial:20", "noise_model": "rician"},
            ),
        ],
        "smooth": [("cartoon + texture 0.1 + noise 0.02", None, {})],
        "lowlight": [
            ("coffee", None, {}),
            ("chelsea", str(SAMPLES / "chelsea.png"), {}),
            *[
                (f"Set12 {n} (grey)", str(SHARED / "set12" / n), {})
                for n in ("05.png", "08.png")
                if (SHARED / "set12" / n).is_file()
            ],
        ],
        "derain": [
            ("chelsea", None, {}),
            ("coffee", str(SAMPLES / "coffee.png"), {}),
        ],
    }


def _scores(problem, x: torch.Tensor) -> tuple[float, float]:
    clean = problem.info.get("clean")
    if clean is not None:  # lowlight: score the picture the user sees
        picture = problem.info["render"](x)
        return psnr(picture, clean), ssim(picture, clean)
    return psnr(x, problem.ground_truth), ssim(x, problem.ground_truth)


def _monotone(records) -> bool:
    objectives = [r.objective for r in records]
    return all(b <= a + 1e-6 * abs(a) for a, b in zip(objectives, objectives[1:], strict=False))


@dataclass(frozen=True)
class Budget:
    """What every row runs: iterations, device and the variants."""

    iters: int
    device: str | None = None
    variants: tuple[str, ...] = VARIANTS


def measure(task: str, label: str, image, options: dict, budget: Budget) -> dict:
    """One benchmark row: the input's scores, then (last, best, k of best) per variant."""
    setup = build_task(task, image, device=budget.device, **options)
    problem = setup.problem
    clean = problem.info.get("clean")
    first = problem.observation_image if clean is not None else problem.x0
    row = {"task": task, "case": label, "module": setup.settings["module"]}
    row["input"] = (psnr(first, clean), ssim(first, clean)) if clean is not None else None
    if row["input"] is None:
        row["input"] = _scores(problem, problem.x0)
    start = time.perf_counter()
    for variant in budget.variants:
        records = run(problem, setup.module, setup.parameters, variant, iterations=budget.iters)
        best = max(records, key=lambda r: r.psnr)
        row[variant] = (*_scores(problem, records[-1].x), best.psnr, best.k)
        if variant == "fima":
            row["monotone"] = _monotone(records)
            row["accepted"] = sum(r.accepted for r in records)
    row["seconds"] = time.perf_counter() - start
    return row


def main() -> None:
    """Print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iters", type=int, default=50)
    parser.add_argument("--tasks", nargs="+", default=["mri", "smooth", "lowlight", "derain"])
    parser.add_argument("--module", default=None, help="override every task's default module")
    parser.add_argument("--device", default=None)
    parser.add_argument("--prior", default=None, help="override every task's default prior")
    parser.add_argument(
        "--images", nargs="+", default=None, help="run these images instead of the built-in cases"
    )
    parser.add_argument("--variants", nargs="+", choices=VARIANTS, default=list(VARIANTS))
    parser.add_argument("--seed", type=int, default=None, help="seed of the noise (and masks)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    for image in args.images or ():
        if not Path(image).is_file():
            parser.error(f"no image file {image}")
    header = "| task | case | module | input | pg | naive | fima | fima monotone | accepted | s |"
    print(
        f"iterations: {args.iters}; PSNR dB / SSIM of the last iterate (best iterate's PSNR @k)\n"
    )
    print(header)
    print("|---" * (header.count("|") - 1) + "|")
    variants = tuple(v for v in VARIANTS if v in args.variants)
    budget = Budget(args.iters, args.device, variants)
    gains: list[float] = []
    for task in args.tasks:
        own = [(Path(i).name, i, {}) for i in args.images] if args.images else cases()[task]
        for label, image, options in own:
            if task == "mri" and image is None:
                print(f"| mri | {label} | skipped: {BRAIN} not found | | | | | | | |")
                continue
            overrides = {"prior": args.prior, "seed": args.seed, "module": args.module}
            options = {**options, **{k: v for k, v in overrides.items() if v is not None}}
            row = measure(task, label, image, options, budget)
            gains.append(row[variants[-1]][0] - row["input"][0])
            cells = [f"{row['input'][0]:.2f} / {row['input'][1]:.3f}"] + [
                f"{row[k][0]:.2f} / {row[k][1]:.3f} (best {row[k][2]:.2f} @{row[k][3]})"
                if k in row
                else "-"
                for k in VARIANTS
            ]
            monotone = ("yes" if row["monotone"] else "NO") if "monotone" in row else "-"
            accepted = f"{row['accepted']}/{args.iters}" if "accepted" in row else "-"
            print(
                f"| {task} | {label} | {row['module']} | " + " | ".join(cells) + f" | "
                f"{monotone} | {accepted} | {row['seconds']:.0f} |",
                flush=True,
            )
    if len(gains) > 1:
        print(
            f"\nmean gain of {variants[-1]}'s last iterate over the input: {sum(gains) / len(gains):+.2f} dB"
        )


if __name__ == "__main__":
    main()
