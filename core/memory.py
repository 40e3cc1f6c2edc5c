"""Will a run fit in memory? A rough, documented estimate checked before a run starts.

Per pixel and channel, one variant keeps about 24 float32 image-sized buffers alive (x^k, u, ũ, the
residuals and gradients at three points, the FFT spectra, the prox's coefficients); the CNN module
needs up to 96 more at its peak (its activations at half resolution, 32-128 channels; a fima run
with it and TV grew by 118 buffers per pixel at 512², 87 at 1024², ``benchmarks/memory.py``); the
classical ones fewer. A learned prior adds, per variant, the network activations its kept autograd graphs
hold (``Prior.memory_buffers``: 330 per symmetry for ``gs``, 200 for ``gs-prox``) — with the learned
prior a fima run at 512² grows by about 400 buffers per pixel, pg's by about 220. This is
deliberately generous: refusing early beats swapping or being killed.

Where the run's tensors live decides what the estimate is compared with (:func:`free_bytes`): the
RAM the OS says is available for a run on the CPU; on CUDA the device's free memory (the driver's
``torch.cuda.mem_get_info`` plus what torch's caching allocator holds unused), since every buffer
counted above — iterates, spectra, the networks' activations — is then on the device. What the
explorer keeps on the host beside a run (numpy copies of the iterates, the history under its own
budget, ``core.history``) is not in the estimate on either device.

:func:`memory_shortfall` is the one check ``fima run`` and the window make: None when a run fits,
else what it needs, what is free (and where) and the downscale factor (on the original image) that
makes it fit.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import psutil
import torch

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
    """Memory the OS says is available now (host RAM)."""
    return int(psutil.virtual_memory().available)


def on_cuda(device: torch.device | str | None) -> bool:
    """True when ``device`` is a CUDA device and CUDA is available here."""
    if device is None:
        return False
    return torch.device(device).type == "cuda" and torch.cuda.is_available()


def device_free_bytes(device: torch.device | str) -> int:
    """Bytes a run can still allocate on CUDA ``device``: the driver's free memory
    (``torch.cuda.mem_get_info``) plus the blocks torch's caching allocator holds unused."""
    free, _total = torch.cuda.mem_get_info(device)
    cached = torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
    return int(free) + max(int(cached), 0)


def free_bytes(device: torch.device | str | None = None) -> int:
    """Memory a run's tensors on ``device`` can use: the device's free memory on CUDA, else (CPU,
    None, or a CUDA device that cannot be queried) the host's available RAM."""
    if on_cuda(device):
        try:
            return device_free_bytes(device)
        except (RuntimeError, AssertionError, ValueError):
            pass  # no usable answer from the driver: the host's figure is the best there is
    return available_bytes()


def memory_name(device: torch.device | str | None) -> str:
    """Which memory a run on ``device`` is checked against, for messages: ``memory`` or
    ``GPU memory (cuda:0)``."""
    if not on_cuda(device):
        return "memory"
    dev = torch.device(device)
    index = dev.index if dev.index is not None else 0
    return f"GPU memory (cuda:{index})"


def fits(
    shape: tuple[int, ...],
    variants: int = 1,
    module: str = "cnn",
    prior_buffers: int = 0,
    device: torch.device | str | None = None,
) -> tuple[bool, int, int]:
    """(fits, needed bytes, free bytes) for a run on ``device`` (None: the CPU), with a 10 %
    safety margin; free is :func:`free_bytes` of that device."""
    needed = estimate_run_bytes(shape, variants, module, prior_buffers)
    free = free_bytes(device)
    return needed <= 0.9 * free, needed, free


def suggest_downscale(
    shape: tuple[int, ...],
    variants: int = 1,
    module: str = "cnn",
    prior_buffers: int = 0,
    device: torch.device | str | None = None,
    free: int | None = None,
) -> int:
    """Smallest integer factor f such that the image downscaled by f fits on ``device``
    (``free``: the free bytes already read, None: read them now)."""
    room = 0.9 * (free_bytes(device) if free is None else free)
    needed = estimate_run_bytes(shape, variants, module, prior_buffers)
    return max(1, math.ceil(math.sqrt(needed / max(room, 1.0))))


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
    """A run that does not fit: bytes needed and free, the downscale factors now and advised, and
    which memory was short (``memory``: host RAM; ``GPU memory (cuda:0)``: the device's)."""

    needed: int
    free: int
    current: int
    suggested: int
    memory: str = "memory"

    def can_downscale(self) -> bool:
        """True when a larger factor is allowed (the engine stops at 64)."""
        return self.suggested > self.current


def memory_shortfall(setup: TaskSetup, variants: int, downscale: int = 1) -> MemoryShortfall | None:
    """None when a run of ``setup`` with ``variants`` fits in free memory, else the shortfall.

    The memory is where the run's tensors live (the problem's device): the GPU's free memory on
    CUDA, the host's available RAM on the CPU. ``downscale`` is the factor ``setup`` was built
    with; the suggestion is the factor on the original image (the current one times what the built
    image still needs)."""
    shape = tuple(setup.problem.x0.shape)
    device = setup.problem.x0.device
    module = str(setup.settings.get("module") or "cnn")
    prior_buffers = setup.problem.prior.memory_buffers
    ok, needed, free = fits(shape, variants, module, prior_buffers, device)
    if ok:
        return None
    more = suggest_downscale(shape, variants, module, prior_buffers, device, free)
    suggested = min(MAX_DOWNSCALE, max(downscale * more, downscale + 1))
    return MemoryShortfall(needed, free, downscale, suggested, memory_name(device))


def shortfall_text(shortfall: MemoryShortfall) -> str:
    """One line: what the run needs and what is free."""
    return (
        f"This run needs about {size_text(shortfall.needed)} of {shortfall.memory}, "
        f"but only {size_text(shortfall.free)} is free"
    )
