"""g(x) = (1/n) Σ_t g_σ(T_t x) over the square's symmetries: a potential, equivariant, priced n×."""

from __future__ import annotations

import math

import pytest
import torch

from core.algorithm import iterate
from core.fidelity import LeastSquares
from core.io import InputError
from core.learned_prior import GradientStepPrior, symmetry
from core.learned_prox_prior import ProximalGradientStepPrior
from core.operators import Blur
from core.params import Parameters
from core.prior_registry import make_prior
from core.problem import Problem

from .helpers import Hostile, assert_gradient_matches_differences, small_gs_weights


@pytest.fixture(scope="module")
def small_weights(tmp_path_factory) -> str:
    """A small random SiLU network in the shipped file format."""
    return small_gs_weights(tmp_path_factory.mktemp("gs_sym"))


def _image(h: int = 16, w: int = 16, seed: int = 0) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    base = torch.linspace(0.2, 0.8, w).view(1, 1, 1, w).expand(1, 1, h, w)
    return (base + 0.1 * torch.randn(1, 1, h, w, generator=g)).contiguous()


def _prior(weights: str, n: int) -> GradientStepPrior:
    return GradientStepPrior(weight=0.7, sigma=15 / 255, weights=weights, symmetries=n)


def test_the_eight_symmetries_are_distinct_and_orthogonal():
    """T_0 … T_7 are the eight different isometries of the square, each a permutation (‖T x‖ = ‖x‖)."""
    x = _image(8, 8)
    images = [symmetry(x, t) for t in range(8)]
    assert all(torch.equal(torch.sort(i.flatten())[0], torch.sort(x.flatten())[0]) for i in images)
    assert len({tuple(i.flatten().tolist()) for i in images}) == 8


@pytest.mark.parametrize("n", [2, 4, 8])
def test_value_is_the_mean_over_the_symmetries(small_weights, n):
    """g(x) = (1/n) Σ_{t<n} g_σ(T_t x): the averaged value, with λ applied once."""
    x = _image()
    plain = _prior(small_weights, 1)
    expected = sum(plain.value(symmetry(x, t)) for t in range(n)) / n
    assert _prior(small_weights, n).value(x) == pytest.approx(expected, rel=1e-5)
    assert _prior(small_weights, n).value(x) != pytest.approx(plain.value(x), rel=1e-4)


@pytest.mark.parametrize("n", [2, 4, 8])
def test_denoiser_is_equivariant_under_its_symmetries(small_weights, n):
    """The first n symmetries form a group, so D(T_t x) = T_t D(x) for t < n (not so for n = 1)."""
    x = _image(16, 16, seed=2)
    prior = _prior(small_weights, n)
    for t in range(n):
        assert torch.allclose(
            prior.denoise(symmetry(x, t)), symmetry(prior.denoise(x), t), atol=1e-5
        )
    plain = _prior(small_weights, 1)
    flip = symmetry(x, 1)
    assert not torch.allclose(plain.denoise(flip), symmetry(plain.denoise(x), 1), atol=1e-5)


@pytest.mark.parametrize("shape", [(16, 16), (13, 11)])
def test_symmetric_gradient_matches_finite_differences(small_weights, shape):
    """⟨∇g(x), v⟩ = (g(x + εv) − g(x − εv)) / 2ε for n = 8, on a non-square padded size too."""
    assert_gradient_matches_differences(_prior(small_weights, 8), _image(*shape))


def test_lipschitz_is_estimated_for_the_symmetric_potential(small_weights):
    """L of the averaged potential is its own estimate (not the plain one's from the cache)."""
    x = _image(24, 24, seed=5)
    plain, sym = _prior(small_weights, 1), _prior(small_weights, 8)
    plain.lipschitz_points = sym.lipschitz_points = [x]
    direct = sym.estimate_lipschitz(x, range_free=True)
    assert sym.lipschitz() == pytest.approx(direct, rel=1e-6)
    assert plain.lipschitz() != pytest.approx(direct, rel=1e-6)


@pytest.mark.parametrize("kind", ["nan", "random", "raise"])
def test_fima_is_monotone_on_the_symmetric_objective(small_weights, kind):
    """Ψ(x^{k+1}) ≤ Ψ(x^k) under fima on Ψ = f + λ g with n = 4, whatever the module does."""
    prior = _prior(small_weights, 4)
    truth = _image(16, 16, seed=4).clamp(0, 1)
    op = Blur(torch.ones(3, 3) / 9, (16, 16))
    y = op.forward(truth) + 0.02 * torch.randn(truth.shape, generator=torch.Generator())
    prior.lipschitz_points = [y]
    problem = Problem(LeastSquares(op, y), prior, y.clone(), ground_truth=truth, task="deblur")
    params = Parameters(C=0.1, mu=0.3, gamma=0.9 / problem.lipschitz, lam=0.7, rho=1.0)
    records = list(iterate(problem, Hostile(kind), params, "fima", max_iter=8))
    values = [sum(problem.objective(problem.x0)[:1])] + [r.objective for r in records]
    assert all(b <= a + 1e-6 * abs(a) for a, b in zip(values, values[1:], strict=False))
    assert not any(r.diverged for r in records)


def test_symmetries_round_trip_and_bad_counts_are_refused(small_weights):
    """describe() rebuilds the same prior; 3 symmetries (not a group size) is one clear error."""
    prior = _prior(small_weights, 4)
    rebuilt = make_prior({**prior.describe(), "weights": small_weights})
    assert rebuilt.symmetries == 4
    x = _image()
    assert rebuilt.value(x) == pytest.approx(prior.value(x), rel=1e-6)
    with pytest.raises(ValueError, match="symmetries must be 1, 2, 4 or 8"):
        _prior(small_weights, 3)


def test_a_task_takes_symmetries_from_the_prior_text():
    """--prior gs:symmetries=2 reaches the task's Ψ; gs:symmetries=3 is refused in our words."""
    from core.tasks import build_task

    image = _image(32, 32).clamp(0, 1)
    setup = build_task("deblur", image, module="none", prior="gs:symmetries=2")
    assert setup.problem.prior.symmetries == 2
    with pytest.raises(InputError, match="symmetries must be 1, 2, 4 or 8"):
        build_task("deblur", image, module="none", prior="gs:symmetries=3")


def test_the_proximal_prior_averages_too(small_weights):
    """gs-prox with N = 4: its prox (γλ = 1) is the self-ensemble ¼ Σ_t T_t⁻¹ D_σ(T_t z)."""
    z = _image(16, 16, seed=6)
    plain = _prior(small_weights, 1)
    prox = ProximalGradientStepPrior(15 / 255, small_weights, symmetries=4, weight=1.0)
    # the first four symmetries (identity, flip, half turn, half turn + flip) are involutions
    ensemble = sum(symmetry(plain.denoise(symmetry(z, t)), t) for t in range(4)) / 4
    x, value = prox.prox_with_value(z, 1.0)
    assert torch.allclose(x, ensemble, atol=1e-5)
    assert math.isfinite(value) and prox.value(x) == pytest.approx(value)
    assert make_prior(prox.describe() | {"weights": small_weights}).potential.symmetries == 4


def test_the_denoise_task_takes_symmetries_for_its_proximal_prior():
    """--prior gs-prox:symmetries=4 reaches the denoise task's Ψ."""
    from core.tasks import build_task

    setup = build_task("denoise", _image(32, 32).clamp(0, 1), prior="gs-prox:symmetries=4")
    assert setup.problem.prior.potential.symmetries == 4
