"""Wavelets through ptwt: every offered family is orthonormal, matches PyWavelets' periodization, and
the ℓp-wavelet prox agrees with a per-coefficient brute-force search."""

from __future__ import annotations

import numpy as np
import pytest
import pywt
import torch

from core.io import InputError
from core.modules.edge import L0Smoothing, SmoothingSupport
from core.priors import WaveletSparsity
from core.tasks import build_task
from core.tasks.base import parse_prior_spec
from core.wavelets import (
    detail_mask,
    filter_length,
    forward,
    inverse,
    usable_levels,
    wavelet_names,
)

NAMES = wavelet_names()
SOME = ("haar", "db2", "db4", "sym8", "coif2")


def _size(wavelet: str, levels: int) -> int:
    """The smallest even side that allows ``levels`` levels of ``wavelet``."""
    return filter_length(wavelet) * 2 ** (levels - 1)


def test_the_orthogonal_families_are_offered():
    assert {"haar", "db1", "db4", "db38", "sym2", "sym8", "sym20", "coif1", "coif17"} <= set(NAMES)
    assert not {"bior2.2", "rbio1.3", "dmey"} & set(NAMES)  # not orthogonal
    for name in NAMES:
        assert pywt.Wavelet(name).orthogonal, name


@pytest.mark.filterwarnings("ignore:Level value of:UserWarning")  # pywt: small test images
@pytest.mark.parametrize("wavelet", NAMES)
def test_each_family_reconstructs_and_matches_pywt_periodization(wavelet):
    levels = 2
    side = _size(wavelet, levels)
    gen = torch.Generator().manual_seed(len(wavelet))
    x = torch.randn(1, 2, side, side + 2**levels, generator=gen, dtype=torch.float64)
    assert usable_levels(x.shape, 9, wavelet) >= levels
    c = forward(x, levels, wavelet)
    assert c.shape == x.shape
    assert float(c.norm()) == pytest.approx(float(x.norm()), rel=1e-9)  # ‖W x‖ = ‖x‖
    assert torch.allclose(inverse(c, levels, wavelet), x, atol=1e-9)  # WᵀW x = x
    y = torch.randn(x.shape, generator=gen, dtype=torch.float64)
    lhs, rhs = float(torch.sum(c * y)), float(torch.sum(x * inverse(y, levels, wavelet)))
    assert lhs == pytest.approx(rhs, rel=1e-9)  # ⟨Wx, y⟩ = ⟨x, Wᵀy⟩

    # the same numbers as PyWavelets' orthonormal periodized transform, band by band
    ref = pywt.wavedec2(x[0, 1].numpy(), wavelet, mode="periodization", level=levels)
    ours = c[0, 1].numpy()
    h, w = x.shape[-2] >> levels, x.shape[-1] >> levels
    assert np.allclose(ours[:h, :w], ref[0], atol=1e-9)
    for bands in ref[1:]:
        horizontal, vertical, diagonal = bands
        assert np.allclose(ours[:h, w : 2 * w], horizontal, atol=1e-9)
        assert np.allclose(ours[h : 2 * h, :w], vertical, atol=1e-9)
        assert np.allclose(ours[h : 2 * h, w : 2 * w], diagonal, atol=1e-9)
        h, w = 2 * h, 2 * w


@pytest.mark.parametrize("wavelet", SOME)
def test_the_transform_matrix_is_orthogonal(wavelet):
    """W built column by column: WᵀW = WWᵀ = I (not only on random vectors)."""
    side = _size(wavelet, 2)
    n = side * side
    basis = torch.eye(n, dtype=torch.float64).reshape(1, n, side, side)  # one channel a pixel
    matrix = forward(basis, 2, wavelet).reshape(n, n).T  # column j = W e_j
    identity = torch.eye(n, dtype=torch.float64)
    assert torch.allclose(matrix.T @ matrix, identity, atol=1e-9)
    assert torch.allclose(matrix @ matrix.T, identity, atol=1e-9)
    back = inverse(forward(basis, 2, wavelet), 2, wavelet)
    assert torch.allclose(back, basis, atol=1e-9)


def test_usable_levels_follow_the_size_and_the_filter_length():
    assert usable_levels((1, 1, 64, 64), 5, "haar") == 5
    assert usable_levels((1, 1, 64, 64), 5, "db4") == 4  # 64 → 32 → 16 → 8 → 4 (< 8 taps)
    assert usable_levels((1, 1, 64, 64), 5, "sym8") == 3  # 16 taps
    assert usable_levels((1, 1, 64, 48), 9, "haar") == 4  # 48 = 16 · 3
    assert usable_levels((1, 1, 63, 64), 4, "db4") == 0  # odd: no orthonormal level
    assert usable_levels((1, 1, 8, 8), 3, "sym8") == 0  # smaller than the filter


def test_unknown_or_non_orthogonal_wavelet_is_refused():
    with pytest.raises(ValueError, match="unknown wavelet 'bior2.2'"):
        WaveletSparsity(0.1, wavelet="bior2.2")
    with pytest.raises(ValueError, match="p must be a number"):
        WaveletSparsity(0.1, p="db4")


def _brute_force_shrink(c: np.ndarray, t: float, p: float) -> np.ndarray:
    """argmin_v t φ_p(v) + ½(v − c)² for each coefficient, by a grid search (0 always a candidate)."""
    grid = np.linspace(-3.0, 3.0, 60001)  # step 1e-4; includes 0
    if p == 1:
        phi = np.abs(grid)
    elif p == 0:
        phi = (grid != 0).astype(float)
    else:
        phi = np.abs(grid) ** p
    out = np.empty_like(c)
    for i, value in enumerate(c):
        out[i] = grid[np.argmin(t * phi + 0.5 * (grid - value) ** 2)]
    return out


@pytest.mark.parametrize("wavelet", ("haar", "db4", "sym8"))
@pytest.mark.parametrize("p", (1.0, 0.5, 0.0))
def test_wavelet_prox_matches_brute_force(wavelet, p):
    """prox_{γg}(z) = Wᵀ shrink(W z): its detail coefficients are the per-coefficient minimisers."""
    side = _size(wavelet, 2)
    gen = torch.Generator().manual_seed(3)
    z = torch.randn(1, 1, side, side, generator=gen, dtype=torch.float64)
    prior = WaveletSparsity(0.5, p=p, levels=2, wavelet=wavelet)
    gamma = 0.8
    x, gx = prior.prox_with_value(z, gamma)
    assert gx == pytest.approx(prior.value(x), rel=1e-9, abs=1e-9)

    mask = detail_mask(z.shape, 2).bool()
    cz, cx = forward(z, 2, wavelet)[0, 0], forward(x, 2, wavelet)[0, 0]
    assert torch.allclose(cx[~mask], cz[~mask], atol=1e-9)  # the coarse band is left free
    expected = _brute_force_shrink(cz[mask].numpy(), gamma * prior.weight, p)
    ours = cx[mask].numpy()
    near_threshold = np.abs(ours - expected) > 2e-4  # a tie on the grid: compare objectives
    t = gamma * prior.weight

    def objective(v, c):
        phi = np.abs(v) if p == 1 else (v != 0).astype(float) if p == 0 else np.abs(v) ** p
        return t * phi + 0.5 * (v - c) ** 2

    cz_masked = cz[mask].numpy()
    ours_clean = np.where(np.abs(ours) < 1e-9, 0.0, ours)
    assert np.all(objective(ours_clean, cz_masked) <= objective(expected, cz_masked) + 1e-7), (
        "the prox is beaten by the grid"
    )
    assert near_threshold.mean() < 0.02

    # and in the image domain: nothing on random nearby points does better
    def total(v):
        return gamma * prior.value(v) + 0.5 * float(torch.sum((v - z) ** 2))

    best = total(x)
    for scale in (1e-2, 1e-3):
        for _ in range(10):
            assert best <= total(x + scale * torch.randn(x.shape, generator=gen, dtype=x.dtype))


def test_constant_images_cost_nothing_with_any_wavelet():
    x = torch.full((1, 3, 64, 64), 0.3)
    for name in SOME:
        prior = WaveletSparsity(1.0, p=0.5, levels=4, wavelet=name)
        assert prior.value(x) == pytest.approx(0.0, abs=1e-3)
        assert torch.allclose(prior.prox(x, 1.0), x, atol=1e-5)


def test_prior_spec_names_the_wavelet():
    spec = parse_prior_spec("wavelet:wavelet=db4,levels=4,p=1")
    assert spec == {"name": "wavelet", "wavelet": "db4", "levels": 4.0, "p": 1.0}
    with pytest.raises(InputError, match="key=number"):
        parse_prior_spec("wavelet:p=db4")
    image = torch.rand(1, 1, 64, 64)
    settings = build_task(
        "deblur", image, prior="wavelet:wavelet=db4,levels=4,p=1", module="none"
    ).settings["prior"]
    assert settings["wavelet"] == "db4" and settings["levels"] == 4 and settings["p"] == 1.0
    default = build_task("deblur", image, module="none", prior="wavelet").settings["prior"]
    assert (
        default["name"] == "wavelet" and default["wavelet"] == "haar"
    )  # haar stays the wavelet default
    with pytest.raises(InputError) as info:
        build_task("deblur", image, prior="wavelet:wavelet=db99", module="none")
    assert "unknown wavelet 'db99'" in str(info.value) and "\n" not in str(info.value)


def test_smoothing_support_speaks_the_priors_wavelet():
    """The smooth task's support module keeps db2 coefficients when the prior is on db2."""
    image = torch.rand(1, 1, 64, 64)
    setup = build_task("smooth", image, prior="wavelet:wavelet=db2,p=0")
    prior = setup.problem.prior
    assert prior.wavelet == "db2"
    module = SmoothingSupport(L0Smoothing(fidelity_step=False))
    u = module(setup.problem.x0, 0, setup.parameters, setup.problem)
    assert u.shape == image.shape and bool(torch.isfinite(u).all())
    coefficients, levels = prior.transform(u)
    z = setup.problem.fidelity.prox(setup.problem.x0, setup.parameters.rho)
    kept = coefficients.abs() > 1e-5
    # where u has a db2 coefficient it is z's own (the module only selects, in the prior's basis)
    assert torch.allclose(coefficients[kept], prior.transform(z)[0][kept], atol=1e-4)
    assert 0 < float(kept.float().mean()) < 1 and levels == prior.levels
