"""Prox-PnP's learned prior λφ_σ with prox φ_σ = D_σ, and the engine on Ψ = f + λφ_σ, λ = 1/γ."""

from __future__ import annotations

import math

import pytest
import torch

from core.algorithm import iterate
from core.fidelity import LeastSquares
from core.learned_prox_prior import ProximalGradientStepPrior
from core.modules.base import FidelityStep
from core.operators import Blur, Identity
from core.params import Parameters, ParameterTimeline
from core.problem import Problem

from .helpers import Hostile, small_gs_weights


@pytest.fixture(scope="module")
def small_weights(tmp_path_factory) -> str:
    """A small random SiLU network written in the shipped file format (fast to differentiate)."""
    return small_gs_weights(tmp_path_factory.mktemp("gs"))


@pytest.fixture()
def prior(small_weights) -> ProximalGradientStepPrior:
    """λφ_σ with the small test network, λ = 1/γ for γ = 0.8."""
    return ProximalGradientStepPrior(sigma=15 / 255, weights=small_weights, weight=1 / 0.8)


def _image(h: int = 16, w: int = 16, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    base = torch.linspace(0.2, 0.8, w).view(1, 1, 1, w).expand(1, 1, h, w)
    return (base + 0.1 * torch.randn(1, 1, h, w, generator=g)).contiguous()


def test_prox_at_unit_weight_is_the_denoiser_and_its_value_the_formula(prior):
    """prox_{γλφ}(z) = D_σ(z) when γλ = 1, and λφ_σ(D_σ(z)) = λ(g_σ(z) − ½‖∇g_σ(z)‖²)."""
    z = _image()
    x, h = prior.prox_with_value(z, 0.8)
    assert torch.allclose(x, prior.denoise(z), atol=1e-6)
    g, grad = prior.potential.value_and_gradient(z)
    assert h == pytest.approx(prior.weight * (g - 0.5 * float(grad.pow(2).sum())), rel=1e-6)
    assert prior.value(x) == pytest.approx(h, rel=1e-9)  # known: D_σ produced it
    assert prior.value(x.clone()) == pytest.approx(h, rel=1e-9)  # an equal tensor is known too
    assert prior.value(z) == math.inf  # not known to be in D_σ's image: φ_σ = +∞


def test_value_follows_the_weight_and_forgets_another_sigma(prior):
    """φ_σ's value is kept per σ: λ scales it, a new σ makes it unknown (+∞)."""
    x, h = prior.prox_with_value(_image(), 0.8)
    prior.weight = 2.0
    assert prior.value(x) == pytest.approx(h * 2.0 * 0.8, rel=1e-9)
    prior.sigma = 25 / 255
    assert prior.value(x) == math.inf


def test_another_weight_gives_the_relaxed_map(prior):
    """γλ = t ≠ 1: z − t∇g_σ(z), whose φ-value is unknown (+∞)."""
    z = _image()
    x, h = prior.prox_with_value(z, 0.4)  # t = 0.4 / 0.8 = 0.5
    assert torch.allclose(x, z - 0.5 * prior.potential.gradient(z), atol=1e-6)
    assert h == math.inf


def test_denoiser_is_a_prox_where_the_gradient_contracts(prior):
    """With L_g < 1, D_σ(z) minimises φ_σ(x) + ½‖x − z‖² over D_σ's image (prox optimality)."""
    z = _image(seed=3)
    assert prior.lipschitz() < 1.0
    prior.weight = 1.0
    x, phi = prior.prox_with_value(z, 1.0)
    best = phi + 0.5 * float((x - z).pow(2).sum())
    gen = torch.Generator().manual_seed(4)
    for scale in (1e-3, 1e-2, 1e-1):
        other = z + scale * torch.randn(z.shape, generator=gen)
        x2, phi2 = prior.prox_with_value(other, 1.0)
        assert best <= phi2 + 0.5 * float((x2 - z).pow(2).sum()) + 1e-6


def _denoise_problem(prior, device: str = "cpu") -> Problem:
    clean = _image(16, 16, seed=1).clamp(0, 1)
    noisy = clean + 0.1 * torch.randn(clean.shape, generator=torch.Generator().manual_seed(2))
    clean, noisy = clean.to(device), noisy.to(device)
    return Problem(LeastSquares(Identity(), noisy), prior, noisy.clone(), ground_truth=clean)


def _deblur_problem(prior, device: str = "cpu") -> Problem:
    clean = _image(16, 16, seed=1).clamp(0, 1)
    op = Blur(torch.ones(3, 3) / 9, (16, 16))
    y = op.forward(clean) + 0.01 * torch.randn(
        clean.shape, generator=torch.Generator().manual_seed(2)
    )
    op.to(device)
    clean, y = clean.to(device), y.to(device)
    return Problem(LeastSquares(op, y), prior, y.clone(), ground_truth=clean)


@pytest.mark.parametrize("make", [_denoise_problem, _deblur_problem])
@pytest.mark.parametrize("kind", ["nan", "random", "raise", "good"])
def test_fima_monotone_on_the_proximal_objective(prior, make, kind, device):
    """Ψ(x^{k+1}) ≤ Ψ(x^k) under fima on Ψ = f + λφ_σ, λ = 1/γ, whatever the module does."""
    problem = make(prior, device)
    assert problem.learned and problem.lipschitz == pytest.approx(problem.fidelity.lipschitz)
    params = Parameters(C=0.04, mu=0.1, gamma=0.9 / problem.lipschitz, lam=123.0, rho=1.0)
    module = FidelityStep() if kind == "good" else Hostile(kind)
    records = list(iterate(problem, module, params, "fima", max_iter=10))
    values = [r.objective for r in records]
    assert all(math.isfinite(v) for v in values)  # every iterate is an output of D_σ
    assert all(b <= a + 1e-6 * abs(a) for a, b in zip(values, values[1:], strict=False))
    assert prior.weight == pytest.approx(1 / params.gamma)  # λ follows γ, not the λ given
    assert all(r.conditions_hold for r in records)
    assert not any(r.diverged for r in records)


def test_pg_on_denoising_converges_to_the_denoiser_output(prior, device):
    """Ψ = ½‖x − y‖² + λφ_σ: x^{k+1} = D_σ(x^k − γ(x^k − y)) tends to D_σ(y) as γ → 1."""
    problem = _denoise_problem(prior, device)
    target = prior.denoise(problem.fidelity.observation)
    gaps = []
    for gamma in (0.9, 0.99):
        params = Parameters(C=0.04, mu=0.1, gamma=gamma)
        last = list(iterate(problem, FidelityStep(), params, "pg", max_iter=30))[-1].x
        gaps.append(
            float(torch.linalg.vector_norm(last - target) / torch.linalg.vector_norm(target))
        )
    assert gaps[1] < 0.005 and gaps[1] < gaps[0]


def test_a_live_step_change_changes_psi_and_is_re_evaluated(prior, device):
    """γ → γ' at k = 3 sets λ = 1/γ': the record's g is φ_σ(x^{k+1})/γ', finite."""
    problem = _denoise_problem(prior, device)
    timeline = ParameterTimeline(Parameters(C=0.04, mu=0.1, gamma=0.9), {3: {"gamma": 0.5}})
    records = list(iterate(problem, FidelityStep(), timeline, "pg", max_iter=5))
    assert prior.weight == pytest.approx(2.0)
    assert records[4].gamma == 0.5 and math.isfinite(records[4].g)
    assert records[2].lam == pytest.approx(1 / 0.9) and records[4].lam == pytest.approx(2.0)
    assert records[4].g == pytest.approx(prior.value(records[4].x), rel=1e-9)


def test_denoise_task_defaults_to_the_proximal_prior(device):
    """The denoise task's Ψ holds λφ_σ with σ = ν, γ = 0.99/L_f, λ = 1/γ; it ends at D_σ(y)."""
    from core.tasks import build_task

    clean = _image(32, 32).clamp(0, 1)
    setup = build_task("denoise", clean, module="cnn", noise=20 / 255, seed=0, device=device)
    problem, params = setup.problem, setup.parameters
    assert setup.settings["prior"]["name"] == "gs-prox" and problem.learned
    assert problem.prior.sigma == pytest.approx(20 / 255) == params.sigma_g
    assert params.gamma == pytest.approx(0.99) and params.lam == pytest.approx(1 / 0.99)
    assert params.conditions_hold(problem.lipschitz)
    records = list(iterate(problem, setup.module, params, "fima", max_iter=8))
    values = [r.objective for r in records]
    assert all(b <= a + 1e-6 * abs(a) for a, b in zip(values, values[1:], strict=False))
    target = problem.prior.denoise(problem.observation_image)
    gap = torch.linalg.vector_norm(records[-1].x - target) / torch.linalg.vector_norm(target)
    assert gap < 0.01
