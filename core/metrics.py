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


def _as_float64(x: Tensor, device: torch.device | None = None) -> Tensor:
    """A detached float64 copy (on ``device``, default x's own)."""
    return x.detach().to(device=device or x.device, dtype=torch.float64)


def psnr(x: Tensor, reference: Tensor, peak: float = 1.0) -> float:
    """PSNR = 10 log₁₀(peak² / MSE) in dB (x clipped to [0, peak] first)."""
    return ScoredReference(reference, peak).psnr(x)


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
    return ScoredReference(reference, peak).ssim(x)


class ScoredReference:
    """The reference's side of PSNR and SSIM, made once per device and kept for a whole run.

    y in float64, and for SSIM its local mean μ_y and second moment E[y²] under the window: two of
    SSIM's five blurs, which every iteration of a run would otherwise recompute (the same
    arithmetic, so the same scores to the bit as :func:`psnr` and :func:`ssim`)."""

    def __init__(self, reference: Tensor, peak: float = 1.0) -> None:
        self.reference = reference.detach()
        self.peak = float(peak)
        self._y: dict[torch.device, Tensor] = {}
        self._moments: dict[torch.device, tuple[Tensor, Tensor]] = {}

    def _x_and_y(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """x clipped to [0, peak] and y, both float64 on x's device."""
        device = x.device
        if device not in self._y:
            self._y[device] = _as_float64(self.reference, device)
        return _as_float64(x).clamp(0.0, self.peak), self._y[device]

    def psnr(self, x: Tensor) -> float:
        """PSNR of x against the reference, in dB."""
        x, y = self._x_and_y(x)
        mse = float(torch.mean((x - y) ** 2))
        if not math.isfinite(mse):
            return math.nan
        return math.inf if mse == 0 else 10.0 * math.log10(self.peak * self.peak / mse)

    def ssim(self, x: Tensor) -> float:
        """Mean SSIM of x against the reference (NaN below one 11×11 window)."""
        if min(x.shape[-2:]) < SIZE:
            return math.nan
        x, y = self._x_and_y(x)
        if x.device not in self._moments:
            self._moments[x.device] = (_blur(y), _blur(y * y))
        my, eyy = self._moments[x.device]
        c1, c2 = (0.01 * self.peak) ** 2, (0.03 * self.peak) ** 2
        mx = _blur(x)
        sxx = _blur(x * x) - mx * mx
        syy = eyy - my * my
        sxy = _blur(x * y) - mx * my
        num = (2 * mx * my + c1) * (2 * sxy + c2)
        den = (mx * mx + my * my + c1) * (sxx + syy + c2)
        return float((num / den).mean())
