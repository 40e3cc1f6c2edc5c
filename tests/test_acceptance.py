"""The acceptance rate has ONE definition — accepted ÷ proposals made, skipped proposals counted
apart, none for pg — computed in one place (core.acceptance) and used by the certificate, the
summary line, the study cells and the explorer's running rate (issue 30)."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest

from core.acceptance import acceptance_rate, running_acceptance_rate, trace_acceptance_rate
from core.certificate import certificate
from core.study.cells import summarise
from core.summary import variant_summary
from core.trace import Iteration
from gui.state.run_history import RunHistory

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("core", "gui", "benchmarks", "tools")
DIVIDERS = {"divide", "true_divide", "mean", "average", "fmean"}  # a rate without a "/"

# fima, 8 iterations: 3 accepted, 2 skipped (no proposal made), 3 rejected → 3 of 6 made
ACCEPTED = [1, 0, 0, 0, 1, 0, 0, 1]
SKIPPED = [0, 0, 0, 1, 0, 1, 0, 0]


def _rows(variant: str = "fima") -> list[dict]:
    return [
        {"k": k, "variant": variant, "objective": 1.0, "accepted": bool(a), "skipped": bool(s)}
        for k, (a, s) in enumerate(zip(ACCEPTED, SKIPPED, strict=True))
    ]


def _mentions_acceptance(node: ast.AST) -> bool:
    for sub in ast.walk(node):
        if isinstance(sub, ast.Name):
            text = sub.id
        elif isinstance(sub, ast.Attribute):
            text = sub.attr
        elif isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            text = sub.value
        else:
            continue
        if "accept" in text.lower():
            return True
    return False


def _called(func: ast.expr) -> str:
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", "")


def acceptance_computations() -> list[str]:
    """``path:line`` of every division (or mean) of something about acceptance, in the sources."""
    places = []
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                divides = isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div)
                if divides and _mentions_acceptance(node.left):
                    places.append(f"{path.relative_to(ROOT)}:{node.lineno}")
                elif isinstance(node, ast.Call) and _called(node.func) in DIVIDERS:
                    if any(_mentions_acceptance(arg) for arg in node.args):
                        places.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return places


def test_the_acceptance_rate_is_computed_in_one_place():
    places = acceptance_computations()
    assert len(places) == 1 and places[0].startswith("core/acceptance.py:"), places


def test_the_counter_finds_the_old_ways_of_computing_it(tmp_path, monkeypatch):
    """The four places issue 30 found, as they were: each is counted."""
    (tmp_path / "core").mkdir()
    (tmp_path / "core" / "old.py").write_text(
        "def a(rows, records, accepted, proposed):\n"
        "    x = sum(bool(r.get('accepted')) for r in rows) / len(rows)\n"
        "    y = 100.0 * sum(bool(r.accepted) for r in records) / len(records)\n"
        "    z = accepted / proposed\n"
        "    w = np.cumsum(accepted) / np.arange(1, accepted.size + 1)\n"
        "    v = np.mean([r.accepted for r in records])\n"
        "    return x, y, z, w, v, len(accepted) / 2 if False else 0\n"
    )
    monkeypatch.setattr(f"{__name__}.ROOT", tmp_path)
    assert len(acceptance_computations()) == 6


def test_accepted_over_proposals_made():
    assert acceptance_rate(3, 8, 2) == 0.5
    assert acceptance_rate(0, 4, 0) == 0.0
    assert math.isnan(acceptance_rate(0, 3, 3))  # every proposal skipped: none made
    assert math.isnan(acceptance_rate(0, 0))
    running = acceptance_rate(np.array([1, 1, 2]), np.array([1, 2, 3]), np.array([0, 1, 1]))
    np.testing.assert_allclose(running, [1.0, 1.0, 1.0])


def test_every_reader_of_a_trace_gives_the_same_rate():
    rows = _rows()
    expected = 3 / 6
    assert trace_acceptance_rate("fima", rows) == expected
    assert certificate("fima", rows).acceptance_rate == expected
    assert summarise(rows, 2.0, 1.0)["accept_rate"] == expected
    history = RunHistory()
    history.extend("fima", rows)
    assert history.acceptance_rate("fima")[-1] == pytest.approx(expected)
    numbers = dict.fromkeys(
        ("objective", "f", "g", "step", "C", "mu", "gamma", "lam", "sigma"), 1.0
    )
    fixed = {"variant": "fima", "x": None, "conditions_hold": True, "seconds": 0.0, **numbers}
    records = [
        Iteration(k=r["k"], accepted=r["accepted"], skipped=r["skipped"], **fixed) for r in rows
    ]
    assert trace_acceptance_rate("fima", records) == expected
    assert "accepted 50 %" in variant_summary("fima", records)


def test_the_running_rate_leaves_skipped_iterations_out():
    rate = running_acceptance_rate("fima", ACCEPTED, SKIPPED)
    made = np.cumsum(1 - np.array(SKIPPED))
    np.testing.assert_allclose(rate, np.cumsum(ACCEPTED) / made)
    assert math.isnan(running_acceptance_rate("fima", [0], [1])[0])
    assert running_acceptance_rate("fima", [], []).size == 0


def test_pg_makes_no_proposal_so_it_has_no_rate():
    rows = _rows("pg")
    for row in rows:
        row["accepted"] = False
    assert math.isnan(trace_acceptance_rate("pg", rows))
    assert math.isnan(certificate("pg", rows).acceptance_rate)
    assert summarise(rows, 2.0, 1.0)["accept_rate"] is None
    history = RunHistory()
    history.extend("pg", rows)
    assert np.isnan(history.acceptance_rate("pg")).all()
    unchecked = [
        {**row, "variant": "unchecked", "accepted": True, "skipped": False} for row in rows
    ]
    assert summarise(unchecked, 2.0, 1.0)["accept_rate"] == 1.0
