"""Image quality metrics in torch: PSNR and SSIM (Wang et al. 2004, 11×11 Gaussian window, σ = 1.5).

Both are computed in float64 on the device of x (the reference is brought there), with elementwise
operations and sums only — SSIM's Gaussian window is applied as 11 shifted sums per direction, not as
a convolution (no cuDNN algorithm choice, no TF32) — so the same x gives the same scores on the CPU
and on CUDA, in any process, up to the last bits of the final mean.
"""

from __future__ import annotations

import math

import torch

Tensor = torch.Tensor
SIZE, SIGMA = 11, 1.5
_WEIGHTS: tuple[float, ...] = ()


def _pair(x: Tensor, reference: Tensor, peak: float) -> tuple[Tensor, Tensor]:
    """x clipped to [0, peak] and the reference, both float64 on x's device."""
    x = x.detach().to(torch.float64).clamp(0.0, peak)
    return x, reference.detach().to(device=x.device, dtype=torch.float64)


def psnr(x: Tensor, reference: Tensor, peak: float = 1.0) -> float:
    """PSNR = 10 log₁₀(peak² / MSE) in dB (x clipped to [0, peak] first)."""
    x, y = _pair(x, reference, peak)
    mse = float(torch.mean((x - y) ** 2))
    if not math.isfinite(mse):
        return math.nan
    return math.inf if mse == 0 else 10.0 * math.log10(peak * peak / mse)


def _weights() -> tuple[float, ...]:
    """The normalised 1-D Gaussian window (11 taps, σ = 1.5) as Python floats."""
    global _WEIGHTS
    if not _WEIGHTS:
        g = [math.exp(-((i - SIZE // 2) ** 2) / (2 * SIGMA**2)) for i in range(SIZE)]
        total = math.fsum(g)
        _WEIGHTS = tuple(v / total for v in g)
    return _WEIGHTS


def _blur(x: Tensor) -> Tensor:
    """The separable Gaussian window over the valid positions: shifted sums along W, then H."""
    g = _weights()
    h, w = x.shape[-2:]
    rows = x[..., :, : w - SIZE + 1] * g[0]
    for i in range(1, SIZE):
        rows.add_(x[..., :, i : i + w - SIZE + 1], alpha=g[i])
    out = rows[..., : h - SIZE + 1, :] * g[0]
    for i in range(1, SIZE):
        out.add_(rows[..., i : i + h - SIZE + 1, :], alpha=g[i])
    return out


def ssim(x: Tensor, reference: Tensor, peak: float = 1.0) -> float:
    """Mean SSIM over valid 11×11 Gaussian windows and channels (x clipped to [0, peak])."""
    if min(x.shape[-2:]) < SIZE:
        return math.nan
    x, y = _pair(x, reference, peak)
    c1, c2 = (0.01 * peak) ** 2, (0.03 * peak) ** 2
    mx, my = _blur(x), _blur(y)
    sxx = _blur(x * x) - mx * mx
    syy = _blur(y * y) - my * my
    sxy = _blur(x * y) - mx * my
    num = (2 * mx * my + c1) * (2 * sxy + c2)
    den = (mx * mx + my * my + c1) * (sxx + syy + c2)
    return float((num / den).mean())
