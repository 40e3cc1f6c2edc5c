"""Benchmark ``fima run`` on a busy machine against the explorer's iteration time on the same problem.

    .venv/bin/python benchmarks/cli_threads.py [--task deblur] [--variant pg] [--iters 8]
                                               [--repeats 3] [--busy-threads 2] [--no-busy]
                                               [--downscale F]

Issue 30: on a busy 2-core machine ``fima run`` pg took 1.8 s/it with torch's default threads,
0.45 s/it with one. Every entry point now runs torch on the usable cores − 1 with OpenMP's idle
threads waiting passively (core.threads). While another torch process with ``--busy-threads``
threads multiplies matrices beside it (OpenMP's default wait policy, as any other program), this
runs, each in a fresh process on the same problem (the task's defaults and bundled sample):

1. ``fima run --task T --variant V --iters N`` as a user types it (its default threads);
2. the explorer's engine: ``core.iterate`` after ``gui.app.leave_a_core_for_the_window`` (the
   explorer's headless rate, without the window);
3. for reference, ``fima run --threads C`` with C = the cores (torch's own default count).

The three run in turn ``--repeats`` times (machine noise hits them alike). Each run's time is its
median seconds per iteration (the trace's ``seconds`` column, the first iteration left out as
warm-up); the ratio ``fima run`` / explorer (target ≤ 1.2) is printed over the medians of the
repeats and as the median of the paired ratios.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TARGET_RATIO = 1.2
BUSY = """
import torch
torch.set_num_threads({threads})
a = torch.randn(384, 384)
while True:
    a = torch.tanh(a @ a.T / 384.0)
"""
EXPLORER = """
import json, sys
from gui.app import leave_a_core_for_the_window
leave_a_core_for_the_window()
import torch
from core import build_task, iterate
task, variant, iters, downscale = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
setup = build_task(task, None, downscale=downscale)
records = iterate(setup.problem, setup.module, setup.parameters, variant, max_iter=iters)
seconds = [record.seconds for record in records]
print(json.dumps({"threads": torch.get_num_threads(), "seconds": seconds}))
"""


def _environment() -> dict[str, str]:
    """This environment without the OpenMP settings a user may have made (each entry point's own)."""
    drop = ("OMP_NUM_THREADS", "OMP_WAIT_POLICY")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    return env


def per_iteration(seconds: list[float]) -> float:
    """Median seconds per iteration, the first (warm-up) left out when there are others."""
    return statistics.median(seconds[1:] if len(seconds) > 1 else seconds)


def fima_run(args: argparse.Namespace, threads: int | None = None) -> tuple[float, str]:
    """Median s/it of ``fima run`` in a fresh process, and its summary's 'on …' part."""
    with tempfile.TemporaryDirectory() as tmp:
        command = [sys.executable, "-m", "core.cli", "run", "--task", args.task, "--variant",
                   args.variant, "--iters", str(args.iters), "--out", tmp]  # fmt: skip
        if args.downscale > 1:
            command += ["--downscale", str(args.downscale)]
        if threads is not None:
            command += ["--threads", str(threads)]
        done = subprocess.run(command, env=_environment(), capture_output=True, text=True)
        if done.returncode != 0:
            raise SystemExit(f"benchmark: fima run failed: {done.stderr.strip()[-500:]}")
        with open(Path(tmp) / "trace.csv", newline="") as handle:
            seconds = [float(row["seconds"]) for row in csv.DictReader(handle)]
    summary = done.stdout.strip().splitlines()[-1]
    where = summary.rsplit("; on ", 1)[-1].split(";")[0] if "; on " in summary else "?"
    return per_iteration(seconds), where


def explorer(args: argparse.Namespace) -> tuple[float, int]:
    """Median s/it of the engine with the explorer's threads in a fresh process, and its threads."""
    command = [sys.executable, "-c", EXPLORER, args.task, args.variant, str(args.iters),
               str(args.downscale)]  # fmt: skip
    done = subprocess.run(command, env=_environment(), capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"benchmark: the explorer's engine failed: {done.stderr.strip()[-500:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    return per_iteration(result["seconds"]), int(result["threads"])


def main(argv: list[str] | None = None) -> int:
    """Run the three measurements beside a busy process and print the ratios."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--task", default="deblur")
    parser.add_argument("--variant", default="pg")
    parser.add_argument("--iters", type=int, default=8)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--downscale", type=int, default=1)
    parser.add_argument("--busy-threads", type=int, default=2)
    parser.add_argument("--no-busy", action="store_true", help="no process beside (idle machine)")
    args = parser.parse_args(argv)
    from core.threads import usable_cores

    cores = usable_cores()
    busy = None
    if not args.no_busy:
        code = BUSY.format(threads=args.busy_threads)
        busy = subprocess.Popen([sys.executable, "-c", code], env=_environment())
        time.sleep(2.0)  # torch imported, the products running
    cli: list[float] = []
    engine: list[float] = []
    reference: list[float] = []
    try:
        beside = "idle" if busy is None else f"a {args.busy_threads}-thread torch process beside"
        print(
            f"{cores} usable cores, {beside}; {args.task}/{args.variant}, {args.iters} iterations, "
            f"{args.repeats} repeats"
        )
        for repeat in range(args.repeats):
            seconds, where = fima_run(args)
            cli.append(seconds)
            seconds, threads = explorer(args)
            engine.append(seconds)
            seconds, wide = fima_run(args, threads=cores)
            reference.append(seconds)
            print(
                f"  repeat {repeat + 1}: fima run ({where}) {cli[-1]:.3f} s/it, explorer's engine "
                f"({threads} torch thread{'s' if threads != 1 else ''}) {engine[-1]:.3f} s/it, fima run --threads {cores} "
                f"({wide}) {reference[-1]:.3f} s/it"
            )
    finally:
        if busy is not None:
            busy.terminate()
            busy.wait(timeout=30)
    ratio = statistics.median(cli) / statistics.median(engine)
    paired = statistics.median(c / e for c, e in zip(cli, engine, strict=True))
    print(
        f"fima run {statistics.median(cli):.3f} s/it, explorer {statistics.median(engine):.3f} s/it "
        f"(medians): ratio fima run / explorer {ratio:.2f} (target ≤ {TARGET_RATIO}), "
        f"median of paired ratios {paired:.2f}"
    )
    print(
        f"  fima run --threads {cores} (torch's default count) {statistics.median(reference):.3f} "
        f"s/it: {statistics.median(reference) / statistics.median(engine):.2f}× the explorer's"
    )
    print("target met" if min(ratio, paired) <= TARGET_RATIO else "target NOT met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
