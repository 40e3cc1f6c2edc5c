"""The speed check: seconds per lockstep iteration, measured on a downscaled copy and scaled up,
and the downscale it advises when a run would not be interactive."""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import replace
from types import SimpleNamespace

import pytest
import torch

import core.speed as speed
from core.algorithm import VARIANTS, iterate
from core.memory import MAX_DOWNSCALE
from core.speed import (
    TARGET_SECONDS,
    SlowRun,
    measure_iteration_seconds,
    rebuild,
    slow_run,
    slow_run_text,
    suggest_factor,
)
from core.tasks import build_task, task_names


@pytest.fixture
def one_thread():
    """Timings on one torch thread (steadier on a shared machine); the count is restored after."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _side(setup) -> int:
    return int(setup.problem.x0.shape[-1])


@pytest.mark.parametrize("task", task_names())
def test_the_estimate_is_positive_and_finite_for_every_task_and_variant(task, one_thread):
    setup = build_task(task, downscale=4)  # the 256² sample at 64²: quick
    seconds = measure_iteration_seconds(setup, VARIANTS)
    assert 0 < seconds < math.inf
    labelled = measure_iteration_seconds(setup, ["fima · C=0.3", "pg"])
    assert 0 < labelled < math.inf


def test_no_variant_costs_nothing():
    assert measure_iteration_seconds(build_task("smooth", downscale=4), []) == 0.0


def _fake_timing(monkeypatch, cost):
    """Replace the timing of one variant by ``cost(pixels, variant)``; returns the calls seen."""
    seen: list[tuple[int, str, int]] = []

    def timed(setup, variant, _parameters, k):
        pixels = setup.problem.x0.shape[-2] * setup.problem.x0.shape[-1]
        seen.append((pixels, variant, k))
        return cost(pixels, variant)

    monkeypatch.setattr(speed, "_step_seconds", timed)
    return seen


def test_runs_of_one_variant_each_count_once_in_the_lockstep(monkeypatch):
    seen = _fake_timing(monkeypatch, lambda _pixels, variant: {"fima": 0.2, "pg": 0.05}[variant])
    setup = build_task("smooth", downscale=4)
    labels = ["fima", "fima · C=0.3", "pg"]
    assert measure_iteration_seconds(setup, labels) == pytest.approx(2 * 0.2 + 0.05)
    assert sorted(v for _, v, _ in seen) == ["fima", "pg"]  # each variant timed once
    assert all(k == 1 for _, _, k in seen)  # iteration 1: the first one includes the warm-up


def test_a_large_problem_is_timed_on_a_copy_of_about_128_squared_and_scaled_up(monkeypatch):
    monkeypatch.setattr(speed, "BUDGET_SECONDS", -1.0)  # one copy only
    seen = _fake_timing(monkeypatch, lambda pixels, _variant: 1e-5 * pixels)
    setup = build_task("deblur", module="tv", prior="tv")  # 256² sample
    assert measure_iteration_seconds(setup, ["pg"]) == pytest.approx(1e-5 * 256 * 256)
    assert [p for p, _, _ in seen] == [128 * 128]


def test_a_fixed_cost_per_iteration_is_not_scaled_up_when_a_larger_copy_is_cheap(monkeypatch):
    """A GPU-like cost, 3 s + 1e-5 s a pixel: one copy scaled by pixels says far more; two fit it."""
    seen = _fake_timing(monkeypatch, lambda pixels, _variant: 3.0 + 1e-5 * pixels)
    setup = build_task("deblur", module="tv", prior="tv")
    assert measure_iteration_seconds(setup, ["pg"]) == pytest.approx(3.0 + 1e-5 * 256 * 256)
    assert [p for p, _, _ in seen] == [128 * 128, 256 * 256]


def test_a_copy_is_built_from_the_same_settings_at_the_asked_factor():
    setup = build_task("derain", downscale=2)
    copy = rebuild(setup, 4)
    assert copy is not None and copy is not setup
    assert tuple(copy.problem.x0.shape) == (1, 3, 64, 64)
    same = {k: v for k, v in setup.settings.items() if k != "downscale"}
    assert {k: v for k, v in copy.settings.items() if k != "downscale"} == same
    assert copy.settings["downscale"] == 4
    assert rebuild(setup, MAX_DOWNSCALE + 1) is None
    assert rebuild(replace(setup, settings={}), 4) is None


def test_a_problem_that_cannot_be_rebuilt_is_timed_itself(monkeypatch, image_file):
    seen = _fake_timing(monkeypatch, lambda _pixels, _variant: 0.5)
    setup = build_task("deblur", str(image_file), module="tv", prior="tv")
    image_file.unlink()  # the file is gone: no copy can be built
    assert measure_iteration_seconds(setup, ["fima"]) == pytest.approx(0.5)
    assert seen == [(64 * 64, "fima", 1)]  # small: iteration 1 of the problem itself


def test_slow_run_is_none_while_an_iteration_takes_at_most_the_target():
    setup = build_task("smooth", downscale=4)
    assert slow_run(setup, ["fima"], seconds=0.4) is None
    assert slow_run(setup, ["fima"], seconds=TARGET_SECONDS) is None
    assert slow_run(setup, ["fima"], seconds=1.01) is not None


def test_slow_run_measures_when_no_estimate_is_given(monkeypatch):
    monkeypatch.setattr(speed, "measure_iteration_seconds", lambda _setup, _variants: 20.0)
    slow = slow_run(build_task("smooth"), ["fima", "pg"])
    assert slow is not None and slow.seconds == 20.0 and slow.suggested == 5


@pytest.mark.parametrize(
    ("seconds", "current", "factor"),
    [(20.0, 1, 5), (16.0, 1, 4), (16.1, 1, 5), (1.5, 1, 2), (20.0, 2, 9), (4.5, 3, 7)],
)
def test_the_advised_factor_is_the_smallest_predicted_interactive(seconds, current, factor):
    assert suggest_factor(seconds, current, 1024 * current) == factor
    assert seconds * (current / factor) ** 2 <= TARGET_SECONDS
    assert seconds * (current / (factor - 1)) ** 2 > TARGET_SECONDS


def test_no_factor_is_advised_that_leaves_too_small_an_image_or_exceeds_the_largest():
    assert suggest_factor(20.0, 1, 256) == 5  # 51 px on the shorter side
    assert suggest_factor(100.0, 1, 256) is None  # ÷ 10: 25 px
    assert suggest_factor(1e6, 1, 10**6) is None  # beyond ÷ 64
    setup = build_task("smooth")  # 256²
    slow = slow_run(setup, ["fima"], seconds=100.0)
    assert slow is not None and slow.suggested is None and not slow.can_downscale()


def test_slow_run_reads_the_factor_now_on_the_original_image():
    setup = build_task("smooth", downscale=2)  # 128² of a 256² image
    slow = slow_run(setup, ["fima"], downscale=2, seconds=8.0)
    assert slow is not None and slow.current == 2 and slow.suggested == 6 and slow.can_downscale()
    assert slow.seconds_at(6) == pytest.approx(8 * (2 / 6) ** 2)
    assert slow_run(setup, ["fima"], downscale=2, seconds=20.0).suggested is None  # ÷ 9: 28 px


def test_the_text_says_how_slow_on_what_image_and_where():
    colour = slow_run(build_task("derain"), ["fima", "pg"], seconds=21.0)
    assert slow_run_text(colour) == (
        "About 21 s per iteration of the 2 runs (0.048 it/s) on this 256×256 colour image, "
        "on the CPU"
    )
    lowlight = slow_run(build_task("lowlight"), ["fima"], seconds=1.6)  # x: 1 channel, shown: 3
    assert "About 1.6 s per iteration (0.62 it/s)" in slow_run_text(lowlight)
    assert "256×256 colour image" in slow_run_text(lowlight)
    gray = SlowRun(3.0, 2, 4, height=100, width=150, channels=1)
    assert "on this 150×100 grayscale image (÷ 2)" in slow_run_text(gray)


def _direct_seconds(setup, variants) -> float:
    """One lockstep iteration timed directly: iteration 1 of each variant on the problem itself."""
    total = 0.0
    for variant in variants:
        steps = iterate(setup.problem, setup.module, setup.parameters, variant, max_iter=2)
        next(steps)
        start = time.perf_counter()
        next(steps)
        total += time.perf_counter() - start
    return total


@pytest.mark.slow
def test_the_estimate_from_a_downscaled_copy_is_within_3x_of_a_timed_iteration(
    monkeypatch, one_thread
):
    """The learned deblurring prior at 256², estimated from a 128² copy (medians of 3)."""
    monkeypatch.setattr(speed, "BUDGET_SECONDS", -1.0)  # the copy only, never the problem itself
    timed = speed._step_seconds
    sides: set[tuple[int, ...]] = set()

    def spy(setup, *args):
        sides.add(tuple(setup.problem.x0.shape[-2:]))
        return timed(setup, *args)

    monkeypatch.setattr(speed, "_step_seconds", spy)
    setup = build_task("deblur")  # 256² sample, learned prior and CNN module
    assert _side(setup) == 256
    variants = ["fima", "pg"]
    estimates = [measure_iteration_seconds(setup, variants) for _ in range(3)]
    assert sides == {(128, 128)}  # timed on the copy alone
    direct = [_direct_seconds(setup, variants) for _ in range(3)]
    estimate, measured = statistics.median(estimates), statistics.median(direct)
    assert 1 / 3 <= estimate / measured <= 3, (estimates, direct)


def test_an_iteration_is_timed_twice_and_the_lesser_counts(monkeypatch):
    """A hiccup in one timed iteration (here iteration 1: 0.9 s against 0.1 s) is not scaled up."""
    clock = [0.0]
    costs = {0: 5.0, 1: 0.9, 2: 0.1}  # iteration 0 warms up

    def steps(*_args, **_kwargs):
        for k in range(3):
            clock[0] += costs[k]
            yield k

    monkeypatch.setattr(speed, "iterate", steps)
    monkeypatch.setattr(speed, "time", SimpleNamespace(perf_counter=lambda: clock[0]))
    setup = build_task("smooth", downscale=4)
    assert speed._step_seconds(setup, "pg", setup.parameters, 1) == pytest.approx(0.1)
    costs.update({1: 0.1, 2: 0.9})
    assert speed._step_seconds(setup, "pg", setup.parameters, 1) == pytest.approx(0.1)
    assert speed._step_seconds(setup, "pg", setup.parameters, 0) == pytest.approx(5.0)  # warm-up
