"""The memory check's estimate against a run's measured peak: is ``core.memory`` generous enough?

    python benchmarks/memory.py [--sizes 512 1024] [--iters 6] [--cases fima fima,pg:tv …] [--json]

Each case runs in a fresh process: build the deblurring task (bundled sample resized, the task's
defaults unless the case names a prior), run its variants in lockstep as the explorer does, fima
proposing at every iteration, and read the resident size before the iterations and its peak
during them (Linux: the peak VmHWM is reset through /proc/self/clear_refs just before, so what
building the task took does not hide the run's own growth). Printed per case: the peak growth,
the estimate ``fima run`` and the window check make (``core.memory.estimate_run_bytes`` with the
prior's ``memory_buffers``) and estimate ÷ measured (target ≥ 1: refuse early rather than swap;
well under 3: don't refuse what fits). A case is
``VARIANTS[:PRIOR]`` (default: the four below); ``--json`` prints one JSON object per case instead
(tests/test_memory_estimate.py runs it so).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CASES = ("fima", "fima,pg", "fima:gs:symmetries=4", "fima:tv")  # VARIANTS[:PRIOR]
CHILD = """
import gc, json, sys, torch
import torch.nn.functional as F
torch.set_num_threads(1)
from core.algorithm import iterate
from core.io import load_image, resources_dir
from core.memory import estimate_run_bytes
from core.tasks import build_task
size, variants, prior, iters = int(sys.argv[1]), sys.argv[2].split(","), sys.argv[3], int(sys.argv[4])
image = load_image(resources_dir() / "samples" / "house.png", grayscale=True)
image = F.interpolate(image, size=(size, size), mode="bilinear")  # load_image gives (1, C, H, W)
options = {"prior": prior} if prior != "-" else {}
setup = build_task("deblur", image, device="cpu", seed=0, **options)
runs = [iterate(setup.problem, setup.module, setup.parameters, v, iters, compute_metrics=False,
                propose="always") for v in variants]
def kib(field):
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith(field + ":"))
gc.collect()
open("/proc/self/clear_refs", "w").write("5")  # the peak (VmHWM) starts again from here
before = kib("VmRSS") * 1024
for _ in zip(*runs):
    pass
grown = kib("VmHWM") * 1024 - before
shape = tuple(setup.problem.x0.shape)
estimate = estimate_run_bytes(shape, len(variants), setup.settings["module"],
                              setup.problem.prior.memory_buffers)
print(json.dumps({"grown": grown, "estimate": estimate}))
"""


def measure(size: int, variants: str, prior: str | None, iters: int) -> dict:
    """Peak growth and estimate (bytes) of one case, measured in a fresh process."""
    argv = [sys.executable, "-c", CHILD, str(size), variants, prior or "-", str(iters)]
    proc = subprocess.run(argv, capture_output=True, text=True, cwd=ROOT, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    """Print measured peak growth, estimate and their ratio per case."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[512, 1024])
    parser.add_argument("--iters", type=int, default=6)
    parser.add_argument("--cases", nargs="+", default=list(CASES), help="VARIANTS[:PRIOR] each")
    parser.add_argument("--json", action="store_true", help="one JSON object per case")
    args = parser.parse_args()
    mib = 2**20
    if not args.json:
        print(
            f"{'size':>5} {'variants':>8} {'prior':>16} {'grown MiB':>10} {'estimate MiB':>13} ratio"
        )
    for size in args.sizes:
        for case in args.cases:
            variants, _, prior = case.partition(":")
            r = measure(size, variants, prior or None, args.iters)
            if args.json:
                print(json.dumps({"size": size, "case": case, **r}), flush=True)
                continue
            print(
                f"{size:>5} {variants:>8} {prior or 'default (gs)':>16} {r['grown'] / mib:>10.0f} "
                f"{r['estimate'] / mib:>13.0f} {r['estimate'] / r['grown']:>6.2f}",
                flush=True,
            )


if __name__ == "__main__":
    main()
