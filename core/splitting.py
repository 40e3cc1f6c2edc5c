"""Which term of Ψ = f + g Algorithm 1 differentiates and which one it proxes.

The paper writes min Ψ = f + g with f smooth and g proximal. For a hand-made prior (wavelets, TV, box)
that is the fidelity f = ½‖Tx − y‖² (smooth part s = f) and the prior (proximal part h = g). For the
learned gradient-step prior g = λ g_σ the roles swap: s = λ g_σ (smooth, its gradient by autograd)
and h = f, whose proximal map prox_{γf}(z) = (γTᵀT + I)⁻¹(γTᵀy + z) has a closed form. Either way
Ψ = s + h and the algorithm, its check and its guarantee read the same; L is the Lipschitz constant
of ∇s (L_f = ‖T‖², or λ L_g).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from .priors import Prior

Tensor = torch.Tensor


class ResidualEvaluation:
    """f at one point with its residual r = Tx − y kept, so that ∇f = Tᵀr costs one adjoint."""

    __slots__ = ("value", "_residual", "_fidelity", "_grad")

    def __init__(self, fidelity, x: Tensor):
        self._fidelity = fidelity
        self.value, self._residual = fidelity.residual(x)
        self._grad: Tensor | None = None

    @property
    def gradient(self) -> Tensor:
        """∇f(x) = Tᵀ r."""
        if self._grad is None:
            self._grad = self._fidelity.gradient_from_residual(self._residual)
            self._residual = None
        return self._grad


class SmoothFidelity:
    """s = f = ½‖Tx − y‖² (hand-made priors)."""

    def __init__(self, fidelity):
        self.fidelity = fidelity

    def evaluate(self, x: Tensor) -> ResidualEvaluation:
        """f(x) now, ∇f(x) on demand."""
        return ResidualEvaluation(self.fidelity, x)

    def lipschitz(self) -> float:
        """L_f = ‖T‖²."""
        return self.fidelity.lipschitz


class SmoothPrior:
    """s = λ g_σ (the learned prior)."""

    def __init__(self, prior):
        self.prior = prior

    def evaluate(self, x: Tensor):
        """λ g_σ(x) now, λ∇g_σ(x) on demand."""
        return self.prior.evaluate(x)

    def lipschitz(self) -> float:
        """λ L_g (L_g estimated by power iteration)."""
        return self.prior.weight * self.prior.lipschitz()


class ProximalFidelity:
    """h = f with prox_{γf}(z) = argmin_x γ f(x) + ½‖x − z‖² (closed form)."""

    def __init__(self, fidelity):
        self.fidelity = fidelity

    def value(self, x: Tensor) -> float:
        """f(x)."""
        return self.fidelity.value(x)

    def prox_with_value(self, z: Tensor, gamma: float) -> tuple[Tensor, float]:
        """(prox_{γf}(z), f of it): the fidelity's own prox with weight ρ = 1/γ."""
        x = self.fidelity.prox(z, 1.0 / gamma)
        return x, self.fidelity.value(x)


@dataclass
class Splitting:
    """Ψ = s + h: ``smooth`` (evaluate → value, lazy gradient) and ``proximal`` (value, prox).

    ``learned`` says which way round: False — s = f, h = g; True — s = λ g_σ, h = f. The trace's
    f and g columns always hold the fidelity and the prior.
    """

    smooth: object
    proximal: object
    learned: bool

    def f_and_g(self, smooth_value: float, proximal_value: float) -> tuple[float, float]:
        """(f, g) from (s, h)."""
        if self.learned:
            return proximal_value, smooth_value
        return smooth_value, proximal_value

    def lipschitz(self) -> float:
        """L, the Lipschitz constant of ∇s (γ < 1/L is one of Thm 1's conditions)."""
        return self.smooth.lipschitz()


def splitting_of(fidelity, prior: Prior) -> Splitting:
    """The splitting of Ψ = f + g for this fidelity and prior."""
    if prior.smooth:
        return Splitting(SmoothPrior(prior), ProximalFidelity(fidelity), learned=True)
    return Splitting(SmoothFidelity(fidelity), prior, learned=False)
