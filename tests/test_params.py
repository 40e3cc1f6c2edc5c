"""Parameter validation, σ schedule, conditions, and the thread-safe timeline."""

import math
import threading

import pytest

from core.params import Parameters, ParameterTimeline


@pytest.mark.parametrize(
    "bad",
    [
        {"C": 0.0},
        {"mu": -1.0},
        {"gamma": math.nan},
        {"gamma": math.inf},
        {"C": 1e300},
        {"lam": -0.1},
        {"rho": 0.0},
        {"sigma_steps": 2.5},
        {"C": "0.4"},
        {"mu": True},
    ],
)
def test_bad_values_are_refused(bad):
    with pytest.raises(ValueError):
        Parameters().with_changes(**bad)


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="unknown parameter"):
        Parameters().with_changes(alpha=1.0)


def test_sigma_schedule_is_geometric_then_constant():
    p = Parameters(sigma_start=0.2, sigma_end=0.01, sigma_steps=30)
    sig = [p.sigma_at(k) for k in range(40)]
    assert sig[0] == pytest.approx(0.2)
    assert sig[29] == pytest.approx(0.01) and sig[39] == pytest.approx(0.01)
    ratios = [b / a for a, b in zip(sig[:29], sig[1:29], strict=False)]
    assert max(ratios) == pytest.approx(min(ratios), rel=1e-9) and ratios[0] < 1
    assert Parameters(sigma_end=0.03, sigma_steps=0).sigma_at(5) == 0.03


def test_conditions():
    p = Parameters(C=0.4, mu=1.0, gamma=0.9)
    assert p.conditions_hold(1.0)
    assert p.conditions(1.2) == {"2C<mu": True, "gamma<1/L": False}
    assert Parameters(C=0.5, mu=1.0).conditions(1.0)["2C<mu"] is False


def test_timeline_applies_pending_at_the_next_boundary():
    t = ParameterTimeline(Parameters())
    assert t.at(0).C == 0.4
    t.submit(C=0.1)
    assert t.pending == {"C": 0.1}
    assert t.at(1).C == 0.1
    assert t.at(0).C == 0.4  # history is replayable
    assert t.changes == {1: {"C": 0.1}}


def test_timeline_refuses_bad_submissions_without_losing_state():
    t = ParameterTimeline(Parameters())
    t.submit(mu=2.0)
    with pytest.raises(ValueError):
        t.submit(gamma=-1.0)
    assert t.pending == {"mu": 2.0}


def test_timeline_is_thread_safe():
    t = ParameterTimeline(Parameters())
    errors = []

    def writer(i):
        try:
            for j in range(200):
                t.submit(C=0.1 + 0.001 * ((i * 200 + j) % 100))
        except Exception as exc:  # pragma: no cover - the assertion reports it
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for th in threads:
        th.start()
    for k in range(300):
        t.at(k)
    for th in threads:
        th.join()
    t.at(300)
    assert not errors
    assert t.pending == {}
    assert all(0.1 <= t.at(k).C <= 0.2 for k in range(301))
