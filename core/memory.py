"""Will a run fit in memory? A rough, documented estimate checked before a run starts.

Per pixel and channel, one variant keeps about 24 float32 image-sized buffers alive (x^k, u, ũ, the
residuals and gradients at three points, the FFT spectra, the prox's coefficients); the CNN module
needs up to 96 more at its peak (its activations at half resolution, 32-128 channels; a fima run
with it and TV grew by 118 buffers per pixel at 512², 87 at 1024², ``benchmarks/memory.py``); the
classical ones fewer. A learned prior adds, per variant, the network activations its kept autograd graphs
hold (``Prior.memory_buffers``: 330 per symmetry for ``gs``, 200 for ``gs-prox``) — with the learned
prior a fima run at 512² grows by about 400 buffers per pixel, pg's by about 220. This is
deliberately generous: refusing early beats swapping or being killed.

:func:`memory_shortfall` is the one check ``fima run`` and the window make: None when a run fits,
else what it needs, what is free and the downscale factor (on the original image) that makes it fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import psutil

if TYPE_CHECKING:
    from .tasks import TaskSetup

BUFFERS_PER_VARIANT = 24
MODULE_BUFFERS = {"cnn": 96, "nlm": 16, "wavelet": 8, "tv": 12, "none": 4}
DEFAULT_MODULE_BUFFERS = 96  # user TorchScript networks: assume as much as ours
MAX_DOWNSCALE = 64  # core.build_task takes whole factors 1…64


def estimate_run_bytes(
    shape: tuple[int, ...], variants: int = 1, module: str = "cnn", prior_buffers: int = 0
) -> int:
    """Estimated peak bytes of a run on an image of ``shape`` (…, C, H, W) with ``variants``;
    ``prior_buffers`` is the prior's ``memory_buffers`` (kept per variant)."""
    pixels = math.prod(shape[-3:])
    per_variant = BUFFERS_PER_VARIANT + prior_buffers
    buffers = per_variant * max(variants, 1) + MODULE_BUFFERS.get(module, DEFAULT_MODULE_BUFFERS)
    return 4 * pixels * buffers


def available_bytes() -> int:
    """Memory the OS says is available now."""
    return int(psutil.virtual_memory().available)


def fits(
    shape: tuple[int, ...], variants: int = 1, module: str = "cnn", prior_buffers: int = 0
) -> tuple[bool, int, int]:
    """(fits, needed bytes, available bytes) for a run, with a 10 % safety margin."""
    needed = estimate_run_bytes(shape, variants, module, prior_buffers)
    free = available_bytes()
    return needed <= 0.9 * free, needed, free


def suggest_downscale(
    shape: tuple[int, ...], variants: int = 1, module: str = "cnn", prior_buffers: int = 0
) -> int:
    """Smallest integer factor f such that the image downscaled by f fits."""
    free = 0.9 * available_bytes()
    needed = estimate_run_bytes(shape, variants, module, prior_buffers)
    return max(1, math.ceil(math.sqrt(needed / max(free, 1.0))))


def gib(n: int) -> str:
    """Bytes as a short GiB string."""
    return f"{n / 2**30:.1f} GiB"


def size_text(n: int) -> str:
    """Bytes as a short text: GiB from 0.1 GiB up, MiB below."""
    if n >= 0.1 * 2**30:
        return gib(n)
    return f"{n / 2**20:.0f} MiB"


@dataclass(frozen=True)
class MemoryShortfall:
    """A run that does not fit: bytes needed and free, and the downscale factors now and advised."""

    needed: int
    free: int
    current: int
    suggested: int

    def can_downscale(self) -> bool:
        """True when a larger factor is allowed (the engine stops at 64)."""
        return self.suggested > self.current


def memory_shortfall(setup: TaskSetup, variants: int, downscale: int = 1) -> MemoryShortfall | None:
    """None when a run of ``setup`` with ``variants`` fits in free memory, else the shortfall.

    ``downscale`` is the factor ``setup`` was built with; the suggestion is the factor on the
    original image (the current one times what the built image still needs)."""
    shape = tuple(setup.problem.x0.shape)
    module = str(setup.settings.get("module") or "cnn")
    prior_buffers = setup.problem.prior.memory_buffers
    ok, needed, free = fits(shape, variants, module, prior_buffers)
    if ok:
        return None
    more = suggest_downscale(shape, variants, module, prior_buffers)
    suggested = min(MAX_DOWNSCALE, max(downscale * more, downscale + 1))
    return MemoryShortfall(needed, free, downscale, suggested)


def shortfall_text(shortfall: MemoryShortfall) -> str:
    """One line: what the run needs and what is free."""
    return (
        f"This run needs about {size_text(shortfall.needed)} of memory, "
        f"but only {size_text(shortfall.free)} is free"
    )
