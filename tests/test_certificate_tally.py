"""The certificate counted row by row: the same verdicts as reading the whole trace, at the cost
of the new rows only (the explorer re-certifies a long run while it runs)."""

from __future__ import annotations

import math
import random

import pytest

from core.certificate import CertificateTally, TrendTally, certificate
from gui.state.run_history import RunHistory
from gui.views.certificate_panel import CertificatePanel


def random_trace(seed: int, n: int, variant: str = "fima") -> list[dict]:
    """Rows with violations, increases, ∞ and NaN objectives, skips and rejections mixed in."""
    rng = random.Random(seed)
    psi, rows = 10.0, []
    for k in range(n):
        roll = rng.random()
        psi = psi * (1.0 + 0.01 * rng.random()) if roll < 0.05 else psi * rng.uniform(0.9, 1.0)
        objective = math.inf if roll > 0.98 else (math.nan if roll > 0.975 else psi)
        rows.append(
            {
                "k": k,
                "objective": objective,
                "conditions_hold": rng.random() > 0.05,
                "diverged": roll > 0.999,
                "accepted": rng.random() > 0.4,
                "skipped": rng.random() > 0.8,
                "step": rng.choice([10 ** rng.uniform(-6, 0), math.nan, 0.0]),
                "residual": 10 ** rng.uniform(-5, 1),
                "C": 0.01,
                "mu": 0.05,
                "gamma": 0.5,
            }
        )
    return rows


def fields(cert) -> dict:
    """A certificate's fields, NaN made comparable."""
    out = dict(vars(cert))
    rate = out.pop("acceptance_rate")
    out["acceptance_rate"] = "nan" if math.isnan(rate) else round(rate, 12)
    return out


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("variant", ["fima", "pg", "naive", "fima · C=0.3"])
def test_counting_in_chunks_gives_the_certificate_of_the_whole_trace(seed, variant):
    rows = random_trace(seed, 300)
    rng = random.Random(seed + 100)
    tally, start = CertificateTally(variant), 0
    while start < len(rows):
        stop = start + rng.randint(0, 40)
        tally.extend(rows[start:stop])
        start = stop
        assert fields(tally.certificate()) == fields(certificate(variant, rows[:start]))


def test_the_trend_compares_the_later_half_with_the_earlier():
    trend = TrendTally()
    for value in (1.0, 1e-1, math.nan, -1.0, 1e-3, 1e-4):  # logs 0, −1 | −3, −4
        trend.add(value)
    assert trend.describe() == "shrinking (about 3.0 decades over the run, latest 1.00e-04)"
    few = TrendTally()
    for value in (1.0, 2.0, 3.0):
        few.add(value)
    assert few.describe() == "too few iterations to tell"


def test_the_panel_counts_only_the_new_rows(qtbot, monkeypatch):
    panel = CertificatePanel()
    qtbot.addWidget(panel)
    rows = random_trace(7, 1000)
    history = RunHistory()
    history.extend("fima", rows[:990])
    counted: list[int] = []
    original = CertificateTally.extend

    def counting(self, new):
        counted.append(len(new))
        return original(self, new)

    monkeypatch.setattr(CertificateTally, "extend", counting)
    panel.update_from(history, ["fima"], force=True)
    history.extend("fima", rows[990:])
    panel.update_from(history, ["fima"], force=True)
    assert counted == [990, 10]
    assert fields(panel.certificates["fima"]) == fields(certificate("fima", rows))


def test_a_new_trace_is_counted_afresh(qtbot):
    panel = CertificatePanel()
    qtbot.addWidget(panel)
    first, second = RunHistory(), RunHistory()
    first.extend("pg", random_trace(1, 50, "pg"))
    panel.update_from(first, ["pg"], force=True)
    second.extend("pg", [{**row, "conditions_hold": True} for row in random_trace(2, 20, "pg")])
    panel.update_from(second, ["pg"], force=True)
    assert panel.certificates["pg"].iterations == 20
    assert fields(panel.certificates["pg"]) == fields(certificate("pg", second.rows("pg")))
    assert "held at all 20 iterations" in panel.text()


def test_a_throttled_update_is_made_up_for_only_once_its_spacing_passed(qtbot, monkeypatch):
    from gui.views import certificate_panel as module

    panel = CertificatePanel()
    qtbot.addWidget(panel)
    history = RunHistory()
    history.extend("fima", random_trace(3, 100))
    clock = [100.0]
    monkeypatch.setattr(module.time, "perf_counter", lambda: clock[0])
    panel.update_from(history, ["fima"], force=True)
    assert panel.catch_up_ms() == module.CATCH_UP_MS  # a cheap update: the usual delay
    panel._cost = 0.1  # an update that took 100 ms: the throttle spaces them COST_FACTOR × apart
    spacing_ms = 1000 * module.COST_FACTOR * 0.1
    assert spacing_ms - 1000 > module.CATCH_UP_MS
    clock[0] += 1.0
    assert not panel.update_from(history, ["fima"])  # throttled …
    assert panel.catch_up_ms() == pytest.approx(spacing_ms - 1000, abs=1)  # … made up for later
    clock[0] += spacing_ms / 1000
    assert panel.update_from(history, ["fima"])
