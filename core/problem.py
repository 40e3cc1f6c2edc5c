"""The inverse problem min_x Ψ(x) = f(x; T, y) + g(x), with what the explorer shows beside it."""

from __future__ import annotations

from dataclasses import dataclass, field

import torch

from .fidelity import LeastSquares
from .precision import exact_float32
from .priors import Prior
from .splitting import Splitting, splitting_of

Tensor = torch.Tensor


@dataclass
class Problem:
    """f (fidelity), g (prior), the start x⁰, and optionally the ground truth and a display image.

    ``observation_image`` is what a user should see as "the input" (the blurred image; for MRI the
    zero-filled reconstruction). ``info`` holds the task's settings (kernel, noise, seed, …). A task
    whose variable is not the picture (low-light: the illumination t) puts ``info["render"]`` (x →
    picture) and ``info["clean"]`` (the clean picture) there; PSNR/SSIM then score the picture.
    """

    fidelity: LeastSquares
    prior: Prior  # smooth ones (the learned GradientStepPrior) enter Ψ through their gradient
    x0: Tensor
    ground_truth: Tensor | None = None
    observation_image: Tensor | None = None
    task: str = ""
    info: dict = field(default_factory=dict)

    @property
    def has_reference(self) -> bool:
        """True when iterates can be scored (a ground truth, or a clean picture to render against)."""
        return self.ground_truth is not None or self._picture_reference() is not None

    def scored(self, x: Tensor) -> tuple[Tensor, Tensor]:
        """(what PSNR/SSIM score, the reference): render(x) vs the clean picture, else x vs x*."""
        return self.score_view(x), self.score_reference()

    def score_view(self, x: Tensor) -> Tensor:
        """What PSNR/SSIM score of an iterate x: render(x) where a clean picture exists, else x."""
        return self.info["render"](x) if self._picture_reference() is not None else x

    def score_reference(self) -> Tensor:
        """What PSNR/SSIM score against: the clean picture, else the ground truth x*."""
        clean = self._picture_reference()
        if clean is not None:
            return clean
        if self.ground_truth is None:
            raise ValueError("this problem has no ground truth to score against")
        return self.ground_truth

    def _picture_reference(self) -> Tensor | None:
        render, clean = self.info.get("render"), self.info.get("clean")
        return clean if render is not None and clean is not None else None

    @property
    def splitting(self) -> Splitting:
        """Which term Algorithm 1 differentiates (s) and which it proxes (h): Ψ = s + h."""
        return splitting_of(self.fidelity, self.prior)

    @property
    def learned(self) -> bool:
        """True when Ψ holds a learned term (λ g_σ, or Prox-PnP's λφ_σ with prox D_σ)."""
        return self.prior.learned

    @property
    def lipschitz(self) -> float:
        """L, the Lipschitz constant of ∇s: ‖T‖² for a hand-made prior, λ L_g for the learned one."""
        return self.splitting.lipschitz()

    @property
    def device(self) -> torch.device:
        """Where the iterates live."""
        return self.x0.device

    @exact_float32()
    def objective(self, x: Tensor) -> tuple[float, float, float]:
        """(Ψ(x), f(x), g(x)), in true float32 (no TF32)."""
        f = self.fidelity.value(x)
        g = self.prior.value(x)
        return f + g, f, g
