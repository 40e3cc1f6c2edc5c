"""Hostile modules in the explorer: NaN, Inf, wrong shape, raising, random (Python and TorchScript)
— FIMA keeps Ψ non-increasing with finite iterates, the unsafe variants are stopped and marked
diverged; and a module that blocks never freezes the window (Pause and Reset answer at once)."""

from __future__ import annotations

import itertools
import math
import threading

import numpy as np
import pytest
import torch

from core.modules.base import Module
from tests.conftest import GUI_TIMEOUT_MS, run_to_limit
from tests.helpers import Hostile

ITERATIONS = 4


EXPECTED = {
    "nan": "non-finite proposal",
    "inf": "non-finite proposal",
    "shape": "module returned shape (1, 1, 63, 64)",
    "raise": "module error: RuntimeError: the network exploded",
    "random": None,
}


def _check_fima_is_safe(window) -> list[dict]:
    rows = window.runner.history.rows("fima")
    assert len(rows) == ITERATIONS
    objective = [r["objective"] for r in rows]
    assert all(math.isfinite(v) for v in objective)
    assert all(b <= a * (1 + 1e-6) for a, b in itertools.pairwise(objective))
    assert np.isfinite(window.files.result_image()).all()
    assert not any(r["diverged"] for r in rows)
    return rows


@pytest.mark.parametrize("behaviour", list(EXPECTED))
def test_hostile_module(qtbot, loaded, dialogs, behaviour):
    window = loaded
    window.setup.module = Hostile(behaviour)
    window.solver_panel.set_variants(["fima", "unchecked", "naive"])
    window.solver_panel.set_proposal_policy("always")  # every iteration's proposal is judged
    run_to_limit(qtbot, window, ITERATIONS)
    rows = _check_fima_is_safe(window)
    window.plots.flush()
    window.runner.update_certificate()
    if EXPECTED[behaviour] is None:  # random values: mostly rejected, never unsafe
        assert window.runner.history.reject_reasons("fima")
        return
    assert all(
        not r["accepted"] and r["reject_reason"].startswith(EXPECTED[behaviour]) for r in rows
    )
    for variant in ("unchecked", "naive"):
        last = window.runner.history.last(variant)
        assert last["diverged"] and last["k"] == 0
        assert "diverged at k = 0" in window.plots.legend_text(variant)
    assert window.plots.diverged() == {"unchecked": 0, "naive": 0}
    text = window.certificate_panel.text()
    said = {
        "nan": "not finite",
        "inf": "not finite",
        "shape": "wrong shape",
        "raise": "module failed",
    }
    assert "diverged — stopped" in text and said[behaviour] in text  # in words (defect B7)
    assert dialogs == []  # nothing crashed, nothing to report but the marks


@pytest.mark.parametrize("behaviour", ["nan", "raise", "random"])
def test_hostile_module_under_the_adaptive_policy(qtbot, loaded, dialogs, behaviour):
    window = loaded
    window.setup.module = Hostile(behaviour)
    window.solver_panel.set_variants(["fima"])
    window.solver_panel.set_proposal_policy("adaptive")
    run_to_limit(qtbot, window, ITERATIONS)
    rows = _check_fima_is_safe(window)
    skipped = [r for r in rows if r["skipped"]]
    assert skipped and not any(r["accepted"] for r in rows)
    assert all(r["reject_reason"] == "skipped" for r in skipped)
    window.runner.update_certificate()
    assert "skipped the module" in window.certificate_panel.text()
    assert dialogs == []


def test_torchscript_module_returning_nan(qtbot, loaded, tmp_path):
    class NaNNet(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x * float("nan")

    path = tmp_path / "nan_net.pt"
    torch.jit.save(torch.jit.script(NaNNet()), str(path))
    window = loaded
    assert window.set_module(str(path)), window.last_error
    window.solver_panel.set_variants(["fima", "naive"])
    window.solver_panel.set_proposal_policy("always")  # every iteration's proposal is judged
    run_to_limit(qtbot, window, ITERATIONS)
    rows = _check_fima_is_safe(window)
    assert {r["reject_reason"] for r in rows} == {"non-finite proposal"}
    assert window.runner.history.diverged_at("naive") == 0
    assert window.status.diverged.text() == "✕ diverged: naive at k = 0"


class Blocking(Module):
    """A module whose every call waits until the test lets it through (a very slow network)."""

    name = "blocking"

    def __init__(self) -> None:
        self.entered = 0
        self.permits = threading.Semaphore(0)

    def __call__(self, x, k, params, problem):
        """Wait for a permit, then return x."""
        self.entered += 1
        if not self.permits.acquire(timeout=60):
            raise TimeoutError("the test never let this call through")
        return x.clone()


def test_a_slow_module_never_blocks_pause_or_reset(qtbot, loaded):
    window = loaded
    module = Blocking()
    window.setup.module = module
    window.solver_panel.set_limit(10_000)
    try:
        window.runner.start_run()
        qtbot.waitUntil(lambda: module.entered == 1, timeout=GUI_TIMEOUT_MS)
        window.runner.pause_run()  # returns while the module is stuck in its call
        assert window.runner.run_state() == "paused" and window.status.state.text() == "Paused"
        worker = window.runner.run.worker
        module.permits.release()
        qtbot.waitUntil(worker.is_idle, timeout=GUI_TIMEOUT_MS)
        qtbot.wait(100)
        # paused within the pass: iteration 0 abandoned after the module call, nothing published
        assert module.entered == 1 and worker.row_count("fima") == 0
        window.runner.step_run()  # computes iteration 0 again
        qtbot.waitUntil(lambda: module.entered == 2, timeout=GUI_TIMEOUT_MS)
        old = window.runner.run
        window.runner.reset_run()  # again while the module is stuck: the window does not wait for it
        assert window.runner.run is None and window.runner.run_state() == "idle"
        assert window.runner.history.total() == 0 and old.is_thread_running()
        window.runner.step_run()  # a new run waits (in its thread) for the old one to finish
        new = window.runner.run
        module.permits.release()
        qtbot.waitUntil(lambda: not old.is_thread_running(), timeout=GUI_TIMEOUT_MS)
        qtbot.waitUntil(lambda: module.entered == 3, timeout=GUI_TIMEOUT_MS)
        module.permits.release()
        qtbot.waitUntil(lambda: new.worker.row_count("fima") == 1, timeout=GUI_TIMEOUT_MS)
        assert [r["k"] for r in new.worker.rows("fima")] == [0]
        assert old.worker.row_count("fima") == 0  # the cancelled iteration was dropped
    finally:
        for _ in range(10):
            module.permits.release()
