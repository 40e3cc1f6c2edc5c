"""The module interface and the plug-and-play composition A = A_g ∘ A_f."""

from __future__ import annotations

from collections.abc import Callable

import torch

from ..params import Parameters

Tensor = torch.Tensor
Denoiser = Callable[[Tensor, float], Tensor]


class Module:
    """A user module A: maps x^k to the proposal u = A(x^k) (may be anything, even garbage)."""

    name = "module"

    def __call__(self, x: Tensor, k: int, params: Parameters, problem) -> Tensor:
        """u = A(x^k) at iteration k."""
        raise NotImplementedError

    def describe(self) -> dict:
        """Settings for session files."""
        return {"name": self.name}


class FidelityStep(Module):
    """A_f alone: the closed-form prox of f, A_f(x) = argmin_z f(z) + ρ/2‖z − x‖²."""

    name = "fidelity"

    def __call__(self, x: Tensor, k: int, params: Parameters, problem) -> Tensor:
        """argmin_z f(z) + ρ/2‖z − x‖² with ρ = params.rho."""
        return problem.fidelity.prox(x, params.rho)


def fidelity_weight(params: Parameters, sigma: float) -> float:
    """ρ^k = ρ (σ_end / σ^k)²: a weak data step while the denoiser is strong, ρ at the end."""
    if sigma <= 0 or params.sigma_end <= 0:
        return params.rho
    return params.rho * (params.sigma_end / sigma) ** 2


class PlugAndPlay(Module):
    """A = A_g ∘ A_f: the fidelity prox with weight ρ, then a denoiser at noise level σ^k."""

    def __init__(self, denoiser: Denoiser, fidelity_step: bool = True, name: str | None = None):
        self.denoiser = denoiser
        self.fidelity_step = fidelity_step
        self.name = name or getattr(denoiser, "name", "denoiser")

    def __call__(self, x: Tensor, k: int, params: Parameters, problem) -> Tensor:
        """u = D(A_f(x^k), σ^k) with A_f's weight ρ^k = ρ (σ_end / σ^k)² (IRCNN/HQS coupling)."""
        sigma = params.sigma_at(k)
        if self.fidelity_step:
            x = problem.fidelity.prox(x, fidelity_weight(params, sigma))
        return self.denoiser(x, sigma)

    def describe(self) -> dict:
        """Name, fidelity step flag and the denoiser's own settings."""
        info = {"name": self.name, "fidelity_step": self.fidelity_step}
        if hasattr(self.denoiser, "describe"):
            info.update(self.denoiser.describe())
        return info
