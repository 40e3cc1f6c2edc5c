"""The refinement that stops where the check would accept, and the evaluations it hands over."""

import math

import pytest
import torch

from core.algorithm import iterate
from core.fidelity import LeastSquares
from core.learned_prior import GradientStepPrior
from core.modules.refine import ProximalRefinement, _hopeless
from core.operators import Blur, gaussian_kernel
from core.params import Parameters
from core.problem import Problem

from .helpers import FunctionModule, cartoon, small_gs_weights


@pytest.fixture(scope="module")
def small_weights(tmp_path_factory) -> str:
    return small_gs_weights(tmp_path_factory.mktemp("gs_refine"))


def learned_problem(weights: str, n: int = 32) -> tuple[Problem, Parameters]:
    """Deblurring with Ψ = f + λ g_σ (a small test network), γ = 0.9/L, μ = 0.1/γ, C = 0.45μ."""
    truth = cartoon(n)
    op = Blur(gaussian_kernel(1.2), (n, n))
    y = op.forward(truth) + 0.01 * torch.randn(
        truth.shape, generator=torch.Generator().manual_seed(0)
    )
    prior = GradientStepPrior(weight=0.5, sigma=0.03, weights=weights)
    prior.lipschitz_points = [y]
    gamma = 0.9 / (prior.weight * prior.lipschitz())
    mu = 0.1 / gamma
    params = Parameters(C=0.45 * mu, mu=mu, gamma=gamma, lam=0.5, sigma_g=0.03)
    return Problem(LeastSquares(op, y), prior, y.clone(), truth, y), params


def test_a_point_evaluated_again_costs_no_network_pass(small_weights):
    prior = GradientStepPrior(weight=0.5, sigma=0.03, weights=small_weights)
    x = torch.rand(1, 1, 16, 16, generator=torch.Generator().manual_seed(1))
    first = prior.evaluate(x)
    assert prior.evaluate(x.clone()) is first  # equal values: the kept evaluation
    prior.weight = 0.25  # Ψ changed: evaluated anew
    again = prior.evaluate(x)
    assert again is not first and again.value == pytest.approx(first.value / 2, rel=1e-6)
    prior.sigma = 0.05
    assert prior.evaluate(x) is not again


def test_the_engine_does_not_evaluate_a_refined_proposal_twice(small_weights, monkeypatch):
    problem, params = learned_problem(small_weights)
    calls = []
    potential = GradientStepPrior._potential

    def counted(self, *args, **kwargs):
        calls.append(1)
        return potential(self, *args, **kwargs)

    monkeypatch.setattr(GradientStepPrior, "_potential", counted)
    refined = ProximalRefinement(FunctionModule(lambda x, k: (x + 0.02).clamp(0, 1)), steps=6)
    in_module = []

    def module(x, k, p, pr):
        before = len(calls)
        u = refined(x, k, p, pr)
        in_module.append(len(calls) - before)
        return u

    gen = iterate(problem, module, params, "fima", max_iter=6, propose="always")
    engine = []  # network passes the engine made itself, per iteration
    while True:
        before, modules = len(calls), len(in_module)
        if next(gen, None) is None:
            break
        engine.append(len(calls) - before - sum(in_module[modules:]))
    # u and ũ come evaluated from the refinement: x^{k+1} is the engine's only pass, or one
    # more for ũ when the refinement used all its steps (without the kept evaluations: 3)
    assert engine[1:] and max(engine[1:]) <= 2 and min(engine[1:]) == 1, engine


def test_hopeless_refinements_are_given_up():
    assert _hopeless(12.0, 0.58, 3)  # 12 · 0.58³ ≈ 2.3 > 1
    assert not _hopeless(3.06, 0.47, 3)
    assert _hopeless(2.0, 1.1, 10)  # not shrinking
    assert _hopeless(math.inf, 0.5, 5)
