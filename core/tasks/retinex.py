"""Retinex pieces for low-light enhancement: synthetic illumination, the initial estimate, y / t.

Retinex (LIME, Guo et al. 2017): a dark colour image y = t ⊙ R + n, t the illumination (one map for all
channels), R the reflectance (the well-lit image). The max over colour channels is a lower bound of
t (R ≤ 1) and LIME's initial estimate; its max over a small window (the bright channel) is a
tighter one where the window holds a bright surface, and is used as t̂; an illumination map solved from it is smooth, and the
enhanced image is R̂ = D(y) / t^γ_e with a light denoise D (noise in dark regions is amplified by 1/t)
and an exposure gamma γ_e < 1 that brightens less where t is very small.
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..priors import Prior

Tensor = torch.Tensor


def synthetic_illumination(
    shape: tuple[int, int], seed: int, lo: float = 0.05, hi: float = 0.35
) -> Tensor:
    """A smooth illumination map in [lo, hi], shape (1, 1, H, W): ambient + three soft lights."""
    rng = np.random.default_rng(seed)
    h, w = shape
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    light = np.full((h, w), 0.1)
    for _ in range(3):
        cy, cx = rng.uniform(0.1, 0.9, 2)
        width = rng.uniform(0.15, 0.35)
        light += rng.uniform(0.4, 1.0) * np.exp(-((yy - cy) ** 2 + (xx - cx) ** 2) / (2 * width**2))
    light = (light - light.min()) / (light.max() - light.min())
    return torch.tensor(lo + (hi - lo) * light, dtype=torch.float32)[None, None]


def initial_illumination(y: Tensor, radius: int = 7) -> Tensor:
    """t̂ = the bright channel: max over colour channels and a (2r+1)² window, shape (1, 1, H, W)."""
    t = y.amax(dim=1, keepdim=True)
    if radius > 0:
        t = torch.nn.functional.max_pool2d(t, 2 * radius + 1, stride=1, padding=radius)
    return t


def enhance(
    y: Tensor,
    t: Tensor,
    exposure: float = 0.8,
    floor: float = 0.02,
    denoiser=None,
    noise: float = 0.0,
) -> Tensor:
    """R̂ = D(y) / max(t, floor)^exposure, clipped to [0, 1] (D: ``denoiser`` at σ = ``noise``)."""
    if denoiser is not None and noise > 0:
        y = denoiser(y, noise)
    out = y / t.clamp(min=floor) ** exposure
    return out.clamp(0.0, 1.0)


class IlluminationBox(Prior):
    """g(t) = ι{m ≤ t ≤ 1} with m = max(max_c y, ε) per pixel: R = y/t ≤ 1 needs t ≥ max_c y."""

    name = "illumination_box"
    fixed_weight = True

    def __init__(self, lower: Tensor, floor: float = 0.02, tolerance: float = 1e-6):
        self.lower = lower.clamp(min=floor, max=1.0)
        self.floor = float(floor)
        self.tolerance = float(tolerance)

    def value(self, t: Tensor) -> float:
        """0 inside the per-pixel box (to a small tolerance), +∞ outside."""
        tol = self.tolerance
        inside = bool(((t >= self.lower - tol) & (t <= 1.0 + tol)).all())
        return 0.0 if inside else math.inf

    def prox(self, z: Tensor, gamma: float) -> Tensor:
        """Projection onto [m, 1] (exact)."""
        return torch.minimum(torch.maximum(z, self.lower), torch.ones_like(z))

    def prox_with_value(self, z: Tensor, gamma: float) -> tuple[Tensor, float]:
        """(projection, 0)."""
        return self.prox(z, gamma), 0.0

    def describe(self) -> dict:
        """Settings (the bound is rebuilt from y by the task)."""
        return {"name": self.name, "floor": self.floor}
