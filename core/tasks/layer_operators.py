"""Stacked difference operators for the low-light and rain-removal tasks (periodic boundary, FFT).

:class:`DifferenceStack` is T x = [a₀·x; a_h·∂_h x; a_v·∂_v x] stacked along the channel axis, with
periodic forward differences, so that ½‖T x − b‖² is a fidelity plus quadratic smoothness terms and
TᵀT = a₀² I + a_h² ∂_hᵀ∂_h + a_v² ∂_vᵀ∂_v is diagonal in Fourier: ‖T‖² and the normal-equation solve
are exact. Any weight may be 0 (then that block is left out of T).
"""

from __future__ import annotations

import math

import torch

from ..operators import LinearOperator

Tensor = torch.Tensor


def dh(x: Tensor) -> Tensor:
    """Periodic horizontal forward difference ∂_h x = x(·, j+1) − x(·, j)."""
    return torch.roll(x, -1, dims=-1) - x


def dv(x: Tensor) -> Tensor:
    """Periodic vertical forward difference ∂_v x = x(i+1, ·) − x(i, ·)."""
    return torch.roll(x, -1, dims=-2) - x


def dh_adjoint(p: Tensor) -> Tensor:
    """∂_hᵀ p."""
    return torch.roll(p, 1, dims=-1) - p


def dv_adjoint(p: Tensor) -> Tensor:
    """∂_vᵀ p."""
    return torch.roll(p, 1, dims=-2) - p


def _symbols(shape: tuple[int, int], device) -> tuple[Tensor, Tensor]:
    """|∂̂_h|², |∂̂_v|² on the rfft2 grid: 2 − 2cos(2πk/N)."""
    h, w = shape
    wx = 2 - 2 * torch.cos(2 * math.pi * torch.arange(w // 2 + 1, device=device) / w)
    wy = 2 - 2 * torch.cos(2 * math.pi * torch.arange(h, device=device) / h)
    return wx[None, :].expand(h, -1), wy[:, None].expand(-1, w // 2 + 1)


class DifferenceStack(LinearOperator):
    """T x = [a₀ x; a_h ∂_h x; a_v ∂_v x] (blocks with weight 0 left out), channels stacked."""

    name = "difference_stack"

    def __init__(self, identity: float = 1.0, horizontal: float = 0.0, vertical: float = 0.0):
        self.weights = (float(identity), float(horizontal), float(vertical))
        if any(not (math.isfinite(a) and a >= 0) for a in self.weights) or not any(self.weights):
            raise ValueError(f"difference stack weights must be ≥ 0, not all 0: {self.weights}")
        self._symbol_cache: dict = {}

    def _blocks(self) -> list[int]:
        return [i for i, a in enumerate(self.weights) if a > 0]

    def forward(self, x: Tensor) -> Tensor:
        """[a₀ x; a_h ∂_h x; a_v ∂_v x] concatenated along dim 1."""
        ops = (lambda t: t, dh, dv)
        return torch.cat([self.weights[i] * ops[i](x) for i in self._blocks()], dim=1)

    def adjoint(self, y: Tensor) -> Tensor:
        """Σ a_i D_iᵀ y_i."""
        ops = (lambda t: t, dh_adjoint, dv_adjoint)
        blocks = self._blocks()
        parts = torch.chunk(y, len(blocks), dim=1)
        return sum(self.weights[i] * ops[i](p) for i, p in zip(blocks, parts, strict=True))

    def _symbol(self, shape: tuple[int, int], device) -> Tensor:
        key = (tuple(shape), str(device))
        if key not in self._symbol_cache:
            sx, sy = _symbols(shape, device)
            a0, ah, av = self.weights
            self._symbol_cache[key] = (a0 * a0 + ah * ah * sx + av * av * sy).to(torch.float32)
        return self._symbol_cache[key]

    def gram(self, x: Tensor) -> Tensor:
        """TᵀT x by FFT."""
        h, w = x.shape[-2:]
        return torch.fft.irfft2(torch.fft.rfft2(x) * self._symbol((h, w), x.device), s=(h, w))

    def norm_sq(self, shape: tuple[int, ...] | None = None, iterations: int = 0) -> float:
        """‖T‖² = max of TᵀT's Fourier symbol (exact; 4 per direction when that side is even)."""
        if shape is None:
            a0, ah, av = self.weights
            return a0 * a0 + 4 * ah * ah + 4 * av * av
        return float(self._symbol(tuple(shape[-2:]), "cpu").max())

    def solve_normal(self, rhs: Tensor, rho: float) -> Tensor:
        """(TᵀT + ρI)⁻¹ rhs, diagonal in Fourier."""
        h, w = rhs.shape[-2:]
        symbol = self._symbol((h, w), rhs.device) + rho
        return torch.fft.irfft2(torch.fft.rfft2(rhs) / symbol, s=(h, w))
