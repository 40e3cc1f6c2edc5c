"""The learned proximal prior φ_σ of Prox-PnP (Hurault, Leclaire, Papadakis, ICML 2022): prox φ_σ = D_σ.

D_σ = Id − ∇g_σ is the gradient-step denoiser of :mod:`core.learned_prior` (g_σ = ½‖x − N_σ(x)‖²).
When ∇g_σ is L_g-Lipschitz with L_g < 1, D_σ is the proximal map of a weakly convex φ_σ whose value is
known on the image of D_σ (and φ_σ = +∞ off it):

    φ_σ(D_σ(z)) = g_σ(z) − ½‖∇g_σ(z)‖².

That prox exists with weight 1 only, so the objective is Ψ = f + λ φ_σ with λ = 1/γ — the prior's
weight FOLLOWS γ (``weight_from_step``; core/algorithm.py sets it): then prox_{γλφ_σ} = D_σ, and
step 9 of Algorithm 1 reads x^{k+1} = D_σ(v − γ∇f(v)), the Prox-PnP proximal-gradient iteration
(γΨ = γf + φ_σ is Hurault's objective with their λ = our γ). The smooth part is f, so L = L_f and
γ < 1/L_f. For denoising (f = ½‖x − y‖², L_f = 1) the fixed point tends to D_σ(y) as γ → 1: the
converged FIMA result is the learned denoiser's own output.

What holds and what is estimated: the iteration, its check and the values of Ψ below are exact
arithmetic (true float32 on every device: D_σ and φ_σ are computed inside
:func:`core.precision.exact_float32`, as are the potential's evaluations); that D_σ IS a prox needs L_g < 1, which the shipped weights do not certify (no Jacobian
penalty in training; power-iteration estimates of L_g are about 1.0–1.1 on natural images, see
resources/weights/GS_MODEL_CARD.md), so "Ψ is non-increasing" is checked on the computed values and
the link to a prox holds only as far as that estimate allows. Ψ at a point D_σ did not produce (x⁰,
a naive iterate) is +∞ — φ_σ's value there is unknown — except where it was computed before.

``symmetries`` N averages g_σ over N flips and quarter turns (:mod:`core.learned_prior`): the
averaged ∇g has L ≤ L_g, so the same argument makes its D (the self-ensemble of D_σ) a prox.
"""

from __future__ import annotations

import math
from collections import deque
from pathlib import Path

import torch

from .learned_prior import DEFAULT_SIGMA, GradientStepPrior, custom_weights
from .precision import exact_float32
from .priors import Prior

Tensor = torch.Tensor
NAME = "gs-prox"
KNOWN = 6  # prox outputs whose φ_σ is kept (the iterate, ũ, and a few before them)
PROX_GRAPH_BUFFERS = 200  # per variant and symmetry: D_σ's activations (measured, generous)


class ProximalGradientStepPrior(Prior):
    """h(x) = λ φ_σ(x) with prox_{φ_σ} = D_σ and λ = 1/γ (Prox-PnP); proximal, not smooth."""

    name = NAME
    learned = True
    fixed_weight = True  # λ from the parameters does not apply: λ = 1/γ
    weight_from_step = True

    def __init__(
        self,
        sigma: float = DEFAULT_SIGMA,
        weights: str | Path | None = None,
        device: str | torch.device = "cpu",
        weight: float = 1.0,
        symmetries: int = 1,
    ):
        self.potential = GradientStepPrior(
            1.0, sigma, weights, device, range_weight=0.0, symmetries=symmetries
        )
        self.weight = float(weight)
        self._known: deque[tuple[Tensor, float, float]] = deque(maxlen=KNOWN)  # (x, σ, φ_σ(x))

    @property
    def memory_buffers(self) -> int:
        """Image-sized buffers one variant keeps for D_σ's backward pass (measured peak growth per
        pixel: fima 185, pg with ``symmetries=4`` 760; 200 per symmetry is generous)."""
        return PROX_GRAPH_BUFFERS * self.potential.symmetries

    @property
    def sigma(self) -> float:
        """σ of D_σ (part of Ψ)."""
        return self.potential.sigma

    @sigma.setter
    def sigma(self, value: float) -> None:
        self.potential.sigma = float(value)

    @property
    def lipschitz_points(self) -> list[Tensor]:
        """Where L_g is estimated (the problem's start)."""
        return self.potential.lipschitz_points

    @lipschitz_points.setter
    def lipschitz_points(self, points: list[Tensor]) -> None:
        self.potential.lipschitz_points = points

    def lipschitz(self, sigma: float | None = None) -> float:
        """L_g of ∇g_σ (estimated): D_σ is a prox of a weakly convex φ_σ when it is below 1."""
        return self.potential.lipschitz(sigma)

    lipschitz_estimated = True

    def denoise(self, z: Tensor) -> Tensor:
        """D_σ(z) = z − ∇g_σ(z)."""
        return self.potential.denoise(z)

    @exact_float32()
    def prox_with_value(self, z: Tensor, gamma: float) -> tuple[Tensor, float]:
        """(prox_{γλφ_σ}(z), λφ_σ of it): D_σ(z) and λ(g_σ(z) − ½‖∇g_σ(z)‖²) when γλ = 1.

        Another weight t = γλ gives the relaxed map z − t∇g_σ(z) (a module's refinement uses it),
        whose φ-value is unknown: +∞.
        """
        evaluation = self.potential.evaluate(z)
        grad = evaluation.gradient.to(z.dtype)
        t = gamma * self.weight
        if not math.isclose(t, 1.0, rel_tol=1e-9):
            return torch.add(z, grad, alpha=-t), math.inf
        x = z - grad
        phi = evaluation.value - 0.5 * float(torch.linalg.vector_norm(grad)) ** 2
        self._known.append((x, self.sigma, phi))
        return x, self.weight * phi

    def prox(self, z: Tensor, gamma: float) -> Tensor:
        """prox_{γλφ_σ}(z) (D_σ(z) when γλ = 1)."""
        return self.prox_with_value(z, gamma)[0]

    def value(self, x: Tensor) -> float:
        """λφ_σ(x) where D_σ produced x (at this σ), else +∞ (x is not known to be in D_σ's image)."""
        for known, sigma, phi in reversed(self._known):
            if sigma == self.sigma and known.shape == x.shape:
                if known is x or torch.equal(known, x):
                    return self.weight * phi
        return math.inf

    def describe(self) -> dict:
        """Settings that rebuild this prior."""
        return {
            "name": self.name,
            "sigma": self.sigma,
            "symmetries": self.potential.symmetries,
            **custom_weights(self.potential.weights),
        }
