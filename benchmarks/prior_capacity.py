"""Learned priors side by side: quality at convergence, L_g and cost, one weight file per column.

    python benchmarks/prior_capacity.py --weights small=resources/weights/gs.pt big=wide.pt \
        [--jobs deblur naive denoise sym8 lipschitz] [--iters 300] [--device cpu|cuda]
        [--workers 2] [--budget-seconds S] [--results runs/prior_capacity.jsonl] [--data DIR]

For each weight file (N_σ of g_σ = ½‖x − N_σ(x)‖²), in this order:
  lipschitz  ‖∇²g_σ‖ by 50 power iterations at Set12 01 and 05 (clean and noisy, σ = 25/255 and
             0.03, the deblur default 3ν at ν = 1 %) and D_σ's PSNR on Set12 σ = 25 (one shot)
  deblur     fima at the deblur task's defaults with ``--prior gs:weights=FILE`` on the 20 Set12 ×
             Levin cases of docs/benchmarks.md (256² and 512², 1 % noise, seed 0): last and best
             PSNR, Ψ monotone (and its largest relative rise), accepted proposals, ms per iteration
  naive      (once, it does not use g_σ) naive plug-and-play with the task's module, best iterate
  denoise    fima on the denoise task's Prox-PnP prior ``gs-prox:weights=FILE``, Set12 σ = 25
  sym8       fima with ``gs:symmetries=8,weights=FILE`` (the dihedral average, one batched pass)
Rows are appended to ``--results`` as they finish (a rerun skips what is there); jobs run in
``--workers`` processes (spawned: CUDA-safe), in that order, and none starts after
``--budget-seconds``. The table is printed from the results file. Needs Set12 and the Levin kernels
(``--data``, default ../shared/data).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import statistics
import sys
import time
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from time_to_quality import DATA, DEBLUR_CASES  # noqa: E402  (the 20 cases of the deblur tables)

JOB_KINDS = ("lipschitz", "deblur", "naive", "denoise", "sym8")


def _setup_worker(device: str) -> None:
    """One torch thread, passive OpenMP (the engine scopes its own exact float32)."""
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    import torch

    torch.set_num_threads(1)


def _run(task: str, image: Path, options: dict, iters: int, device: str) -> dict:
    """One engine run; PSNR of the last and best iterate, Ψ's monotonicity, time per iteration."""
    import torch

    from core.algorithm import iterate
    from core.tasks import build_task

    variant = options.pop("variant", "fima")
    setup = build_task(task, str(image), device=device, **options)
    if device == "cuda":
        torch.cuda.synchronize()
    start = time.perf_counter()
    records = list(iterate(setup.problem, setup.module, setup.parameters, variant, iters))
    if device == "cuda":
        torch.cuda.synchronize()
    seconds = time.perf_counter() - start
    psnrs = [r.psnr for r in records]
    psi = [r.objective for r in records]
    rises = [(b - a) / abs(a) for a, b in zip(psi, psi[1:], strict=False) if a]
    best = max(range(len(psnrs)), key=lambda i: psnrs[i])
    return {
        "last": psnrs[-1],
        "best": psnrs[best],
        "best_k": best,
        "monotone": all(r <= 1e-6 for r in rises),
        "max_rise": max(rises, default=0.0),
        "accepted": sum(bool(r.accepted) for r in records) if variant == "fima" else None,
        "ms_per_iter": 1000.0 * seconds / len(records),
    }


def _lipschitz(weights: str, data: Path, device: str) -> dict:
    """‖∇²g_σ‖ (50 power iterations) at Set12 01/05, clean and noisy; D_σ on Set12 at σ = 25."""
    import sys

    import torch

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tools"))
    from denoiser_training import hessian_spectral_norm
    from train_denoiser import load_gray_folder, validate

    from core.unet import load_network

    model, meta = load_network(weights, "prior")
    model = model.to(device)
    for p in model.parameters():
        p.requires_grad_(False)
    images = load_gray_folder(data / "set12")
    gen = torch.Generator().manual_seed(0)
    norms = {}
    for name, idx in (("01", 0), ("05", 4)):
        clean = images[idx][None, None, 64:160, 64:160]  # a 96×96 crop, as the engine's estimate
        for sigma in (25 / 255, 0.03):
            noisy = clean + sigma * torch.randn(clean.shape, generator=gen)
            for kind, point in (("clean", clean), ("noisy", noisy)):
                sig = torch.tensor([sigma], device=device)
                value = hessian_spectral_norm(
                    model, point.to(device), sig, 50, create_graph=False, gen=gen
                )
                norms[f"{name} {kind} σ={sigma * 255:.1f}"] = float(value[0])
    denoiser = validate(model, images, 25 / 255, gradient_step=True)
    return {"hessian_norms": norms, "hessian_max": max(norms.values()), "d_sigma_psnr": denoiser}


def one_job(job: dict, data: str, iters: int, device: str) -> dict:
    """Run one job (a dict of kind, label, weights, image, kernel) and return its row."""
    _setup_worker(device)
    data_dir = Path(data)
    kind, weights = job["kind"], job.get("weights")
    start = time.perf_counter()
    if kind == "lipschitz":
        from core.precision import exact_float32

        with exact_float32():  # outside the engine: the same arithmetic as its L estimates
            row = _lipschitz(weights, data_dir, device)
    elif kind == "denoise":
        image = data_dir / "set12" / f"{job['image']}.png"
        options = {
            "noise": 25 / 255,
            "seed": int(job["image"]),
            "prior": f"gs-prox:weights={weights}",
        }
        row = _run("denoise", image, options, iters, device)
    else:
        image = data_dir / "set12" / f"{job['image']}.png"
        options = {"kernel": f"levin:{job['kernel']}", "noise": 0.01, "grayscale": True}
        if kind == "naive":
            options["variant"] = "naive"
        else:
            extra = "symmetries=8," if kind == "sym8" else ""
            options["prior"] = f"gs:{extra}weights={weights}"
        row = _run("deblur", image, options, iters, device)
    return {**job, **row, "iters": iters, "device": device, "seconds": time.perf_counter() - start}


def make_jobs(weights: dict[str, str], kinds: list[str], limit: int = 0) -> list[dict]:
    """Every job of ``kinds`` for every weight file, in the order of JOB_KINDS (the first
    ``limit`` cases of each when > 0)."""
    cases = DEBLUR_CASES[:limit] if limit > 0 else DEBLUR_CASES
    images = range(1, 1 + (min(limit, 12) if limit > 0 else 12))
    jobs: list[dict] = []
    for kind in JOB_KINDS:
        if kind not in kinds:
            continue
        if kind == "naive":
            jobs += [{"kind": kind, "label": "-", "image": i, "kernel": k} for i, k in cases]
            continue
        for label, path in weights.items():
            base = {"kind": kind, "label": label, "weights": path}
            if kind == "lipschitz":
                jobs.append(base)
            elif kind == "denoise":
                jobs += [{**base, "image": f"{i:02d}"} for i in images]
            else:
                jobs += [{**base, "image": i, "kernel": k} for i, k in cases]
    return jobs


def key(row: dict) -> tuple:
    """What identifies a job in the results file."""
    return (row["kind"], row["label"], row.get("image"), row.get("kernel"), row.get("iters"))


def summary(rows: list[dict]) -> str:
    """The table: per weight file, means over the cases it ran."""
    naive = {(r["image"], r["kernel"]): r["best"] for r in rows if r["kind"] == "naive"}
    lines = [
        "| prior | job | runs | last | best | last ≥ naive best | Ψ monotone | max rise | ms/it |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    if naive:
        lines.append(
            f"| - | naive best | {len(naive)} | | {statistics.mean(naive.values()):.2f} | | | | |"
        )
    labels = sorted({r["label"] for r in rows if r["kind"] != "naive"})
    for label in labels:
        for kind in ("deblur", "sym8", "denoise"):
            mine = [r for r in rows if r["label"] == label and r["kind"] == kind]
            if not mine:
                continue
            cases = [(r["image"], r.get("kernel")) for r in mine]
            wins = [r["last"] >= naive[c] for r, c in zip(mine, cases, strict=True) if c in naive]
            win_text = f"{sum(wins)}/{len(wins)}" if wins else ""
            lines.append(
                f"| {label} | {kind} | {len(mine)} | {statistics.mean(r['last'] for r in mine):.2f} "
                f"| {statistics.mean(r['best'] for r in mine):.2f} | {win_text} "
                f"| {sum(r['monotone'] for r in mine)}/{len(mine)} "
                f"| {max(r['max_rise'] for r in mine):.1e} "
                f"| {statistics.mean(r['ms_per_iter'] for r in mine):.1f} |"
            )
        for r in rows:
            if r["label"] == label and r["kind"] == "lipschitz":
                lines.append(
                    f"| {label} | L_g, D_σ | | ‖∇²g‖ max {r['hessian_max']:.3f} "
                    f"| D_σ σ=25: {r['d_sigma_psnr']:.2f} dB | | | | |"
                )
    return "\n".join(lines)


def main() -> None:
    """Run what is missing from the results file, then print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--weights", nargs="+", required=True, help="LABEL=FILE.pt ...")
    parser.add_argument("--jobs", nargs="+", default=list(JOB_KINDS), choices=JOB_KINDS)
    parser.add_argument("--iters", type=int, default=300)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--workers", type=int, default=max(1, os.cpu_count() or 1))
    parser.add_argument("--budget-seconds", type=float, default=float("inf"))
    parser.add_argument("--results", type=Path, default=Path("runs/prior_capacity.jsonl"))
    parser.add_argument("--data", type=Path, default=DATA)
    parser.add_argument("--limit", type=int, default=0, help="first N cases only (a quick check)")
    args = parser.parse_args()
    if not (args.data / "set12").is_dir():
        print(f"Set12 not found under {args.data}: nothing to measure")
        return
    weights = dict(item.split("=", 1) for item in args.weights)
    done = set()
    if args.results.is_file():
        done = {key(json.loads(x)) for x in args.results.read_text().splitlines() if x.strip()}
    jobs = [
        j
        for j in make_jobs(weights, args.jobs, args.limit)
        if key({**j, "iters": args.iters}) not in done
    ]
    args.results.parent.mkdir(parents=True, exist_ok=True)
    print(f"{len(jobs)} jobs to do on {args.device} ({len(done)} already done)", flush=True)
    deadline = time.time() + args.budget_seconds
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=args.workers, mp_context=context) as pool:
        futures = {}
        pending = list(jobs)

        def submit_next() -> None:
            if pending and time.time() < deadline:
                job = pending.pop(0)
                futures[pool.submit(one_job, job, str(args.data), args.iters, args.device)] = job

        for _ in range(args.workers):
            submit_next()
        while futures:
            for future in as_completed(list(futures)):
                job = futures.pop(future)
                try:
                    row = future.result()
                except Exception as exc:  # one failed job is a line, not the end of the run
                    print(f"FAILED {job}: {type(exc).__name__}: {exc}", flush=True)
                else:
                    with args.results.open("a") as fh:
                        fh.write(json.dumps(row) + "\n")
                    shown = {k: row[k] for k in ("last", "best", "ms_per_iter") if k in row}
                    print(
                        f"{job['kind']} {job['label']} {job.get('image', '')} "
                        f"{job.get('kernel', '')}: {shown} ({row['seconds']:.1f} s)",
                        flush=True,
                    )
                submit_next()
                break
        if pending:
            print(f"budget spent: {len(pending)} jobs not started", flush=True)
    rows = [json.loads(x) for x in args.results.read_text().splitlines() if x.strip()]
    print(summary([r for r in rows if r.get("iters") == args.iters and r["kind"] in args.jobs]))


if __name__ == "__main__":
    main()
