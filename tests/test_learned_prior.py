"""The learned gradient-step prior g_σ = ½‖x − N_σ(x)‖² and the engine on Ψ = f + λ g_σ."""

from __future__ import annotations

import math

import pytest
import torch

from core.algorithm import iterate
from core.fidelity import LeastSquares
from core.learned_prior import GradientStepPrior, default_gs_weights_path, load_gs_network
from core.modules.base import FidelityStep
from core.operators import Blur, Identity
from core.params import Parameters
from core.problem import Problem
from core.splitting import ProximalFidelity
from core.unet import LiteUNet, save_weights

from .helpers import Hostile, assert_gradient_matches_differences, small_gs_weights

torch.manual_seed(0)


@pytest.fixture(scope="module")
def small_weights(tmp_path_factory) -> str:
    """A small random SiLU network written in the shipped file format (fast to differentiate)."""
    return small_gs_weights(tmp_path_factory.mktemp("gs"))


@pytest.fixture()
def prior(small_weights) -> GradientStepPrior:
    """λ g_σ with the small test network, in double-checked float32."""
    return GradientStepPrior(weight=0.7, sigma=15 / 255, weights=small_weights)


def _image(h: int = 16, w: int = 16, c: int = 1, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    base = torch.linspace(0.2, 0.8, w).view(1, 1, 1, w).expand(1, c, h, w)
    return (base + 0.1 * torch.randn(1, c, h, w, generator=g)).contiguous()


@pytest.mark.parametrize("shape", [(16, 16, 1), (13, 11, 1), (16, 24, 3)])
def test_gradient_matches_finite_differences(prior, shape, device):
    """⟨∇g(x), v⟩ equals (g(x + εv) − g(x − εv)) / 2ε, padded sizes and colour included."""
    assert_gradient_matches_differences(prior, _image(*shape).to(device))


def test_denoiser_is_identity_minus_gradient(prior):
    """D_σ = Id − ∇g_σ (λ not applied)."""
    x = _image()
    grad = prior.gradient(x) / prior.weight
    assert torch.allclose(prior.denoise(x), x - grad, atol=1e-6)


def test_hessian_vector_matches_gradient_differences(prior):
    """∇²g v ≈ (∇g(x + εv) − ∇g(x − εv)) / 2ε."""
    x = _image()
    v = torch.randn(x.shape, generator=torch.Generator().manual_seed(5))
    hv = prior.hessian_vector(x, v)
    eps = 1e-2
    w = prior.weight
    fd = (prior.gradient(x + eps * v) - prior.gradient(x - eps * v)) / (2 * eps * w)
    assert torch.linalg.vector_norm(hv - fd) <= 0.05 * torch.linalg.vector_norm(hv)


def test_lipschitz_estimate_bounds_gradient_differences(prior):
    """L_g by power iteration is positive, finite and ≥ ‖∇g(a) − ∇g(b)‖/‖a − b‖ for nearby points."""
    x = _image()
    prior.lipschitz_points = [x]
    L = prior.lipschitz()
    assert 0 < L < 1e3 and math.isfinite(L)
    b = x + 1e-2 * torch.randn(x.shape, generator=torch.Generator().manual_seed(7))
    ratio = float(
        torch.linalg.vector_norm(prior.gradient(x) - prior.gradient(b))
        / (prior.weight * torch.linalg.vector_norm(x - b))
    )
    assert ratio <= 1.05 * L


def test_lipschitz_follows_sigma_and_lambda(prior):
    """Problem.lipschitz = λ L_g(σ): the conditions readout sees the learned term."""
    x = _image()
    prior.lipschitz_points = [x]
    problem = Problem(LeastSquares(Identity(), x), prior, x.clone(), task="denoise")
    assert problem.learned
    assert problem.lipschitz == pytest.approx(0.7 * prior.lipschitz())
    prior.weight = 1.4
    assert problem.lipschitz == pytest.approx(1.4 * prior.lipschitz())
    params = Parameters(C=0.1, mu=0.3, gamma=0.99 / problem.lipschitz, lam=1.4)
    assert params.conditions_hold(problem.lipschitz)
    assert not params.with_changes(gamma=1.01 / problem.lipschitz).conditions_hold(
        problem.lipschitz
    )


def test_fidelity_prox_optimality():
    """prox_{γf}(z) = x satisfies (z − x)/γ = ∇f(x) (the proximal part when g is learned)."""
    k = torch.ones(3, 3) / 9
    x_true = _image(16, 16)
    op = Blur(k, (16, 16))
    fid = LeastSquares(op, op.forward(x_true) + 0.01 * torch.randn(1, 1, 16, 16))
    z = _image(16, 16, seed=2)
    gamma = 2.5
    x, value = ProximalFidelity(fid).prox_with_value(z, gamma)
    assert torch.allclose((z - x) / gamma, fid.gradient(x), atol=1e-4)
    assert value == pytest.approx(fid.value(x))


def _deblur_problem(prior: GradientStepPrior, device: str = "cpu") -> Problem:
    truth = _image(16, 16, seed=4).clamp(0, 1)
    op = Blur(torch.ones(3, 3) / 9, (16, 16))
    y = op.forward(truth) + 0.02 * torch.randn(truth.shape, generator=torch.Generator())
    op.to(device)
    truth, y = truth.to(device), y.to(device)
    prior.lipschitz_points = [y]
    return Problem(LeastSquares(op, y), prior, y.clone(), ground_truth=truth, task="deblur")


def test_optimality_error_is_gradient_of_proximal_objective(prior, device):
    """With h = f smooth too, d = ∇Ψ(ũ) + μ(ũ − x^k) exactly: the check measures what Thm 1 says."""
    problem = _deblur_problem(prior, device)
    params = Parameters(C=0.1, mu=0.3, gamma=0.9 / problem.lipschitz, lam=0.7)
    rec = next(iterate(problem, FidelityStep(), params.with_changes(rho=2.0), "fima", max_iter=1))
    ut, x0 = rec.u_tilde, problem.x0
    grad_psi = prior.gradient(ut) + problem.fidelity.gradient(ut) + params.mu * (ut - x0)
    assert rec.residual == pytest.approx(float(torch.linalg.vector_norm(grad_psi)), rel=1e-3)


@pytest.mark.parametrize("kind", ["nan", "random", "raise", "good"])
def test_fima_monotone_on_learned_objective(prior, kind, device):
    """Ψ(x^{k+1}) ≤ Ψ(x^k) under fima on Ψ = f + λ g_σ, whatever the module does."""
    problem = _deblur_problem(prior, device)
    params = Parameters(C=0.1, mu=0.3, gamma=0.9 / problem.lipschitz, lam=0.7, rho=1.0)
    module = FidelityStep() if kind == "good" else Hostile(kind)
    records = list(iterate(problem, module, params, "fima", max_iter=12))
    psi0 = sum(problem.objective(problem.x0)[:1])
    values = [psi0] + [r.objective for r in records]
    assert all(b <= a + 1e-6 * abs(a) for a, b in zip(values, values[1:], strict=False))
    assert all(r.conditions_hold for r in records)
    assert not any(r.diverged for r in records)


def test_live_lambda_and_sigma_change_re_evaluate_objective(prior, device):
    """A change of λ or σ at k = 3 changes Ψ: the record's g is λ' g_σ'(x^{k+1})."""
    from core.params import ParameterTimeline

    problem = _deblur_problem(prior, device)
    params = Parameters(C=0.1, mu=0.3, gamma=0.5 / problem.lipschitz, lam=0.7, sigma_g=15 / 255)
    timeline = ParameterTimeline(params, {3: {"lam": 0.35, "sigma_g": 25 / 255}})
    records = list(iterate(problem, FidelityStep(), timeline, "pg", max_iter=5))
    check = GradientStepPrior(weight=0.35, sigma=25 / 255, weights=prior.weights)
    assert records[4].g == pytest.approx(check.value(records[4].x), rel=1e-5)
    assert records[4].lam == 0.35


def test_shipped_weights_load_offline_and_denoise():
    """resources/weights/gs.pt loads with no network access and D_σ removes noise (> 4 dB)."""
    path = default_gs_weights_path()
    model, meta = load_gs_network(path)
    assert meta["arch"]["activation"] != "relu"
    prior = GradientStepPrior(sigma=25 / 255)
    t = torch.linspace(0, 1, 64)
    clean = (0.5 + 0.3 * torch.sin(6 * t).view(1, -1) * torch.cos(4 * t).view(-1, 1)).view(
        1, 1, 64, 64
    )
    noisy = clean + 25 / 255 * torch.randn(clean.shape, generator=torch.Generator().manual_seed(0))

    def psnr(a):
        return -10 * math.log10(float(((a - clean) ** 2).mean()))

    assert psnr(prior.denoise(noisy)) > psnr(noisy) + 4.0


def test_bad_weight_files_are_refused(tmp_path):
    """A missing, corrupt or ReLU weight file → ValueError with the file named."""
    with pytest.raises(ValueError, match="not found"):
        load_gs_network(tmp_path / "missing.pt")
    bad = tmp_path / "bad.pt"
    bad.write_bytes(b"not a torch file")
    with pytest.raises(ValueError, match="corrupt"):
        load_gs_network(bad)
    relu = tmp_path / "relu.pt"
    save_weights(LiteUNet(channels=(8, 16), blocks=(1, 1)), relu)
    with pytest.raises(ValueError, match="smooth activations"):
        load_gs_network(relu)


@pytest.mark.parametrize(("task", "prior"), [("deblur", None), ("denoise", "gs"), ("mri", "gs")])
def test_tasks_build_the_learned_objective_inside_the_conditions(task, prior, device):
    """deblur defaults to Ψ = f + λ g_σ, denoise and mri offer it: L = λ L_g, 2C < μ, γ < 1/L."""
    from core.tasks import build_task

    image = _image(32, 32).clamp(0, 1)
    setup = build_task(task, image, module="none", device=device, prior=prior)
    problem, params = setup.problem, setup.parameters
    assert problem.learned and setup.settings["prior"]["name"] == "gs"
    assert problem.lipschitz == pytest.approx(params.lam * problem.prior.lipschitz())
    assert params.conditions_hold(problem.lipschitz)
    assert params.sigma_g == problem.prior.sigma
    records = list(iterate(problem, setup.module, params, "fima", max_iter=3))
    values = [r.objective for r in records]
    assert all(b <= a + 1e-6 * abs(a) for a, b in zip(values, values[1:], strict=False))


def test_a_users_sigma_and_weight_win_over_the_task_rule(device):
    """--prior gs:sigma=0.05,weight=0.2 is taken as given; γ follows the L it implies."""
    from core.tasks import build_task

    image = _image(32, 32).clamp(0, 1)
    setup = build_task(
        "deblur", image, module="none", prior="gs:sigma=0.05,weight=0.2", device=device
    )
    assert setup.problem.prior.sigma == pytest.approx(0.05)
    assert setup.parameters.lam == pytest.approx(0.2)
    assert setup.parameters.gamma * setup.problem.lipschitz == pytest.approx(0.9)
