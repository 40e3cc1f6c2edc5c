"""1,000 random parameter changes, runs, pauses, steps and resets thrown at the running worker
(seeded): no crash, no deadlock, and every applied change is in the trace where it took effect."""

from __future__ import annotations

import random

import imageio.v3 as iio
import numpy as np

from core import ParameterTimeline
from gui.state.problem_spec import ProblemSpec
from gui.views.log_slider import significant
from tests.conftest import GUI_TIMEOUT_MS, synthetic_image

OPERATIONS = 1000
LIVE_CHANGES = 30
RANGES = {"C": (1e-3, 2.0), "mu": (1e-3, 10.0), "gamma": (0.05, 1.5), "lam": (1e-5, 0.1)}


def _check_run(run) -> tuple[int, int]:
    """Every row carries the parameters its timeline says; returns (rows, applied changes)."""
    changes = run.worker.timeline.changes
    total = 0
    for variant in run.variants:
        rows = run.worker.rows(variant)
        replay = ParameterTimeline(run.worker.timeline.initial, changes)
        for row in rows:
            p = replay.at(row["k"])
            assert (row["C"], row["mu"], row["gamma"], row["lam"]) == (p.C, p.mu, p.gamma, p.lam)
        for k, change in changes.items():
            if k < len(rows):
                assert all(rows[k][name] == value for name, value in change.items()), k
        total += len(rows)
    return total, len(changes)


def test_random_storm_of_controls(qtbot, window, tmp_path):
    image = tmp_path / "small.png"
    iio.imwrite(image, np.round(synthetic_image(32) * 255).astype(np.uint8))
    spec = ProblemSpec(
        "deblur", str(image), {"module": "none", "kernel": "gauss:1", "prior": "box"}
    )
    assert window.load_problem(spec)
    window.solver_panel.set_limit(1_000_000)
    rng = random.Random(20240611)
    runs, counts = [], {"change": 0, "run/pause": 0, "step": 0, "pause": 0, "reset": 0, "wait": 0}
    for _ in range(OPERATIONS):
        roll = rng.random()
        if roll < 0.45:
            name = rng.choice(list(RANGES))
            low, high = RANGES[name]
            value = significant(low * (high / low) ** rng.random())
            window.parameter_panel.spin(name).setValue(value)
            counts["change"] += 1
        elif roll < 0.57:
            window.runner.toggle_run()
            counts["run/pause"] += 1
        elif roll < 0.67:
            window.runner.step_run()
            counts["step"] += 1
        elif roll < 0.73:
            window.runner.pause_run()
            counts["pause"] += 1
        elif roll < 0.75:
            window.runner.reset_run()
            counts["reset"] += 1
        else:
            qtbot.wait(rng.randint(0, 10))
            counts["wait"] += 1
        if window.runner.run is not None and (not runs or runs[-1] is not window.runner.run):
            runs.append(window.runner.run)
    assert window.last_error is None
    # then changes at a worker that is certainly running, one new iteration between each
    if window.runner.run is None or window.runner.run.has_ended():
        window.runner.start_run()
    elif not window.runner.run.is_running():
        window.runner.toggle_run()
    live = window.runner.run
    if runs[-1] is not live:
        runs.append(live)
    for index in range(LIVE_CHANGES):
        seen = live.worker.row_count("pg")
        window.parameter_panel.spin("C").setValue(0.01 * (index + 1))
        qtbot.waitUntil(lambda s=seen: live.worker.row_count("pg") >= s + 2, timeout=GUI_TIMEOUT_MS)
    window.runner.pause_run()
    qtbot.waitUntil(live.worker.is_idle, timeout=GUI_TIMEOUT_MS)
    window.runner.refresh_now()
    for variant in live.variants:
        assert window.runner.history.count(variant) == live.worker.row_count(variant)
    for run in runs:
        if run is not live:
            assert run.join(30), "a stopped run never ended"
    totals = [_check_run(run) for run in runs]
    rows, applied = sum(t[0] for t in totals), sum(t[1] for t in totals)
    assert counts["reset"] > 10 and len(runs) > 10, counts
    assert rows > 2 * LIVE_CHANGES and applied >= LIVE_CHANGES, (rows, applied, counts)
    assert _check_run(live)[1] >= LIVE_CHANGES
