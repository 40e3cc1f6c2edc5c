"""Time to quality: seconds until the PSNR stays within 0.5 dB of its final value, per variant.

    python benchmarks/time_to_quality.py [--tasks deblur denoise mri] [--configs fima fima-always
        pg naive] [--iters 300] [--images 01 02 ...] [--threads 1] [--workers 1]
        [--results FILE.jsonl]

Does FIMA's learned step pay for itself in wall time? For every case and configuration the run's
iterations are timed one by one (the engine's work only: PSNR is computed outside the clock, on the
iterate the engine yielded), and the script reports

  final   the PSNR of the last iterate (naive: of its best one — plug-and-play has no limit to wait
          for, so it is timed to within 0.5 dB of its peak),
  settle  the first iteration from which the PSNR stays within 0.5 dB of that final value, and the
          seconds spent until then: wall (perf_counter) and CPU (process_time; with one torch thread
          the CPU time is what an idle machine's wall time would be, whatever else runs here).

Configurations (the task's defaults otherwise):
  fima          Algorithm 1 with the default proposal policy (adaptive, core/proposal.py)
  fima-always   Algorithm 1 proposing at every iteration
  pg            proximal gradient on the same Ψ (no learned step)
  naive         x^{k+1} = A(x^k) with the same module (no safeguard)

Cases: deblur — the 20 Set12 × Levin cases of docs/benchmarks.md (256², 1 % noise, seed 0);
denoise — Set12 images at σ = 25/255 (``--images``, default 01 02 05); mri — Brain_data1 and 2,
radial 20 %, 1 % noise. Results are appended to ``--results`` as they come (a rerun skips what is
there) and the tables are printed from it. Needs ../shared/data (prints a message otherwise).
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DEBLUR_CASES = (  # Set12 image, Levin kernel: the 20 cases of the deblur tables
    ("01", 1), ("01", 2), ("01", 4), ("01", 6), ("02", 1), ("02", 4), ("02", 5),
    ("03", 4), ("03", 6), ("03", 7), ("04", 2), ("04", 7), ("04", 8), ("05", 2),
    ("05", 3), ("05", 8), ("06", 3), ("06", 8), ("07", 5), ("07", 8),
)  # fmt: skip
CONFIGS = {  # label: (variant, proposal policy)
    "fima": ("fima", "adaptive"),
    "fima-always": ("fima", "always"),
    "pg": ("pg", "always"),
    "naive": ("naive", "always"),
}
WITHIN_DB = 0.5


def cases(tasks: list[str], images: list[str]) -> list[tuple[str, str, str, dict]]:
    """(task, case name, image path, build options) for each case of ``tasks``."""
    out = []
    if "deblur" in tasks:
        for image, kernel in DEBLUR_CASES:
            path = str(DATA / "set12" / f"{image}.png")
            out.append(("deblur", f"{image} × Levin {kernel}", path, {"kernel": f"levin:{kernel}"}))
    if "denoise" in tasks:
        for image in images:
            path = str(DATA / "set12" / f"{image}.png")
            out.append(("denoise", f"{image} σ=25", path, {"noise": 25 / 255}))
    if "mri" in tasks:
        for n in (1, 2):
            path = str(DATA / "mri" / "brain" / f"Brain_data{n}.npy")
            out.append(("mri", f"Brain_data{n} radial:20", path, {"mask": "radial:20"}))
    return out


def settle(psnrs: list[float], seconds: list[float], final: float) -> tuple[int, float]:
    """(k, seconds spent up to and including iteration k) from which |PSNR − final| ≤ 0.5 dB."""
    k = len(psnrs)
    while k > 0 and abs(psnrs[k - 1] - final) <= WITHIN_DB:
        k -= 1
    if k == len(psnrs):
        return -1, math.nan
    return k, sum(seconds[: k + 1])


def measure(task: str, name: str, path: str, options: dict, label: str, iters: int, threads: int):
    """One run: per-iteration PSNR, wall and CPU seconds; final PSNR and the settle point."""
    import torch

    from core.algorithm import iterate
    from core.io import load_image
    from core.metrics import psnr
    from core.tasks import build_task

    torch.set_num_threads(threads)
    image = load_image(path, grayscale=True)
    setup = build_task(task, image, device="cpu", seed=0, **options)
    problem = setup.problem
    variant, policy = CONFIGS[label]
    steps = iterate(
        problem,
        setup.module,
        setup.parameters,
        variant,
        iters,
        compute_metrics=False,
        propose=policy,
    )
    psnrs, wall, cpu, objectives, accepted, skipped = [], [], [], [], 0, 0
    while True:
        w0, c0 = time.perf_counter(), time.process_time()
        try:
            record = next(steps)
        except StopIteration:
            break
        wall.append(time.perf_counter() - w0)
        cpu.append(time.process_time() - c0)
        view, reference = problem.scored(record.x)
        psnrs.append(psnr(view, reference))
        objectives.append(record.objective)
        accepted += bool(record.accepted)
        skipped += bool(record.skipped)
    best = max(range(len(psnrs)), key=psnrs.__getitem__)
    final = psnrs[best] if variant == "naive" else psnrs[-1]
    k, cpu_s = settle(psnrs, cpu, final)
    if variant == "naive":  # naive: the first time within 0.5 dB of its peak
        k = next(i for i, p in enumerate(psnrs) if p >= final - WITHIN_DB)
        cpu_s = sum(cpu[: k + 1])
    monotone = all(b <= a + 1e-6 * abs(a) for a, b in zip(objectives, objectives[1:], strict=False))
    return {
        "task": task,
        "case": name,
        "config": label,
        "iters": len(psnrs),
        "final": final,
        "best": psnrs[best],
        "best_k": best,
        "settle_k": k,
        "settle_cpu": cpu_s,
        "settle_wall": sum(wall[: k + 1]),
        "cpu_per_iter": statistics.mean(cpu),
        "accepted": accepted,
        "skipped": skipped,
        "monotone": monotone,
        "threads": threads,
    }


def _load(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def report(rows: list[dict], configs: list[str]) -> None:
    """Print one table per task and the fima / pg summary."""
    table = {(r["task"], r["case"], r["config"]): r for r in rows}
    for task in dict.fromkeys(r["task"] for r in rows):
        names = list(dict.fromkeys(r["case"] for r in rows if r["task"] == task))
        print(f"\n{task}: settle k / CPU s (final PSNR); fima ÷ pg = the CPU-time ratio")
        print("| case | " + " | ".join(configs) + " | fima ÷ pg |")
        print("|---" * (len(configs) + 2) + "|")
        ratios, wins, finals = [], 0, {c: [] for c in configs}
        for name in names:
            cells = []
            for c in configs:
                r = table.get((task, name, c))
                if r is None:
                    cells.append("—")
                    continue
                finals[c].append(r["final"])
                cells.append(f"{r['settle_k']} / {r['settle_cpu']:.2f} ({r['final']:.2f})")
            fima, pg = table.get((task, name, "fima")), table.get((task, name, "pg"))
            ratio = fima["settle_cpu"] / pg["settle_cpu"] if fima and pg else math.nan
            if math.isfinite(ratio):
                ratios.append(ratio)
                wins += ratio <= 1.0
            print(f"| {name} | " + " | ".join(cells) + f" | {ratio:.2f} |")
        means = " | ".join(
            f"{statistics.mean(finals[c]):.2f}" if finals[c] else "—" for c in configs
        )
        print(f"| mean final PSNR | {means} | |")
        if ratios:
            print(
                f"fima ≤ pg in CPU time to quality on {wins} of {len(ratios)} cases; mean ratio "
                f"{statistics.mean(ratios):.2f} (median {statistics.median(ratios):.2f})"
            )
        mono = [r["monotone"] for r in rows if r["task"] == task and r["config"].startswith("fima")]
        print(f"Ψ non-increasing in {sum(mono)} of {len(mono)} fima runs")


def main() -> None:
    """Run what is missing from the results file, then print the tables."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--tasks", nargs="+", default=["deblur"], choices=["deblur", "denoise", "mri"]
    )
    parser.add_argument("--configs", nargs="+", default=list(CONFIGS), choices=list(CONFIGS))
    parser.add_argument("--iters", type=int, default=300)
    parser.add_argument("--images", nargs="+", default=["01", "02", "05"], help="denoise images")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per run")
    parser.add_argument("--workers", type=int, default=1, help="runs at once (processes)")
    parser.add_argument("--results", default="runs/time_to_quality.jsonl")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"needs the shared data at {DATA}")
        return
    results = Path(args.results)
    results.parent.mkdir(parents=True, exist_ok=True)
    done = {(r["task"], r["case"], r["config"], r["iters"]) for r in _load(results)}
    todo = [
        (task, name, path, options, label)
        for task, name, path, options in cases(args.tasks, args.images)
        for label in args.configs
        if (task, name, label, args.iters) not in done
    ]
    with ProcessPoolExecutor(max_workers=max(1, args.workers)) as pool:
        futures = [pool.submit(measure, *job, args.iters, args.threads) for job in todo]
        for future in as_completed(futures):
            row = future.result()
            with results.open("a") as fh:
                fh.write(json.dumps(row) + "\n")
            print(
                f"{row['task']} {row['case']} {row['config']}: settle {row['settle_k']} "
                f"({row['settle_cpu']:.2f} s CPU), final {row['final']:.2f}",
                flush=True,
            )
    rows = [r for r in _load(results) if r["iters"] == args.iters and r["config"] in args.configs]
    report([r for r in rows if r["task"] in args.tasks], args.configs)


if __name__ == "__main__":
    main()
