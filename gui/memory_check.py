"""Will the problem just built fit in memory? The check ``fima run`` makes, for the window.

:mod:`core.memory` estimates a run's peak bytes from the iterate's shape, the number of variants and
the module; when that exceeds free memory the window offers the downscale factor that makes it fit.
"""

from __future__ import annotations

from dataclasses import dataclass

from core import TaskSetup, memory

MAX_DOWNSCALE = 64  # core.build_task takes whole factors 1…64


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
    ok, needed, free = memory.fits(shape, variants, module)
    if ok:
        return None
    more = memory.suggest_downscale(shape, variants, module)
    suggested = min(MAX_DOWNSCALE, max(downscale * more, downscale + 1))
    return MemoryShortfall(needed, free, downscale, suggested)


def size_text(n: int) -> str:
    """Bytes as a short text: GiB from 0.1 GiB up, MiB below."""
    if n >= 0.1 * 2**30:
        return memory.gib(n)
    return f"{n / 2**20:.0f} MiB"


def shortfall_text(shortfall: MemoryShortfall) -> str:
    """One line: what the run needs and what is free."""
    return (
        f"This run needs about {size_text(shortfall.needed)} of memory, "
        f"but only {size_text(shortfall.free)} is free"
    )
