"""Edge-preserving experience modules: ℓ0-gradient smoothing (Xu et al. 2011) and the guided filter.

:func:`l0_gradient_smoothing` minimises ‖S − I‖² + κ‖∇S‖₀ (the number of pixels with a non-zero
gradient, channels counted together) by half-quadratic splitting: alternately hard-threshold the
gradient field h, v (keep where |h|² + |v|² ≥ κ/β) and solve (1 + β DᵀD) S = I + β Dᵀ(h, v) by FFT,
with β growing geometrically from 2κ to ``beta_max``. The result is piecewise flat with sharp steps —
what the ``smooth`` task wants — at the cost of about 20 FFT pairs.

:func:`guided_filter` is He et al.'s (2010) local linear filter q = a·G + b (box means, radius r, ε);
with the image as its own guide it smooths flat regions and keeps strong edges.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from ..params import Parameters
from .base import Module

Tensor = torch.Tensor


def _difference_otfs(h: int, w: int, device) -> tuple[Tensor, Tensor]:
    fx = torch.zeros(h, w, device=device)
    fy = torch.zeros(h, w, device=device)
    fx[0, 0], fx[0, -1] = -1.0, 1.0
    fy[0, 0], fy[-1, 0] = -1.0, 1.0
    return torch.fft.fft2(fx), torch.fft.fft2(fy)


def l0_gradient_smoothing(
    image: Tensor, kappa: float, rate: float = 2.0, beta_max: float = 1e5
) -> Tensor:
    """argmin_S ‖S − I‖² + κ‖∇S‖₀ approximately (Xu et al. 2011), periodic boundary, any channels."""
    if kappa <= 0:
        return image.clone()
    h, w = image.shape[-2:]
    otf_x, otf_y = _difference_otfs(h, w, image.device)
    denominator = (otf_x.abs() ** 2 + otf_y.abs() ** 2).to(image.dtype)
    spectrum = torch.fft.fft2(image)
    smooth = image.clone()
    beta = 2.0 * kappa
    while beta < beta_max:
        dh = torch.roll(smooth, -1, dims=-1) - smooth
        dv = torch.roll(smooth, -1, dims=-2) - smooth
        small = (dh * dh + dv * dv).sum(dim=1, keepdim=True) < kappa / beta
        dh = dh.masked_fill(small, 0.0)
        dv = dv.masked_fill(small, 0.0)
        div = (torch.roll(dh, 1, dims=-1) - dh) + (torch.roll(dv, 1, dims=-2) - dv)  # Dᵀ(h, v)
        smooth = torch.fft.ifft2((spectrum + beta * torch.fft.fft2(div)) / (1 + beta * denominator))
        smooth = smooth.real
        beta *= rate
    return smooth


def _box(x: Tensor, radius: int) -> Tensor:
    k = 2 * radius + 1
    padded = F.pad(x, (radius, radius, radius, radius), mode="reflect")
    return F.avg_pool2d(padded, k, stride=1)


def guided_filter(image: Tensor, guide: Tensor, radius: int = 4, eps: float = 1e-2) -> Tensor:
    """He et al.'s guided filter q = mean(a)·G + mean(b), per channel of ``image`` (grey guide ok)."""
    radius = max(1, min(int(radius), min(image.shape[-2:]) // 2 - 1))
    if guide.shape[1] != image.shape[1]:
        guide = guide.mean(dim=1, keepdim=True).expand_as(image)
    mean_g, mean_i = _box(guide, radius), _box(image, radius)
    cov = _box(guide * image, radius) - mean_g * mean_i
    var = _box(guide * guide, radius) - mean_g * mean_g
    a = cov / (var + eps)
    b = mean_i - a * mean_g
    return _box(a, radius) * guide + _box(b, radius)


class L0Smoothing(Module):
    """A = ℓ0-gradient smoothing of A_f(x^k) with κ = (``strength``·σ^k)²: steps below ~σ^k vanish."""

    name = "l0"

    def __init__(self, strength: float = 1.0, fidelity_step: bool = True):
        self.strength = float(strength)
        self.fidelity_step = bool(fidelity_step)

    def __call__(self, x: Tensor, k: int, params: Parameters, problem) -> Tensor:
        """u = L0Smooth(A_f(x^k), κ = (strength·σ^k)²)."""
        if self.fidelity_step:
            x = problem.fidelity.prox(x, params.rho)
        sigma = self.strength * params.sigma_at(k)
        return l0_gradient_smoothing(x, sigma * sigma)

    def describe(self) -> dict:
        """Settings."""
        return {"name": self.name, "strength": self.strength, "fidelity_step": self.fidelity_step}


class GuidedSmoothing(Module):
    """A = self-guided filter of A_f(x^k) with ε = (``strength``·σ^k)² and radius ``radius``."""

    name = "guided"

    def __init__(self, radius: int = 4, strength: float = 1.0, fidelity_step: bool = True):
        self.radius = int(radius)
        self.strength = float(strength)
        self.fidelity_step = bool(fidelity_step)

    def __call__(self, x: Tensor, k: int, params: Parameters, problem) -> Tensor:
        """u = GuidedFilter(z, guide z, ε = (strength·σ^k)²) with z = A_f(x^k)."""
        if self.fidelity_step:
            x = problem.fidelity.prox(x, params.rho)
        sigma = self.strength * params.sigma_at(k)
        return guided_filter(x, x, self.radius, max(sigma * sigma, 1e-8))

    def describe(self) -> dict:
        """Settings."""
        return {"name": self.name, "radius": self.radius, "strength": self.strength}


class SmoothingSupport(Module):
    """A = the wavelet coefficients of z = A_f(x^k) where an edge-preserving smoother S(z) has any.

    u = Wᵀ(W z ⊙ 1[|W S(z)| > t]) with t = ``threshold``·σ^k: S (ℓ0-gradient smoothing by default)
    decides which coefficients carry the cartoon, the data keep their values. W is the prior's own
    (Haar unless the prior names another wavelet): the smoother speaks the language of the
    wavelet-sparsity prior g, so FIMA's check can accept it as it is.
    """

    def __init__(self, smoother: Module | None = None, threshold: float = 0.25, levels: int = 4):
        self.smoother = smoother if smoother is not None else L0Smoothing(fidelity_step=False)
        self.threshold = float(threshold)
        self.levels = int(levels)
        self.name = self.smoother.name

    def __call__(self, x: Tensor, k: int, params: Parameters, problem) -> Tensor:
        """u = Wᵀ(W z ⊙ 1[|W S(z)| > t]), z = A_f(x^k)."""
        from ..wavelets import detail_mask, forward, inverse, usable_levels

        z = problem.fidelity.prox(x, params.rho)
        smooth = self.smoother(z, k, params, problem)
        wavelet = getattr(problem.prior, "wavelet", "haar")  # the prior's own W
        levels = usable_levels(z.shape, getattr(problem.prior, "levels", self.levels), wavelet)
        detail = detail_mask(z.shape, levels, device=z.device).bool()
        keep = forward(smooth, levels, wavelet).abs() > self.threshold * params.sigma_at(k)
        return inverse(forward(z, levels, wavelet) * (keep | ~detail), levels, wavelet)

    def describe(self) -> dict:
        """Settings."""
        return {"name": self.name, "support_threshold": self.threshold, "levels": self.levels}
