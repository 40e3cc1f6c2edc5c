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
stationarity the check asks for. When γ(L + μ) ≤ 1 the steps are step 3 itself (t = γ) and stop at
the first u_j the check would accept, so ``steps`` is a most, not a count. It is knowledge the module
may use; Ψ's guarantee does not depend on it (FIMA is monotone for ANY module).

The steps run in true float32 (:func:`core.precision.exact_float32`), the inner module with the
caller's settings: the engine finds the refinement's last evaluations already made, so they must be
the numbers it would compute itself.
"""

from __future__ import annotations

import math

import torch

from ..check import optimality_error, passes, proximal_objective_step, residual_and_tolerance
from ..params import Parameters
from ..precision import exact_float32
from .base import Module

Tensor = torch.Tensor


class ProximalRefinement(Module):
    """A = (``steps`` proximal-gradient steps on Ψ^k) ∘ ``inner``; ``inner`` is any module."""

    def __init__(self, inner, steps: int = 10):
        self.inner = inner
        self.steps = int(steps)
        self.name = getattr(inner, "name", "module")

    def __call__(self, x: Tensor, k: int, params: Parameters, problem) -> Tensor:
        """u = (prox-grad on Ψ^k)^steps (inner(x^k)): ``inner`` with the caller's torch settings
        (TF32 allowed), the steps in true float32."""
        u = self.inner(x, k, params, problem)
        if self.steps <= 0 or not isinstance(u, Tensor) or u.shape != x.shape:
            return u
        return refine(u, x, params, problem, self.steps)

    def describe(self) -> dict:
        """The inner module's settings plus the number of refinement steps."""
        info = self.inner.describe() if hasattr(self.inner, "describe") else {"name": self.name}
        return {**info, "refine_steps": self.steps}


@exact_float32()
def refine(u: Tensor, x: Tensor, params: Parameters, problem, steps: int) -> Tensor:
    """At most ``steps`` proximal-gradient steps on Ψ^k = s + h + μ/2‖· − x^k‖² from u (step 3's map).

    When step 3's own step γ is a safe one for Ψ^k (γ(L + μ) ≤ 1), the steps ARE step 3 and the
    refinement stops at the first u_j that the check would accept (‖d‖ ≤ C‖u_{j+1} − x^k‖, with
    u_{j+1} = step 3 of u_j): the engine then finds ∇s(u_j) and ũ = u_{j+1} already evaluated (the
    learned prior keeps its last evaluations), so a proposal that passes at once costs no more than
    the raw one. Otherwise ``steps`` steps of size 0.99/(L + μ) are taken.
    """
    split = problem.splitting
    mu, gamma = params.mu, params.gamma
    lipschitz = split.lipschitz()
    if gamma * (lipschitz + mu) <= 1.0 + 1e-9:
        return _refine_until_checked(u, x, params, split, steps)
    step = min(gamma, 0.99 / (lipschitz + mu))
    for _ in range(steps):
        grad = split.smooth.evaluate(u).gradient + mu * (u - x)
        u = split.proximal.prox_with_value(u - step * grad, step)[0]
    return u


def _refine_until_checked(u: Tensor, x: Tensor, params: Parameters, split, steps: int) -> Tensor:
    """Step 3 repeated from u until the check would accept the current point (at most ``steps``).

    The check's ratio ‖d‖/(C‖ũ − x^k‖) shrinks about geometrically along these steps; when its
    latest rate says it cannot reach 1 within the steps left (the engine's own check counted), the
    refinement gives up early: the engine will reject, and the steps saved are network passes.
    """
    gamma, mu = params.gamma, params.mu
    grad = split.smooth.evaluate(u).gradient
    previous = None
    for taken in range(steps):
        u_next, _ = proximal_objective_step(u, x, grad, gamma, mu, split)
        grad_next = split.smooth.evaluate(u_next).gradient
        d = optimality_error(u, u_next, grad, grad_next, gamma, mu)
        residual, tolerance = residual_and_tolerance(d, u_next, x, params.C)
        if passes(residual, tolerance):
            return u  # the engine's check will accept u: stop refining
        ratio = residual / tolerance if tolerance > 0 else math.inf
        if previous is not None and _hopeless(ratio, ratio / previous, steps - taken):
            return u  # u's step-3 point is evaluated: the engine's rejection costs nothing more
        previous = ratio
        u, grad = u_next, grad_next
    return u


def _hopeless(ratio: float, rate: float, left: int) -> bool:
    """True when ``ratio`` shrinking by ``rate`` per step stays above 1 after ``left`` steps."""
    if not (math.isfinite(ratio) and math.isfinite(rate)) or rate >= 1.0:
        return True
    return ratio * rate**left > 1.0
