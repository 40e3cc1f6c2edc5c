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

BENCHMARK = ROOT / "benchmarks" / "memory.py"  # each case in a fresh process, peak reset before


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
    argv = [sys.executable, str(BENCHMARK), "--sizes", "320", "--iters", "4"]
    proc = subprocess.run(
        [*argv, "--cases", "fima,pg", "--json"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    numbers = json.loads(proc.stdout.strip().splitlines()[-1])
    grown, estimate = numbers["grown"], numbers["estimate"]
    assert 0 < grown <= estimate <= 3 * grown, numbers
