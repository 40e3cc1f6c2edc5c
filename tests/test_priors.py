"""Priors: orthonormality of W, each prox against a brute-force minimisation on small inputs."""

import math

import numpy as np
import pytest
import torch
from scipy.optimize import minimize_scalar

from core.priors import (
    Box,
    TotalVariation,
    WaveletSparsity,
    difference_adjoint,
    forward_differences,
    generalized_shrinkage,
    hard_threshold,
    soft_threshold,
)
from core.wavelets import haar_forward, haar_inverse, usable_levels


def test_haar_is_orthonormal():
    x = torch.randn(1, 2, 32, 24, dtype=torch.float64)
    levels = usable_levels(x.shape, 5)
    assert levels == 3
    c = haar_forward(x, levels)
    assert float(c.norm()) == pytest.approx(float(x.norm()), rel=1e-12)
    assert torch.allclose(haar_inverse(c, levels), x, atol=1e-12)
    y = torch.randn_like(x)
    # ⟨Wx, y⟩ = ⟨x, Wᵀy⟩
    lhs = float(torch.sum(c * y))
    rhs = float(torch.sum(x * haar_inverse(y, levels)))
    assert lhs == pytest.approx(rhs, rel=1e-10)


def _scalar_brute_force(c, t, phi):
    """argmin_x t φ(x) + ½(x − c)²: global search on a grid, then refined."""
    grid = np.linspace(-abs(c) - 1, abs(c) + 1, 40001)
    values = t * phi(grid) + 0.5 * (grid - c) ** 2
    best = grid[np.argmin(values)]
    res = minimize_scalar(
        lambda x: t * phi(np.array(x)) + 0.5 * (x - c) ** 2,
        bounds=(best - 1e-3, best + 1e-3),
        method="bounded",
    )
    candidates = [best, res.x, 0.0]
    return min(candidates, key=lambda x: t * phi(np.array(x)) + 0.5 * (x - c) ** 2)


@pytest.mark.parametrize("p", [1.0, 0.5, 0.8, 0.0])
def test_scalar_shrinkage_is_the_global_minimiser(p):
    t = 0.3
    if p == 1:
        phi, shrink = np.abs, lambda c: soft_threshold(c, t)
    elif p == 0:
        phi, shrink = (lambda x: (np.abs(x) > 0).astype(float)), lambda c: hard_threshold(c, t)
    else:
        phi, shrink = (lambda x: np.abs(x) ** p), lambda c: generalized_shrinkage(c, t, p, 30)
    cs = np.linspace(-2, 2, 37)
    ours = shrink(torch.tensor(cs, dtype=torch.float64)).numpy()
    for c, x in zip(cs, ours, strict=True):
        ref = _scalar_brute_force(c, t, phi)

        def obj(v, c=c):
            return t * phi(np.array(v)) + 0.5 * (v - c) ** 2

        assert obj(x) <= obj(ref) + 1e-7, (c, x, ref)


@pytest.mark.parametrize("p", [1.0, 0.5, 0.0])
def test_wavelet_prox_beats_random_perturbations(p):
    torch.manual_seed(0)
    prior = WaveletSparsity(0.2, p=p, levels=2)
    z = torch.randn(1, 1, 8, 8, dtype=torch.float64)
    gamma = 0.7
    x, gx = prior.prox_with_value(z, gamma)
    assert gx == pytest.approx(prior.value(x), rel=1e-9, abs=1e-9)

    def obj(v):
        return gamma * prior.value(v) + 0.5 * float(torch.sum((v - z) ** 2))

    best = obj(x)
    for scale in (1e-1, 1e-2, 1e-3):
        for _ in range(50):
            assert best <= obj(x + scale * torch.randn_like(x)) + 1e-9


def test_difference_operator_adjoint():
    x = torch.randn(1, 1, 7, 9, dtype=torch.float64)
    ph, pv = torch.randn_like(x), torch.randn_like(x)
    dh, dv = forward_differences(x)
    lhs = float(torch.sum(dh * ph) + torch.sum(dv * pv))
    assert lhs == pytest.approx(float(torch.sum(x * difference_adjoint(ph, pv))), rel=1e-10)


@pytest.mark.parametrize("isotropic", [True, False])
def test_tv_prox_matches_long_brute_force(isotropic):
    torch.manual_seed(1)
    z = torch.rand(1, 1, 6, 6, dtype=torch.float64)
    gamma = 1.0
    ours = TotalVariation(0.1, isotropic=isotropic, iterations=200)
    reference = TotalVariation(0.1, isotropic=isotropic, iterations=20000)

    def obj(v):
        return gamma * ours.value(v) + 0.5 * float(torch.sum((v - z) ** 2))

    x, ref = ours.prox(z, gamma), reference.prox(z, gamma)
    assert obj(x) <= obj(ref) + 1e-6
    for _ in range(200):  # convex: no nearby point is better
        assert obj(ref) <= obj(ref + 1e-3 * torch.randn_like(ref)) + 1e-9


def test_box_prox_and_value():
    box = Box(0.0, 1.0)
    z = torch.tensor([[-0.5, 0.3, 1.7]])
    assert torch.equal(box.prox(z, 1.0), torch.tensor([[0.0, 0.3, 1.0]]))
    assert box.value(box.prox(z, 1.0)) == 0.0
    assert math.isinf(box.value(z))


def test_bad_prior_settings_are_refused():
    with pytest.raises(ValueError):
        WaveletSparsity(0.1, p=1.5)
    with pytest.raises(ValueError):
        WaveletSparsity(float("nan"))
    with pytest.raises(ValueError):
        Box(1.0, 0.0)
