"""Orthonormal 2-D Haar wavelet transform W (WᵀW = WWᵀ = I) in torch, periodic and exact.

The transform works on (1, C, H, W) tensors; each level halves H and W, so the number of levels is
limited by how often 2 divides both sides (:func:`usable_levels`). Coefficients are packed in a
tensor of the image's own shape (Mallat layout), which keeps priors simple: ‖W x‖ = ‖x‖.
"""

from __future__ import annotations

import torch

Tensor = torch.Tensor
_S = 0.5  # 1/√2 · 1/√2: one 2-D Haar step on a 2×2 block


def usable_levels(shape: tuple[int, ...], requested: int) -> int:
    """Largest level count ≤ ``requested`` for which H and W stay divisible by 2 at every level."""
    h, w = shape[-2:]
    levels = 0
    while levels < requested and h % 2 == 0 and w % 2 == 0 and h >= 2 and w >= 2:
        h //= 2
        w //= 2
        levels += 1
    return levels


def _step(x: Tensor) -> Tensor:
    a, b = x[..., 0::2, 0::2], x[..., 0::2, 1::2]
    c, d = x[..., 1::2, 0::2], x[..., 1::2, 1::2]
    ll = (a + b + c + d) * _S
    lh = (a - b + c - d) * _S
    hl = (a + b - c - d) * _S
    hh = (a - b - c + d) * _S
    top = torch.cat([ll, lh], dim=-1)
    bottom = torch.cat([hl, hh], dim=-1)
    return torch.cat([top, bottom], dim=-2)


def _inverse_step(y: Tensor) -> Tensor:
    h, w = y.shape[-2] // 2, y.shape[-1] // 2
    ll, lh = y[..., :h, :w], y[..., :h, w:]
    hl, hh = y[..., h:, :w], y[..., h:, w:]
    x = torch.empty_like(y)
    x[..., 0::2, 0::2] = (ll + lh + hl + hh) * _S
    x[..., 0::2, 1::2] = (ll - lh + hl - hh) * _S
    x[..., 1::2, 0::2] = (ll + lh - hl - hh) * _S
    x[..., 1::2, 1::2] = (ll - lh - hl + hh) * _S
    return x


def haar_forward(x: Tensor, levels: int) -> Tensor:
    """W x: ``levels`` orthonormal Haar steps, coefficients in Mallat layout."""
    y = x.clone()
    h, w = x.shape[-2:]
    for _ in range(levels):
        y[..., :h, :w] = _step(y[..., :h, :w])
        h //= 2
        w //= 2
    return y


def haar_inverse(y: Tensor, levels: int) -> Tensor:
    """Wᵀ y (= W⁻¹ y)."""
    x = y.clone()
    for j in reversed(range(levels)):
        h, w = y.shape[-2] >> j, y.shape[-1] >> j
        x[..., :h, :w] = _inverse_step(x[..., :h, :w])
    return x


def detail_mask(shape: tuple[int, ...], levels: int, device=None) -> Tensor:
    """1 on detail coefficients, 0 on the coarsest approximation band (which priors leave free)."""
    mask = torch.ones(shape[-2:], device=device)
    if levels:
        mask[: shape[-2] >> levels, : shape[-1] >> levels] = 0.0
    return mask
