"""Orthonormal 2-D wavelet transforms W (WᵀW = WWᵀ = I) in torch, through ptwt (PyTorch Wavelet Toolbox).

Any orthogonal PyWavelets family is offered: ``haar``, ``dbN``, ``symN``, ``coifN``
(:func:`wavelet_names`). The boundary is periodic in PyWavelets' ``periodization`` sense: each level
maps an h × w band to four h/2 × w/2 bands, circularly, so the transform is square and orthonormal and
the proximal map of a coefficient penalty is exact. ptwt has no such mode (its ``periodic`` mode keeps
L/2 − 1 extra, redundant coefficients a side), so each level runs ptwt's periodic-padded filter bank
(its 2-D one for filters up to 16 taps; beyond, 1-D along W then H, O(L) work a pixel, not O(L²))
and keeps one period of its output, aligned to match ``pywt.dwt2(..., mode="periodization")``
exactly (the tests compare the two). The inverse runs ptwt's synthesis on that period extended
circularly.

Tensors are (1, C, H, W) (any leading dims); each level halves H and W, so the number of levels is
limited by the image size (:func:`usable_levels`). Coefficients are packed in a tensor of the image's
own shape (Mallat layout: coarse band top-left, then per level horizontal | vertical / diagonal
details), which keeps priors simple: ‖W x‖ = ‖x‖.
"""

from __future__ import annotations

from functools import cache

import ptwt
import pywt
import torch
import torch.nn.functional as F

Tensor = torch.Tensor
FAMILIES = ("haar", "db", "sym", "coif")  # the orthogonal PyWavelets families offered
SEPARABLE_ABOVE = 16  # filters longer than this run as two 1-D passes (faster than L × L taps)


@cache
def wavelet_names() -> tuple[str, ...]:
    """Names accepted as ``wavelet=``: haar, db1…db38, sym2…sym20, coif1…coif17."""
    return tuple(name for family in FAMILIES for name in pywt.wavelist(family))


def check_wavelet(name: str) -> str:
    """``name`` if it is an offered orthogonal wavelet, else ValueError with a one-line reason."""
    if name not in wavelet_names():
        raise ValueError(
            f"unknown wavelet {name!r}: choose an orthogonal family member "
            "(haar, db1…db38, sym2…sym20, coif1…coif17)"
        )
    return name


@cache
def _filters(wavelet: str) -> pywt.Wavelet:
    """The PyWavelets filter bank (made once: ptwt would rebuild it from the name every call)."""
    return pywt.Wavelet(check_wavelet(wavelet))


def filter_length(wavelet: str) -> int:
    """Length L of the wavelet's decomposition filters (2 for Haar, 8 for db4, 16 for sym8)."""
    return _filters(wavelet).dec_len


def usable_levels(shape: tuple[int, ...], requested: int, wavelet: str = "haar") -> int:
    """Largest level count ≤ ``requested`` for which H and W are even and ≥ L at every level."""
    length = filter_length(wavelet)
    h, w = shape[-2:]
    levels = 0
    while levels < requested and h % 2 == 0 and w % 2 == 0 and h >= length and w >= length:
        h //= 2
        w //= 2
        levels += 1
    return levels


def _alignment(wavelet: str) -> tuple[int, int]:
    """(input shift r, output offset j) that turn ptwt's periodic mode into pywt's periodization."""
    half = filter_length(wavelet) // 2 - 1  # the redundant coefficients ptwt adds a side
    return half % 2, half // 2


def _analysis_1d(x: Tensor, wavelet: str, axis: int) -> tuple[Tensor, Tensor]:
    """One periodized level along ``axis`` (-1 or -2) of a 4-D tensor: (low-pass, high-pass)."""
    shift, offset = _alignment(wavelet)
    half = x.shape[axis] // 2
    if shift:
        x = torch.roll(x, -shift, dims=axis)
    low, high = ptwt.wavedec(x, _filters(wavelet), mode="periodic", level=1, axis=axis)
    return low.narrow(axis, offset, half), high.narrow(axis, offset, half)


def _synthesis_1d(low: Tensor, high: Tensor, wavelet: str, axis: int) -> Tensor:
    """The adjoint (= inverse) of :func:`_analysis_1d`: one period, extended circularly, synthesised."""
    shift, offset = _alignment(wavelet)
    extra = filter_length(wavelet) // 2 - 1 - offset
    if offset or extra:
        pad = (offset, extra, 0, 0) if axis == -1 else (0, 0, offset, extra)
        low, high = F.pad(low, pad, mode="circular"), F.pad(high, pad, mode="circular")
    x = ptwt.waverec([low, high], _filters(wavelet), axis=axis)
    return torch.roll(x, shift, dims=axis) if shift else x


def _analysis_2d(x: Tensor, wavelet: str) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """One periodized 2-D level with ptwt's 2-D filter bank (one convolution, L × L taps)."""
    shift, offset = _alignment(wavelet)
    h, w = x.shape[-2] // 2, x.shape[-1] // 2
    if shift:
        x = torch.roll(x, (-shift, -shift), dims=(-2, -1))
    approx, details = ptwt.wavedec2(x, _filters(wavelet), mode="periodic", level=1)
    return tuple(b[..., offset : offset + h, offset : offset + w] for b in (approx, *details))


def _synthesis_2d(bands: tuple[Tensor, Tensor, Tensor, Tensor], wavelet: str) -> Tensor:
    """The adjoint (= inverse) of :func:`_analysis_2d`."""
    shift, offset = _alignment(wavelet)
    extra = filter_length(wavelet) // 2 - 1 - offset
    if offset or extra:
        pad = (offset, extra, offset, extra)
        bands = tuple(F.pad(b, pad, mode="circular") for b in bands)
    approx, *details = bands
    x = ptwt.waverec2((approx, tuple(details)), _filters(wavelet))
    return torch.roll(x, (shift, shift), dims=(-2, -1)) if shift else x


def _analysis(x: Tensor, wavelet: str) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    """One 2-D level: (approximation, horizontal, vertical, diagonal), each half-size."""
    if filter_length(wavelet) <= SEPARABLE_ABOVE:
        return _analysis_2d(x, wavelet)
    low, high = _analysis_1d(x, wavelet, -1)  # separable: along W
    approx, horizontal = _analysis_1d(low, wavelet, -2)  # then along H
    vertical, diagonal = _analysis_1d(high, wavelet, -2)
    return approx, horizontal, vertical, diagonal


def _synthesis(bands: tuple[Tensor, Tensor, Tensor, Tensor], wavelet: str) -> Tensor:
    """The adjoint (= inverse) of :func:`_analysis`."""
    if filter_length(wavelet) <= SEPARABLE_ABOVE:
        return _synthesis_2d(bands, wavelet)
    approx, horizontal, vertical, diagonal = bands
    low = _synthesis_1d(approx, horizontal, wavelet, -2)
    high = _synthesis_1d(vertical, diagonal, wavelet, -2)
    return _synthesis_1d(low, high, wavelet, -1)


def _as_4d(x: Tensor) -> Tensor:
    """(…, H, W) as (B, 1, H, W): the filter banks work on one plane at a time."""
    return x.reshape(-1, 1, *x.shape[-2:])


def forward(x: Tensor, levels: int, wavelet: str = "haar") -> Tensor:
    """W x: ``levels`` orthonormal periodized levels, coefficients in Mallat layout (x's shape)."""
    if levels <= 0:
        return x.clone()
    details = []
    approx = _as_4d(x)
    for _ in range(levels):
        approx, *bands = _analysis(approx, wavelet)
        details.append(bands)
    packed = approx
    for horizontal, vertical, diagonal in reversed(details):
        top = torch.cat([packed, horizontal], dim=-1)
        packed = torch.cat([top, torch.cat([vertical, diagonal], dim=-1)], dim=-2)
    return packed.reshape(x.shape)


def inverse(y: Tensor, levels: int, wavelet: str = "haar") -> Tensor:
    """Wᵀ y (= W⁻¹ y) for coefficients in the layout of :func:`forward`."""
    if levels <= 0:
        return y.clone()
    height, width = y.shape[-2:]
    planes = _as_4d(y)
    approx = planes[..., : height >> levels, : width >> levels]
    for j in reversed(range(levels)):
        h, w = height >> (j + 1), width >> (j + 1)
        block = planes[..., : 2 * h, : 2 * w]
        bands = (approx, block[..., :h, w:], block[..., h:, :w], block[..., h:, w:])
        approx = _synthesis(bands, wavelet)
    return approx.reshape(y.shape)


def haar_forward(x: Tensor, levels: int) -> Tensor:
    """W x for the Haar wavelet (:func:`forward` with ``wavelet="haar"``)."""
    return forward(x, levels, "haar")


def haar_inverse(y: Tensor, levels: int) -> Tensor:
    """Wᵀ y for the Haar wavelet."""
    return inverse(y, levels, "haar")


def detail_mask(shape: tuple[int, ...], levels: int, device=None) -> Tensor:
    """1 on detail coefficients, 0 on the coarsest approximation band (which priors leave free)."""
    mask = torch.ones(shape[-2:], device=device)
    if levels:
        mask[: shape[-2] >> levels, : shape[-1] >> levels] = 0.0
    return mask
