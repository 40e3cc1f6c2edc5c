"""The inverse problem min_x Ψ(x) = f(x; T, y) + g(x), with what the explorer shows beside it."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .fidelity import LeastSquares
from .priors import Prior

Tensor = torch.Tensor


@dataclass
class Problem:
    """f (fidelity), g (prior), the start x⁰, and optionally the ground truth and a display image.

    ``observation_image`` is what a user should see as "the input" (the blurred image; for MRI the
    zero-filled reconstruction). ``info`` holds the task's settings (kernel, noise, seed, …).
    """

    fidelity: LeastSquares
    prior: Prior
    x0: Tensor
    ground_truth: Tensor | None = None
    observation_image: Tensor | None = None
    task: str = ""
    info: dict = field(default_factory=dict)

    @property
    def lipschitz(self) -> float:
        """L, the Lipschitz constant of ∇f."""
        return self.fidelity.lipschitz

    @property
    def device(self) -> torch.device:
        """Where the iterates live."""
        return self.x0.device

    def objective(self, x: Tensor) -> tuple[float, float, float]:
        """(Ψ(x), f(x), g(x))."""
        f = self.fidelity.value(x)
        g = self.prior.value(x)
        return f + g, f, g
