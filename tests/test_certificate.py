"""The convergence certificate reads traces correctly."""

import math

from core.algorithm import run
from core.certificate import certificate

from .helpers import deblur_problem, good_module, params, random_module


def _rows(records):
    return [r.row() for r in records]


def test_fima_inside_the_conditions_is_certified():
    rows = _rows(run(deblur_problem(), good_module(), params(), "fima", iterations=12))
    c = certificate("fima", rows)
    assert c.assumptions_held and c.monotone and c.guaranteed and not c.diverged
    assert any("theorem applies" in line for line in c.lines)


def test_violation_and_increase_are_reported_with_their_iteration():
    rows = _rows(run(deblur_problem(), random_module(), params(), "naive", iterations=6))
    rows[3]["conditions_hold"] = False
    c = certificate("naive", rows)
    assert not c.assumptions_held and c.first_violation == 3
    assert not c.guaranteed
    rows = [{"k": k, "objective": v, "conditions_hold": True} for k, v in enumerate([3, 2, 2.5, 1])]
    c = certificate("fima", rows)
    assert not c.monotone and c.first_increase == 2
    assert any("INCREASED at iteration 2" in line for line in c.lines)


def test_divergence_and_acceptance_rate():
    rows = _rows(run(deblur_problem(), None, params(gamma=10.0), "pg", iterations=200))
    c = certificate("pg", rows)
    assert c.diverged and not c.monotone
    rows = [{"k": k, "objective": 1.0, "accepted": k % 4 == 0} for k in range(8)]
    assert certificate("fima", rows).acceptance_rate == 0.25
    assert math.isnan(certificate("fima", []).acceptance_rate)


def test_an_infinite_psi_at_finite_iterates_is_unknown_not_divergence():
    """gs-prox: Ψ = +∞ where D_σ did not produce the iterate — said so, neither diverged nor monotone."""
    rows = [
        {"k": k, "objective": v, "conditions_hold": True, "diverged": False}
        for k, v in enumerate([math.inf, math.inf, math.inf])
    ]
    c = certificate("naive", rows)
    assert not c.diverged and not c.monotone and c.first_unknown == 0
    assert any("+∞ from iteration 0" in line for line in c.lines)
    assert not any("DIVERGED" in line for line in c.lines)
    rows[2]["diverged"] = True
    assert certificate("naive", rows).diverged


def test_conditions_that_hold_again_are_said_to_hold_again():
    rows = [{"k": k, "objective": 5.0 - k, "conditions_hold": k not in (3, 4, 5)} for k in range(9)]
    c = certificate("fima", rows)
    assert (c.first_violation, c.last_violation, c.holds_again_from) == (3, 5, 6)
    assert not c.guaranteed  # not for the whole run …
    line = next(line for line in c.lines if "2C < μ" in line)
    assert "failed at iterations 3–5 and hold again from iteration 6 on" in line
    assert "applies to the run from x^6 on" in line  # … but for the run from x^6 on
    rows[-1]["conditions_hold"] = False  # failing again at the last iteration: not holding now
    c = certificate("fima", rows)
    assert c.holds_again_from is None and c.last_violation == 8
    assert any("failed from iteration 3 on" in line for line in c.lines)
    rows = [{"k": k, "objective": 1.0, "conditions_hold": k != 2} for k in range(4)]
    assert any(
        "failed at iteration 2 and hold again from iteration 3" in x
        for x in certificate("fima", rows).lines
    )
