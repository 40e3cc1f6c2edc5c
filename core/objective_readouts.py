"""What a reader of Ψ = f + g needs beside the numbers: L as λ and σ of a learned prior move, the
denoiser's L_g, one sentence on what Ψ holds, and Prox-PnP's rule λ = 1/γ.

The explorer's parameter and certificate panels show these; they are the engine's facts, so they
live here (no Qt). ``problem`` is a :class:`core.problem.Problem`; a prior says what it is through
its declared attributes ``smooth`` (λ g_σ enters Ψ through its gradient) and ``weight_from_step``
(λφ_σ, whose weight is 1/γ so that its prox is the denoiser D_σ).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from .algorithm import proximal_weight
from .params import Parameters

ESTIMATE_ERRORS = (ValueError, RuntimeError)  # a failed power iteration: fall back, never raise


def learned_lipschitz(problem) -> Callable[[float, float], float] | None:
    """(λ, σ) → λ L_g(σ) for a problem whose Ψ holds the learned prior λ g_σ, else None
    (σ = 0: the prior's own σ)."""
    prior = problem.prior
    if not prior.smooth:
        return None

    def lipschitz(lam: float, sigma: float) -> float:
        return lam * prior.lipschitz(sigma if sigma > 0 else None)

    return lipschitz


def proximal_lipschitz(problem) -> Callable[[float], float] | None:
    """σ → L_g(σ) for a problem whose Ψ holds Prox-PnP's λφ_σ (prox D_σ), else None."""
    prior = problem.prior
    if not prior.weight_from_step:
        return None

    def lipschitz(sigma: float) -> float:
        return prior.lipschitz(sigma if sigma > 0 else None)

    return lipschitz


def lipschitz_at(problem, parameters: Parameters) -> float:
    """L, the Lipschitz constant of ∇s, under ``parameters``: λ L_g(σ of g_σ) with the learned
    prior (the problem's L when that estimate fails), else the problem's L."""
    learned = learned_lipschitz(problem)
    if learned is not None:
        try:
            return float(learned(parameters.lam, parameters.sigma_g))
        except ESTIMATE_ERRORS:
            pass
    return float(problem.lipschitz)


def denoiser_lipschitz(problem, parameters: Parameters) -> float | None:
    """L_g(σ) of D_σ's potential under ``parameters`` for Prox-PnP's prior (D_σ is a prox when it
    is below 1); None for another prior or when the estimate fails."""
    proximal = proximal_lipschitz(problem)
    if proximal is None:
        return None
    try:
        return float(proximal(parameters.sigma_g))
    except ESTIMATE_ERRORS:
        return None


def linked_changes(problem, changes: Mapping[str, float]) -> dict[str, float]:
    """An edit as Ψ takes it: with Prox-PnP's λφ_σ, λ follows γ (λ = 1/γ, so that the prox of
    γλφ_σ is D_σ); otherwise the changes as given."""
    linked = dict(changes)
    gamma = linked.get("gamma")
    if problem is not None and problem.prior.weight_from_step and gamma is not None and gamma > 0:
        linked["lam"] = proximal_weight(gamma)
    return linked


def objective_note(problem) -> str:
    """One sentence on what Ψ is made of, for the certificate ('' for a hand-made prior)."""
    prior = problem.prior
    if prior.weight_from_step:
        return (
            f"Ψ holds a learned term: λφ_σ (Prox-PnP), whose proximal map is the gradient-step "
            f"denoiser D_σ = Id − ∇g_σ (σ = {prior.sigma * 255:.3g}/255), so λ = 1/γ and L = L_f. "
            f"D_σ is the prox of a weakly convex φ_σ when L_g < 1; L_g ≈ {prior.lipschitz():.3g} is "
            "ESTIMATED by power iteration at the start point, not certified. Ψ is +∞ at points D_σ "
            "did not produce (x⁰, naive's iterates)."
        )
    if not prior.smooth:
        return ""
    return (
        f"Ψ holds a learned term: λ g_σ with g_σ(x) = ½‖x − N_σ(x)‖² (σ = {prior.sigma * 255:.3g}/255)."
        f" L = λL_g uses L_g ≈ {prior.lipschitz():.3g}, ESTIMATED by power iteration on "
        "Hessian-vector products at the start point — not a certified bound, so the guarantee "
        "holds as far as that estimate does."
    )
