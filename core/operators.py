"""Linear forward operators T with their adjoints Tᵀ.

Every operator acts on real images of shape (1, C, H, W) and provides

* ``forward(x)``  — T x
* ``adjoint(y)``  — Tᵀ y, so that ⟨T x, y⟩ = ⟨x, Tᵀ y⟩
* ``norm_sq()``   — ‖T‖², the Lipschitz constant of ∇(½‖T x − y‖²)
* ``solve_normal(rhs, rho)`` — x with (TᵀT + ρ I) x = rhs, used by the closed-form prox of f.

Blur is a *circular* convolution computed by FFT (periodic boundary): the kernel is centred on the
origin, so ``forward`` does not shift the image.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from .precision import exact_float32

Tensor = torch.Tensor


class LinearOperator:
    """A linear map T on images with an adjoint; subclasses override the four methods."""

    name = "linear"

    def forward(self, x: Tensor) -> Tensor:
        """Apply T."""
        raise NotImplementedError

    def adjoint(self, y: Tensor) -> Tensor:
        """Apply Tᵀ."""
        raise NotImplementedError

    def gram(self, x: Tensor) -> Tensor:
        """Apply TᵀT."""
        return self.adjoint(self.forward(x))

    def norm_sq(self, shape: tuple[int, ...] | None = None, iterations: int = 50) -> float:
        """‖T‖² estimated by power iteration on TᵀT (exact where a subclass knows it), on the
        operator's ``device`` attribute when it has one (else the CPU)."""
        if shape is None:
            raise ValueError("power iteration needs the image shape")
        return power_iteration(self.gram, shape, iterations, device=getattr(self, "device", "cpu"))

    def solve_normal(self, rhs: Tensor, rho: float) -> Tensor:
        """Solve (TᵀT + ρI) x = rhs; only operators diagonalised by the FFT implement it."""
        raise NotImplementedError(f"{type(self).__name__} has no closed-form normal-equation solve")


def power_iteration(
    apply: Callable[[Tensor], Tensor],
    shape: tuple[int, ...],
    iterations: int = 50,
    seed: int = 0,
    device: torch.device | str = "cpu",
) -> float:
    """Largest eigenvalue of the symmetric PSD map ``apply`` (acting on ``device``) by power
    iteration, in true float32; the start vector is drawn on the CPU (the same on every device)."""
    with exact_float32():
        return _power_iteration(apply, shape, iterations, seed, torch.device(device))


def _power_iteration(apply, shape, iterations: int, seed: int, device: torch.device) -> float:
    gen = torch.Generator().manual_seed(seed)
    v = torch.randn(shape, generator=gen).to(device)
    v /= v.norm()
    value = 0.0
    for _ in range(iterations):
        w = apply(v)
        value = float(torch.sum(v * w))
        norm = float(w.norm())
        if norm == 0.0:
            return 0.0
        v = w / norm
    return value


class Identity(LinearOperator):
    """T = I (denoising, smoothing)."""

    name = "identity"

    def forward(self, x: Tensor) -> Tensor:
        """Return x."""
        return x

    def adjoint(self, y: Tensor) -> Tensor:
        """Return y."""
        return y

    def norm_sq(self, shape: tuple[int, ...] | None = None, iterations: int = 0) -> float:
        """‖I‖² = 1."""
        return 1.0

    def solve_normal(self, rhs: Tensor, rho: float) -> Tensor:
        """x = rhs / (1 + ρ)."""
        return rhs / (1.0 + rho)


def host_array(data: np.ndarray | Tensor, dtype=np.float64) -> np.ndarray:
    """``data`` as a numpy array on the host (a tensor on any device is copied to the CPU first)."""
    if isinstance(data, Tensor):
        data = data.detach().to("cpu")
    return np.asarray(data, dtype=dtype)


def kernel_to_otf(kernel: np.ndarray | Tensor, shape: tuple[int, int]) -> Tensor:
    """Optical transfer function: the kernel zero-padded to ``shape``, centred at the origin, FFT-ed."""
    k = torch.as_tensor(host_array(kernel))
    kh, kw = k.shape
    h, w = shape
    if kh > h or kw > w:
        raise ValueError(f"kernel {kh}×{kw} is larger than the image {h}×{w}")
    padded = torch.zeros((h, w), dtype=torch.float64)
    padded[:kh, :kw] = k
    padded = torch.roll(padded, shifts=(-(kh // 2), -(kw // 2)), dims=(0, 1))
    return torch.fft.rfft2(padded)


class Blur(LinearOperator):
    """Circular convolution T x = k ⊛ x by FFT (periodic boundary), any kernel up to the image size."""

    name = "blur"

    def __init__(self, kernel: np.ndarray | Tensor, image_shape: tuple[int, int], device="cpu"):
        self.kernel = host_array(kernel)
        self.image_shape = tuple(int(s) for s in image_shape)
        otf = kernel_to_otf(self.kernel, self.image_shape)
        self.otf = otf.to(torch.complex64).to(device)
        self.otf_abs2 = (otf.abs() ** 2).to(torch.float32).to(device)

    def _apply(self, x: Tensor, otf: Tensor) -> Tensor:
        h, w = x.shape[-2:]
        if (h, w) != self.image_shape:
            raise ValueError(f"image is {h}×{w}, the blur was built for {self.image_shape}")
        return torch.fft.irfft2(torch.fft.rfft2(x) * otf, s=(h, w))

    def forward(self, x: Tensor) -> Tensor:
        """k ⊛ x."""
        return self._apply(x, self.otf)

    def adjoint(self, y: Tensor) -> Tensor:
        """Correlation with k (convolution with the flipped kernel)."""
        return self._apply(y, self.otf.conj())

    def gram(self, x: Tensor) -> Tensor:
        """TᵀT x with one FFT pair."""
        h, w = x.shape[-2:]
        return torch.fft.irfft2(torch.fft.rfft2(x) * self.otf_abs2, s=(h, w))

    def norm_sq(self, shape: tuple[int, ...] | None = None, iterations: int = 0) -> float:
        """‖T‖² = max |OTF|² (exact for circular convolution)."""
        return float(self.otf_abs2.max())

    def solve_normal(self, rhs: Tensor, rho: float) -> Tensor:
        """(TᵀT + ρI)⁻¹ rhs, diagonal in the Fourier domain."""
        h, w = rhs.shape[-2:]
        return torch.fft.irfft2(torch.fft.rfft2(rhs) / (self.otf_abs2 + rho), s=(h, w))

    def to(self, device) -> Blur:
        """Move the transfer function to ``device``."""
        self.otf = self.otf.to(device)
        self.otf_abs2 = self.otf_abs2.to(device)
        return self


def gaussian_kernel(sigma: float, size: int | None = None) -> np.ndarray:
    """Isotropic Gaussian kernel of standard deviation ``sigma`` pixels, odd size, sum 1."""
    if not (math.isfinite(sigma) and sigma > 0):
        raise ValueError(f"Gaussian blur sigma must be positive, got {sigma}")
    if size is None:
        size = 2 * math.ceil(3 * sigma) + 1
    r = np.arange(size) - (size - 1) / 2
    g = np.exp(-(r**2) / (2 * sigma**2))
    k = np.outer(g, g)
    return k / k.sum()


class MaskedFourier(LinearOperator):
    """Compressed-sensing MRI: T x = M ⊙ F x with F the orthonormal 2-D DFT and M a 0/1 mask.

    x is REAL (a magnitude image), y complex (k-space, complex64). ``mask`` is given DC-centred (as
    displayed) and applied to the unshifted FFT through ``ifftshift``. For real x,
    TᵀT = Fᴴ diag(M_s) F with the symmetrised mask M_s(k) = (M(k) + M(−k))/2, so ‖T‖² = max M_s
    (1 whenever the DC sample is taken) and (TᵀT + ρI) is diagonal in Fourier.
    """

    name = "masked_fourier"

    def __init__(self, mask: np.ndarray | Tensor, device="cpu"):
        centred = torch.as_tensor(host_array(mask, np.float32) != 0).to(torch.float32)
        if centred.dim() != 2:
            raise ValueError(f"a k-space mask must be 2-D, got shape {tuple(centred.shape)}")
        self.mask_centred = centred
        self.image_shape = tuple(int(s) for s in centred.shape)
        corner = torch.fft.ifftshift(centred)
        flipped = torch.roll(torch.flip(corner, dims=(0, 1)), shifts=(1, 1), dims=(0, 1))
        self.mask = corner.to(device)  # M in the FFT's own (DC at [0, 0]) layout
        self.mask_sym = (0.5 * (corner + flipped)).to(device)  # M_s(k) = (M(k) + M(−k))/2

    def _check(self, shape: tuple[int, ...]) -> None:
        if tuple(shape[-2:]) != self.image_shape:
            raise ValueError(f"image is {shape[-2]}×{shape[-1]}, the mask is {self.image_shape}")

    def forward(self, x: Tensor) -> Tensor:
        """M ⊙ F x (complex k-space, DC at index [0, 0])."""
        self._check(x.shape)
        return torch.fft.fft2(x, norm="ortho") * self.mask

    def adjoint(self, y: Tensor) -> Tensor:
        """Re(Fᴴ(M ⊙ y)): the adjoint for real x (⟨T x, y⟩ = Re Σ conj(T x) y)."""
        self._check(y.shape)
        return torch.fft.ifft2(y * self.mask, norm="ortho").real.contiguous()

    def gram(self, x: Tensor) -> Tensor:
        """TᵀT x = Fᴴ(M_s ⊙ F x)."""
        return torch.fft.ifft2(torch.fft.fft2(x, norm="ortho") * self.mask_sym, norm="ortho").real

    def norm_sq(self, shape: tuple[int, ...] | None = None, iterations: int = 0) -> float:
        """‖T‖² = max M_s (exact)."""
        return float(self.mask_sym.max())

    def solve_normal(self, rhs: Tensor, rho: float) -> Tensor:
        """(TᵀT + ρI)⁻¹ rhs = Fᴴ((F rhs) / (M_s + ρ)), real for real rhs."""
        spectrum = torch.fft.fft2(rhs, norm="ortho") / (self.mask_sym + rho)
        return torch.fft.ifft2(spectrum, norm="ortho").real.contiguous()

    def sampling_rate(self) -> float:
        """Fraction of k-space samples taken (the measured rate, not a nominal one)."""
        return float(self.mask_centred.mean())

    def to(self, device) -> MaskedFourier:
        """Move the mask to ``device``."""
        self.mask = self.mask.to(device)
        self.mask_sym = self.mask_sym.to(device)
        return self
