"""Make a learned proposal checkable: a few proximal-gradient steps on Ψ^k after the module.

FIMA's check (step 4) accepts ũ only when ‖d‖ ≤ C‖ũ − x^k‖ with C < μ/2, where d ∈ ∂Ψ^k(ũ) and
Ψ^k = Ψ + μ/2‖· − x^k‖². A raw denoiser output u is almost never that close to stationary for Ψ^k:
if u only changes what the data do not see (the null space of T), then d ≈ μ(ũ − x^k) and the check
fails by the factor μ/C > 2 whatever the quality of u. :class:`ProximalRefinement` therefore follows
the learned step with ``steps`` proximal-gradient iterations on Ψ^k started AT the learned proposal,

    u_{j+1} = prox_{th}(u_j − t(∇s(u_j) + μ(u_j − x^k))),   t = min(γ, 0.99/(L + μ)),

(s the smooth and h the proximal part of Ψ, see core/splitting.py),

which keep the basin the network chose (for a nonconvex g such as ℓ0 / ℓp wavelets, a different and
better critical point than plain proximal gradient reaches) while driving u towards the
stationarity the check asks for. It is knowledge the module may use; Ψ's guarantee does not depend
on it (FIMA is monotone for ANY module).
"""

from __future__ import annotations

import torch

from ..params import Parameters
from .base import Module

Tensor = torch.Tensor


class ProximalRefinement(Module):
    """A = (``steps`` proximal-gradient steps on Ψ^k) ∘ ``inner``; ``inner`` is any module."""

    def __init__(self, inner, steps: int = 10):
        self.inner = inner
        self.steps = int(steps)
        self.name = getattr(inner, "name", "module")

    def __call__(self, x: Tensor, k: int, params: Parameters, problem) -> Tensor:
        """u = (prox-grad on Ψ^k)^steps (inner(x^k))."""
        u = self.inner(x, k, params, problem)
        if self.steps <= 0 or not isinstance(u, Tensor) or u.shape != x.shape:
            return u
        return refine(u, x, params, problem, self.steps)

    def describe(self) -> dict:
        """The inner module's settings plus the number of refinement steps."""
        info = self.inner.describe() if hasattr(self.inner, "describe") else {"name": self.name}
        return {**info, "refine_steps": self.steps}


def refine(u: Tensor, x: Tensor, params: Parameters, problem, steps: int) -> Tensor:
    """``steps`` proximal-gradient steps on Ψ^k = s + h + μ/2‖· − x^k‖² from u (step 3's map)."""
    split = problem.splitting
    mu = params.mu
    step = min(params.gamma, 0.99 / (split.lipschitz() + mu))
    for _ in range(steps):
        grad = split.smooth.evaluate(u).gradient + mu * (u - x)
        u = split.proximal.prox_with_value(u - step * grad, step)[0]
    return u
