"""Will a run fit in memory? A rough, documented estimate checked before a run starts.

Per pixel and channel, one variant keeps about 24 float32 image-sized buffers alive (x^k, u, ũ, the
residuals and gradients at three points, the FFT spectra, the prox's coefficients); the CNN module
needs about 48 more at its peak (its activations at half resolution, 32-128 channels); the classical
ones fewer. This is deliberately generous: refusing early beats swapping or being killed.
"""

from __future__ import annotations

import math

import psutil

BUFFERS_PER_VARIANT = 24
MODULE_BUFFERS = {"cnn": 48, "nlm": 16, "wavelet": 8, "tv": 12, "none": 4}
DEFAULT_MODULE_BUFFERS = 48  # user TorchScript networks: assume as much as ours


def estimate_run_bytes(shape: tuple[int, ...], variants: int = 1, module: str = "cnn") -> int:
    """Estimated peak bytes of a run on an image of ``shape`` (…, C, H, W) with ``variants``."""
    pixels = math.prod(shape[-3:])
    buffers = BUFFERS_PER_VARIANT * max(variants, 1) + MODULE_BUFFERS.get(
        module, DEFAULT_MODULE_BUFFERS
    )
    return 4 * pixels * buffers


def available_bytes() -> int:
    """Memory the OS says is available now."""
    return int(psutil.virtual_memory().available)


def fits(shape: tuple[int, ...], variants: int = 1, module: str = "cnn") -> tuple[bool, int, int]:
    """(fits, needed bytes, available bytes) for a run, with a 10 % safety margin."""
    needed = estimate_run_bytes(shape, variants, module)
    free = available_bytes()
    return needed <= 0.9 * free, needed, free


def suggest_downscale(shape: tuple[int, ...], variants: int = 1, module: str = "cnn") -> int:
    """Smallest integer factor f such that the image downscaled by f fits."""
    free = 0.9 * available_bytes()
    needed = estimate_run_bytes(shape, variants, module)
    return max(1, math.ceil(math.sqrt(needed / max(free, 1.0))))


def gib(n: int) -> str:
    """Bytes as a short GiB string."""
    return f"{n / 2**30:.1f} GiB"
