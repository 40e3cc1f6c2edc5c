"""Trained CNN denoiser used as the learned module A_g (FFDNet / DRUNet-lite, see :mod:`core.unet`).

The shipped network is grayscale and noise-level conditional. Colour (or any multi-channel) images
are denoised channel by channel with the same noise level. Any H, W work: the image is padded by
reflection to a multiple of the network's total downsampling factor and cropped back. The noise
level ``sigma`` is a standard deviation on the [0, 1] intensity scale (25/255 for the literature's
"sigma = 25"); it is clamped to [0, 60/255] (trained on [0, 55/255]).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from core.resources import resources_dir
from core.unet import SIGMA_MAX, LiteUNet, grey_batch, load_network

WEIGHTS_NAME = "cnn.pt"


def default_weights_path() -> Path:
    """Path of the shipped default weights (resources/weights/cnn.pt)."""
    return resources_dir() / "weights" / WEIGHTS_NAME


def load_weights(path: str | Path) -> tuple[LiteUNet, dict[str, Any]]:
    """Load a weight file into a LiteUNet (eval mode, float32); ValueError if missing/corrupt."""
    return load_network(path, "CNN denoiser")


class CNNDenoiser:
    """Noise-level-conditional CNN denoiser: ``denoiser(x, sigma)`` with x of shape (1, C, H, W)."""

    name = "cnn"

    def __init__(self, weights: str | Path | None = None, device: str | torch.device = "cpu"):
        self.weights = Path(weights) if weights is not None else default_weights_path()
        self.device = torch.device(device)
        model, meta = load_weights(self.weights)
        self.model = model.to(self.device).to(memory_format=torch.channels_last)  # faster convs
        self.meta = meta
        self.sigma_max = float(meta.get("sigma_range", [0.0, SIGMA_MAX])[1])

    def __call__(self, x: torch.Tensor, sigma: float) -> torch.Tensor:
        """Denoise x (1, C, H, W), nominal [0, 1], at noise level sigma (clamped to [0, 60/255])."""
        if x.dim() != 4:
            raise ValueError(f"expected a (1, C, H, W) tensor, got shape {tuple(x.shape)}")
        s = min(max(float(sigma), 0.0), self.sigma_max)
        with torch.inference_mode():
            n, c, h, w = x.shape
            z = grey_batch(x.to(self.device), self.model.multiple)
            z = z.contiguous(memory_format=torch.channels_last)
            sig = torch.full((n * c,), s, device=self.device, dtype=torch.float32)
            out = self.model(z, sig)[..., :h, :w]
            return out.reshape(n, c, h, w).to(x.device, x.dtype)
