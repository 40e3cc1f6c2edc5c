"""Classical denoisers behind the learned-denoiser interface ``denoiser(x, sigma) -> x̂``.

σ is the noise standard deviation on the [0, 1] intensity scale; each denoiser maps it to its own
strength. They are the "experience" modules A_g when no trained network is wanted.
"""

from __future__ import annotations

import numpy as np
import torch

from ..priors import TotalVariation

Tensor = torch.Tensor


class TVDenoiser:
    """ROF denoising: argmin_x ½‖x − z‖² + w·TV(x) with w = ``strength``·σ (FGP, torch, any device)."""

    name = "tv"

    def __init__(self, strength: float = 1.0, iterations: int = 30):
        self.strength = float(strength)
        self._tv = TotalVariation(1.0, isotropic=True, iterations=iterations)

    def __call__(self, x: Tensor, sigma: float) -> Tensor:
        """TV-denoised x at noise level σ."""
        return self._tv.prox(x, self.strength * float(sigma))

    def describe(self) -> dict:
        """Settings."""
        return {"denoiser": self.name, "strength": self.strength}


class _NumpyDenoiser:
    """Run a per-channel scikit-image denoiser on (1, C, H, W) tensors."""

    name = "numpy"

    def _denoise_channel(self, image: np.ndarray, sigma: float) -> np.ndarray:
        raise NotImplementedError

    def __call__(self, x: Tensor, sigma: float) -> Tensor:
        """Denoise each channel with scikit-image."""
        arr = x.detach().to("cpu", torch.float64).numpy()[0]
        out = np.stack([self._denoise_channel(c, float(sigma)) for c in arr])[None]
        return torch.from_numpy(out.astype(np.float32)).to(x.device)

    def describe(self) -> dict:
        """Settings."""
        return {"denoiser": self.name}


class WaveletDenoiser(_NumpyDenoiser):
    """Wavelet shrinkage (BayesShrink, soft, db1 … scikit-image ``denoise_wavelet``)."""

    name = "wavelet"

    def _denoise_channel(self, image: np.ndarray, sigma: float) -> np.ndarray:
        from skimage.restoration import denoise_wavelet

        if sigma <= 0:
            return image
        return denoise_wavelet(
            image, sigma=sigma, mode="soft", method="BayesShrink", rescale_sigma=False
        )


class NLMDenoiser(_NumpyDenoiser):
    """Non-local means (scikit-image ``denoise_nl_means``, fast mode, h = 0.8σ)."""

    name = "nlm"

    def _denoise_channel(self, image: np.ndarray, sigma: float) -> np.ndarray:
        from skimage.restoration import denoise_nl_means

        if sigma <= 0:
            return image
        return denoise_nl_means(
            image, h=0.8 * sigma, sigma=sigma, patch_size=5, patch_distance=6, fast_mode=True
        )


class BM3DDenoiser(_NumpyDenoiser):
    """BM3D (the optional ``bm3d`` package)."""

    name = "bm3d"

    def __init__(self):
        try:
            import bm3d  # noqa: F401
        except ImportError as exc:
            raise ValueError("the bm3d denoiser needs the optional package 'bm3d'") from exc

    def _denoise_channel(self, image: np.ndarray, sigma: float) -> np.ndarray:
        import bm3d

        if sigma <= 0:
            return image
        return np.asarray(bm3d.bm3d(image, sigma_psd=sigma), dtype=np.float64)
