"""Image quality metrics in torch: PSNR and SSIM (Wang et al. 2004, 11×11 Gaussian window, σ = 1.5)."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

Tensor = torch.Tensor
_WINDOWS: dict = {}


def psnr(x: Tensor, reference: Tensor, peak: float = 1.0) -> float:
    """PSNR = 10 log₁₀(peak² / MSE) in dB (x clipped to [0, peak] first)."""
    mse = float(torch.mean((x.clamp(0.0, peak) - reference) ** 2))
    if not math.isfinite(mse):
        return math.nan
    return math.inf if mse == 0 else 10.0 * math.log10(peak * peak / mse)


def _window(device, dtype) -> Tensor:
    key = (device, dtype)
    if key not in _WINDOWS:
        r = torch.arange(11, dtype=torch.float64) - 5
        g = torch.exp(-(r**2) / (2 * 1.5**2))
        g = (g / g.sum()).to(device=device, dtype=dtype)
        _WINDOWS[key] = g
    return _WINDOWS[key]


def _blur(x: Tensor, g: Tensor) -> Tensor:
    c = x.shape[1]
    x = F.conv2d(x, g.view(1, 1, 1, -1).expand(c, 1, 1, -1), groups=c)
    return F.conv2d(x, g.view(1, 1, -1, 1).expand(c, 1, -1, 1), groups=c)


def ssim(x: Tensor, reference: Tensor, peak: float = 1.0) -> float:
    """Mean SSIM over valid 11×11 Gaussian windows and channels (x clipped to [0, peak])."""
    if min(x.shape[-2:]) < 11:
        return math.nan
    x = x.clamp(0.0, peak).to(torch.float64)
    y = reference.to(torch.float64)
    g = _window(x.device, x.dtype)
    c1, c2 = (0.01 * peak) ** 2, (0.03 * peak) ** 2
    mx, my = _blur(x, g), _blur(y, g)
    sxx = _blur(x * x, g) - mx * mx
    syy = _blur(y * y, g) - my * my
    sxy = _blur(x * y, g) - mx * my
    num = (2 * mx * my + c1) * (2 * sxy + c2)
    den = (mx * mx + my * my + c1) * (sxx + syy + c2)
    return float((num / den).mean())
