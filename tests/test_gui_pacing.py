"""Refresh pacing: frames at a steady FRAME_RATE (slower only past a CPU budget), plot draws at
most 30 a second within their own budget."""

from __future__ import annotations

import pytest

import gui.refresh_budget as budget_module
from gui.refresh_budget import DrawPacing, RefreshBudget
from gui.views.status import RateMeter


class FakeCpu:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def cpu(monkeypatch):
    clock = FakeCpu()
    monkeypatch.setattr(budget_module.time, "thread_time", clock)
    return clock


def test_cheap_frames_run_at_the_frame_rate(cpu):
    budget = RefreshBudget(fraction=0.05)
    for _ in range(5):
        budget.begin()
        cpu.now += 0.0001  # 0.1 ms a cycle
    budget.begin()
    assert budget.interval_s() == pytest.approx(1 / budget_module.FRAME_RATE)
    assert budget_module.FRAME_RATE >= 20


def test_expensive_frames_are_spaced_to_the_budget(cpu):
    budget = RefreshBudget(fraction=0.05)
    for _ in range(60):
        budget.begin()
        cpu.now += 0.010  # 10 ms a cycle → 200 ms apart at 5 %
    budget.begin()
    assert budget.interval_s() == pytest.approx(0.2, rel=1e-3)
    for _ in range(60):
        cpu.now += 5.0  # something enormous: capped at one refresh a second
        budget.begin()
    assert budget.interval_s() == 1.0
    budget.reset()
    assert budget.interval_s() == pytest.approx(1 / budget_module.FRAME_RATE)


def test_the_plots_own_cpu_is_not_charged_to_frames(cpu):
    plots = FakeCpu()
    budget = RefreshBudget(fraction=0.05, excluded=plots)
    for _ in range(60):
        budget.begin()
        cpu.now += 0.050  # 50 ms a cycle, of which the plots took 49.9
        plots.now += 0.0499
    budget.begin()
    assert budget.interval_s() == pytest.approx(1 / budget_module.FRAME_RATE)


def test_work_paced_apart_is_not_charged_to_frames(cpu):
    budget = RefreshBudget(fraction=0.05)
    for _ in range(60):
        budget.begin()
        cpu.now += 0.001
        with budget.paced_apart():  # the certificate, throttled by its own cost
            cpu.now += 0.050
    budget.begin()
    assert budget.interval_s() == pytest.approx(1 / budget_module.FRAME_RATE)


def test_one_costly_frame_barely_moves_the_pace(cpu):
    budget = RefreshBudget(fraction=0.05)
    for _ in range(30):
        budget.begin()
        cpu.now += 0.001
    cpu.now += 0.020  # the certificate recomputed once
    budget.begin()
    assert budget.interval_s() < 0.1


def test_frames_are_spaced_from_start_to_start(cpu, monkeypatch):
    wall = FakeCpu()
    monkeypatch.setattr(budget_module.time, "perf_counter", wall)
    budget = RefreshBudget(fraction=0.05)
    budget.begin()
    wall.now += 0.015  # the frame itself took 15 ms
    budget.end()
    assert budget.delay_ms() == round(1000 / budget_module.FRAME_RATE) - 15
    wall.now += 1.0
    assert budget.delay_ms() == 0  # late: at once, never a backlog


def test_plot_draws_at_most_thirty_a_second_within_their_budget():
    pacing = DrawPacing(fraction=0.05)
    pacing.drawing(0.0, now=0.0)
    assert pacing.due_in_s(now=0.01) == pytest.approx(1 / 30 - 0.01)
    now = 0.0
    for _ in range(60):
        now += 1.0
        pacing.drawing(0.010, now=now)  # 10 ms a draw → 200 ms apart at 5 %
    assert pacing.interval_s() == pytest.approx(0.2, rel=1e-3)
    assert pacing.due_in_s(now=now + 0.1) == pytest.approx(0.1, rel=1e-2)
    pacing.drawing(10.0, now=now + 1)  # one enormous draw: capped
    assert pacing.interval_s() <= budget_module.MAX_DRAW_INTERVAL_S
    pacing.reset()
    assert pacing.due_in_s() == 0.0


def test_rate_meter():
    meter = RateMeter(window_s=2.0)
    assert meter.add(0, now=0.0) == 0.0
    assert meter.add(10, now=1.0) == pytest.approx(10.0)
    assert meter.add(30, now=3.0) == pytest.approx(10.0)  # 10→30 over the last 2 s
