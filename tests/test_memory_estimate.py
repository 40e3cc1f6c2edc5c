"""The memory check's estimate counts what the learned priors keep alive, and covers a real run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import core.memory
from core.learned_prior import GRAPH_BUFFERS, GradientStepPrior
from core.learned_prox_prior import PROX_GRAPH_BUFFERS, ProximalGradientStepPrior
from core.priors import TotalVariation
from core.tasks import build_task

ROOT = Path(__file__).resolve().parents[1]

# A fresh process: build the default deblurring task (learned prior, CNN module) on a 320² image,
# then run fima and pg in lockstep as the window does, proposing at every iteration; print the
# peak resident growth during the run and the estimate the memory check makes for it.
MEASURE = """
import gc, json, sys, torch
import torch.nn.functional as F
torch.set_num_threads(1)
from core.algorithm import iterate
from core.io import load_image, resources_dir
from core.memory import estimate_run_bytes
from core.tasks import build_task
image = load_image(resources_dir() / "samples" / "house.png", grayscale=True)
image = F.interpolate(image if image.dim() == 4 else image[None], size=(320, 320), mode="bilinear")
setup = build_task("deblur", image, device="cpu", seed=0)
runs = [iterate(setup.problem, setup.module, setup.parameters, v, 4, compute_metrics=False,
                propose="always") for v in ("fima", "pg")]
def kib(field):
    return next(int(l.split()[1]) for l in open("/proc/self/status") if l.startswith(field + ":"))
gc.collect()
open("/proc/self/clear_refs", "w").write("5")  # the peak (VmHWM) starts again from here
before = kib("VmRSS") * 1024
for _ in zip(*runs):
    pass
grown = kib("VmHWM") * 1024 - before
estimate = estimate_run_bytes(tuple(setup.problem.x0.shape), 2, setup.settings["module"],
                              setup.problem.prior.memory_buffers)
print(json.dumps({"grown": grown, "estimate": estimate}))
"""


def test_priors_declare_the_buffers_their_graphs_keep():
    assert TotalVariation(0.1).memory_buffers == 0
    assert GradientStepPrior(1.0).memory_buffers == GRAPH_BUFFERS
    assert GradientStepPrior(1.0, symmetries=4).memory_buffers == 4 * GRAPH_BUFFERS
    assert ProximalGradientStepPrior(symmetries=2).memory_buffers == 2 * PROX_GRAPH_BUFFERS


def test_a_learned_prior_run_is_estimated_larger_and_refused_sooner(monkeypatch):
    image = torch.rand(1, 1, 64, 64, generator=torch.Generator().manual_seed(0))
    learned = build_task("deblur", image, device="cpu", seed=0, module="tv")
    classical = build_task("deblur", image, device="cpu", seed=0, module="tv", prior="tv")
    shape = tuple(learned.problem.x0.shape)
    small = core.memory.estimate_run_bytes(shape, 2, "tv")
    large = core.memory.estimate_run_bytes(shape, 2, "tv", learned.problem.prior.memory_buffers)
    assert large > 10 * small
    monkeypatch.setattr(core.memory, "available_bytes", lambda: int(2 * small / 0.9))
    assert core.memory.memory_shortfall(classical, 2) is None
    shortfall = core.memory.memory_shortfall(learned, 2)
    assert shortfall is not None and shortfall.needed == large and shortfall.suggested >= 2


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/clear_refs").exists(), reason="needs Linux's /proc")
def test_the_estimate_covers_a_real_run_with_the_learned_prior():
    """Measured in a fresh process: the peak growth stays under the estimate, which is not
    wildly generous either (within 3× — before the prior's buffers were counted it was 6× under)."""
    proc = subprocess.run(
        [sys.executable, "-c", MEASURE], capture_output=True, text=True, cwd=ROOT, timeout=600
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    numbers = json.loads(proc.stdout.strip().splitlines()[-1])
    grown, estimate = numbers["grown"], numbers["estimate"]
    assert 0 < grown <= estimate <= 3 * grown, numbers
