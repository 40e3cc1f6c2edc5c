"""Steps 3 and 4 of Algorithm 1 as formulas: the proximal step on Ψ^k and its optimality error d.

    ũ = prox_{γh}(u − γ(∇s(u) + μ(u − x^k)))          step 3, on Ψ^k = Ψ + μ/2‖· − x^k‖²
    d = (1/γ − μ)(u − ũ) + ∇s(ũ) − ∇s(u)               d ∈ ∂Ψ^k(ũ), from the prox's optimality

Step 4 then accepts ũ when ‖d‖ ≤ C^k‖ũ − x^k‖ (:func:`passes`). The engine (core/algorithm.py) and a
module that refines its proposal until the check would pass (core/modules/refine.py) use these same
functions, so a proposal refined that way reaches the engine with the very ũ and d it will compute.
Step 3 runs a prox (wavelet transforms are convolutions, a learned prox is a network): it is computed
in true float32 whoever calls (:func:`core.precision.exact_float32`); the rest is elementwise.
"""

from __future__ import annotations

import torch

from .precision import exact_float32

Tensor = torch.Tensor


def norm(t: Tensor) -> float:
    """‖t‖ (Euclidean, over every entry)."""
    return float(torch.linalg.vector_norm(t))


@exact_float32()
def proximal_objective_step(
    u: Tensor, x: Tensor, grad_u: Tensor, gamma: float, mu: float, split
) -> tuple[Tensor, float]:
    """Step 3: (ũ, h(ũ)) with ũ = prox_{γh}(u − γ(∇s(u) + μ(u − x^k))), in three fused passes."""
    z = torch.add(u, x, alpha=-1.0).mul_(-gamma * mu).add_(u).add_(grad_u, alpha=-gamma)
    return split.proximal.prox_with_value(z, gamma)


def optimality_error(
    u: Tensor, u_tilde: Tensor, grad_u: Tensor, grad_tilde: Tensor, gamma: float, mu: float
) -> Tensor:
    """d = (1/γ − μ)(u − ũ) + ∇s(ũ) − ∇s(u), the subgradient of Ψ^k at ũ that step 4 measures."""
    return torch.sub(u, u_tilde).mul_(1.0 / gamma - mu).add_(grad_tilde).sub_(grad_u)


def optimality_map(d: Tensor) -> Tensor:
    """Per-pixel |d_i| (H × W): the root of the sum of d's squares over every axis but the last two.

    Its Euclidean norm is ‖d‖ (the trace's residual) up to float rounding; |d_i|²/‖d‖² is pixel i's
    share of the optimality error.
    """
    dims = tuple(range(d.ndim - 2))
    if not dims:
        return d.abs()
    # square, sum, root: vector_norm over leading axes is ~75× slower on the CPU (measured, 3×512²)
    return d.square().sum(dim=dims).sqrt_()


def residual_and_tolerance(d: Tensor, u_tilde: Tensor, x: Tensor, C: float) -> tuple[float, float]:
    """(‖d‖, C‖ũ − x^k‖): the two sides of step 4's test."""
    return norm(d), C * norm(u_tilde - x)


def passes(residual: float, tolerance: float) -> bool:
    """Step 4's test ‖d‖ ≤ C^k‖ũ − x^k‖ (False for NaN)."""
    return residual <= tolerance
