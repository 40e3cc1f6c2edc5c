"""Refresh pacing: the window's refreshes stay within a CPU budget, between 30 Hz and 1 Hz."""

from __future__ import annotations

import pytest

import gui.run.refresh_budget as budget_module
from gui.run.refresh_budget import RefreshBudget
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


def test_cheap_refreshes_run_at_thirty_hertz(cpu):
    budget = RefreshBudget(fraction=0.05)
    for _ in range(5):
        budget.begin()
        cpu.now += 0.0001  # 0.1 ms a cycle
    budget.begin()
    assert budget.interval_s() == pytest.approx(1 / 30)


def test_expensive_refreshes_are_spaced_to_the_budget(cpu):
    budget = RefreshBudget(fraction=0.05)
    for _ in range(20):
        budget.begin()
        cpu.now += 0.010  # 10 ms a cycle → 200 ms apart at 5 %
    budget.begin()
    assert budget.interval_s() == pytest.approx(0.2, rel=1e-3)
    cpu.now += 5.0  # something enormous: capped at one refresh a second
    budget.begin()
    assert budget.interval_s() == 1.0
    budget.reset()
    assert budget.interval_s() == pytest.approx(1 / 30)


def test_rate_meter():
    meter = RateMeter(window_s=2.0)
    assert meter.add(0, now=0.0) == 0.0
    assert meter.add(10, now=1.0) == pytest.approx(10.0)
    assert meter.add(30, now=3.0) == pytest.approx(10.0)  # 10→30 over the last 2 s
