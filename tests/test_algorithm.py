"""FIMA's guarantees on real problems: Ψ never increases, iterates stay finite, d is a subgradient."""

import math

import pytest
import torch

from core.algorithm import iterate, run
from core.params import ParameterTimeline
from core.priors import NoPrior

from .helpers import FunctionModule, deblur_problem, good_module, params, random_module

REL = 1e-6  # float32 round-off allowance on Ψ
ALWAYS = "always"  # these tests look at every proposal the check judges


def assert_monotone(records):
    objectives = [r.objective for r in records]
    for k, (a, b) in enumerate(zip(objectives, objectives[1:], strict=False)):
        assert b <= a + REL * abs(a), f"Ψ rose at k={k + 1}: {a} -> {b}"


def test_fima_monotone_with_a_good_module(device):
    problem = deblur_problem(device=device)
    records = run(problem, good_module(), params(), "fima", iterations=40)
    assert len(records) == 40
    assert_monotone(records)
    assert records[0].objective <= problem.objective(problem.x0)[0]
    assert records[-1].psnr > records[0].psnr


def test_fima_monotone_with_a_random_module_and_rejects_it(device):
    records = run(deblur_problem(device=device), random_module(), params(), "fima", iterations=40)
    assert_monotone(records)
    assert sum(r.accepted for r in records) == 0  # noise is never worth accepting here


@pytest.mark.parametrize("bad", [math.nan, math.inf, -math.inf])
def test_fima_survives_non_finite_modules(bad, device):
    module = FunctionModule(lambda x, k: torch.full_like(x, bad), "bad")
    records = run(
        deblur_problem(device=device), module, params(), "fima", iterations=15, propose=ALWAYS
    )
    assert len(records) == 15
    assert_monotone(records)
    for r in records:
        assert torch.isfinite(r.x).all()
        assert not r.accepted and r.reject_reason == "non-finite proposal"


def test_fima_survives_a_module_that_raises_or_returns_the_wrong_shape(device):
    def boom(x, k):
        raise RuntimeError("kaboom")

    for fn, reason in ((boom, "module error"), (lambda x, k: x[..., :5, :5], "module returned")):
        records = run(
            deblur_problem(device=device),
            FunctionModule(fn),
            params(),
            "fima",
            iterations=5,
            propose=ALWAYS,
        )
        assert len(records) == 5
        assert all(r.reject_reason.startswith(reason) for r in records)
        assert_monotone(records)


def test_pg_is_monotone_and_never_accepts(device):
    records = run(deblur_problem(device=device), None, params(), "pg", iterations=40)
    assert_monotone(records)
    assert not any(r.accepted for r in records)
    assert all(r.u is None for r in records)


def test_naive_can_increase_the_objective(device):
    records = run(deblur_problem(device=device), random_module(), params(), "naive", iterations=5)
    problem = deblur_problem(device=device)
    start = problem.objective(problem.x0)[0]
    assert records[0].objective > start
    assert all(r.accepted for r in records)


def test_naive_with_a_nan_module_is_stopped_as_diverged(device):
    module = FunctionModule(lambda x, k: torch.full_like(x, math.nan))
    records = run(deblur_problem(device=device), module, params(), "naive", iterations=10)
    assert len(records) == 1 and records[0].diverged
    records = run(deblur_problem(device=device), module, params(), "unchecked", iterations=10)
    assert len(records) == 1 and records[0].diverged


def test_pg_with_a_huge_step_diverges_and_stops(device):
    records = run(deblur_problem(device=device), None, params(gamma=10.0), "pg", iterations=200)
    assert records[-1].diverged and len(records) < 200
    assert not records[-1].conditions_hold


def test_residual_is_the_subgradient_of_the_proximal_objective(device):
    """With g = 0: d must equal ∇Ψ^k(ũ) = ∇f(ũ) + μ(ũ − x^k)."""
    problem = deblur_problem(device=device)
    problem.prior = NoPrior()
    p = params(mu=0.7)
    gen = iterate(problem, good_module(), p, "fima", max_iter=3, propose=ALWAYS)
    previous = problem.x0
    for r in gen:
        grad = problem.fidelity.gradient(r.u_tilde)
        expected = grad + p.mu * (r.u_tilde - previous)
        assert r.residual == pytest.approx(float(expected.norm()), rel=1e-3, abs=1e-5)
        assert r.tolerance == pytest.approx(p.C * float((r.u_tilde - previous).norm()), rel=1e-5)
        previous = r.x


def test_check_accepts_when_tolerance_is_generous_and_rejects_when_tight(device):
    problem = deblur_problem(device=device)
    loose = run(problem, good_module(), params(C=1e3, mu=1.0), "fima", iterations=10)
    tight = run(
        deblur_problem(device=device),
        good_module(),
        params(C=1e-6),
        "fima",
        iterations=10,
        propose=ALWAYS,
    )
    assert any(r.accepted for r in loose)
    assert not any(r.accepted for r in tight)
    assert all(r.reject_reason == "check" for r in tight)
    assert_monotone(loose)  # the objective guard keeps Ψ monotone even outside 2C < μ


def test_unchecked_accepts_everything(device):
    records = run(deblur_problem(device=device), good_module(), params(), "unchecked", iterations=5)
    assert all(r.accepted for r in records)


class CountingOperator:
    def __init__(self, op):
        self.op, self.forward_calls, self.adjoint_calls = op, 0, 0

    def forward(self, x):
        self.forward_calls += 1
        return self.op.forward(x)

    def adjoint(self, y):
        self.adjoint_calls += 1
        return self.op.adjoint(y)

    def solve_normal(self, rhs, rho):
        return self.op.solve_normal(rhs, rho)

    def norm_sq(self, shape=None, iterations=0):
        return self.op.norm_sq(shape)


def test_one_iteration_costs_one_module_call_and_three_gradients(device):
    problem = deblur_problem(device=device)
    counter = CountingOperator(problem.fidelity.operator)
    problem.fidelity.operator = counter
    problem.fidelity.prox(problem.x0, 1.0)  # caches Tᵀy for A_f
    module = FunctionModule(lambda x, k: good_module()(x, k, params(), problem))
    gen = iterate(problem, module, params(), "fima", max_iter=6, propose=ALWAYS)
    next(gen)
    f0, a0, calls0 = counter.forward_calls, counter.adjoint_calls, module.calls
    for _ in gen:
        pass
    n = 5
    assert module.calls - calls0 == n
    assert counter.forward_calls - f0 == 3 * n
    assert counter.adjoint_calls - a0 <= 3 * n


def test_live_parameter_changes_apply_at_the_next_iteration_and_are_recorded(device):
    timeline = ParameterTimeline(params())
    gen = iterate(deblur_problem(device=device), good_module(), timeline, "fima", max_iter=10)
    first = [next(gen) for _ in range(3)]
    timeline.submit(C=0.2, gamma=0.5)
    rest = list(gen)
    assert all(r.C == 0.4 and r.gamma == 0.9 for r in first)
    assert all(r.C == 0.2 and r.gamma == 0.5 for r in rest)
    assert timeline.changes == {3: {"C": 0.2, "gamma": 0.5}}


def test_replaying_a_timeline_gives_the_same_trace(device):
    def trace(timeline, submit):
        gen = iterate(deblur_problem(device=device), good_module(), timeline, "fima", max_iter=8)
        rows = []
        for r in gen:
            rows.append((r.objective, r.accepted, r.C, r.mu))
            if submit and r.k == 2:
                timeline.submit(mu=1.5, C=0.7)
        return rows

    live = ParameterTimeline(params())
    first = trace(live, submit=True)
    replayed = trace(ParameterTimeline(params(), live.changes), submit=False)
    assert first == replayed


def test_conditions_are_reported_per_iteration(device):
    records = run(
        deblur_problem(device=device), good_module(), params(C=0.6, mu=1.0), "fima", iterations=2
    )
    assert not any(r.conditions_hold for r in records)
    records = run(deblur_problem(device=device), good_module(), params(), "fima", iterations=2)
    assert all(r.conditions_hold for r in records)


def test_unknown_variant_is_refused(device):
    with pytest.raises(ValueError, match="unknown variant"):
        next(iterate(deblur_problem(device=device), None, params(), "bogus"))
