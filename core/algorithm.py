"""Algorithm 1 of Liu et al. (TPAMI 2019), "FIMA", and its comparison variants, as ONE generator.

For min Ψ(x) = f(x) + g(x), with a user module A, parameters 0 < 2C^k < μ^k and 0 < γ^k < 1/L::

    2: u   = A(x^k)                                        the learned proposal
    3: ũ   = prox_{γg}(u − γ(∇f(u) + μ(u − x^k)))           proximal step on Ψ + μ/2‖· − x^k‖²
    4: d   = (1/γ − μ)(u − ũ) + ∇f(ũ) − ∇f(u)              optimality error (a subgradient at ũ)
       v   = ũ if ‖d‖ ≤ C^k‖ũ − x^k‖ else x^k               the check: accept or reject
    9: x^{k+1} = prox_{γg}(v − γ∇f(v))                      proximal-gradient step

Variants through the same code: ``unchecked`` (v = ũ always), ``naive`` (x^{k+1} = A(x^k)) and ``pg``
(v = x^k always: plain proximal gradient).

Beyond the paper, a proposal is also rejected when it is not finite, when the module raises, or when
Ψ(ũ) > Ψ(x^k) (``monotone_guard``; it costs nothing extra and keeps Ψ non-increasing even for
nonconvex g where the check alone proves less). ``reject_reason`` records which rule fired.

Cost of one ``fima`` iteration: one module call, three ∇f evaluations (at u, ũ, x^{k+1}; the one at
v is reused from ũ or from the previous iteration), two proxes. Nothing is computed twice.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator

import torch

from .metrics import psnr, ssim
from .params import Parameters, ParameterTimeline
from .problem import Problem
from .trace import Iteration

Tensor = torch.Tensor
VARIANTS = ("fima", "unchecked", "naive", "pg")
DIVERGENCE_FACTOR = 1e8


def _norm(t: Tensor) -> float:
    return float(torch.linalg.vector_norm(t))


def _finite(t: Tensor) -> bool:
    return bool(torch.isfinite(t).all())


class _Point:
    """An iterate with f, g, the residual r = Tx − y and the gradient ∇f = Tᵀr computed on demand."""

    __slots__ = ("x", "f", "g", "r", "_grad", "_fidelity")

    def __init__(self, x: Tensor, fidelity, g: float | None = None, prior=None):
        self.x = x
        self._fidelity = fidelity
        self.f, self.r = fidelity.residual(x)
        self.g = prior.value(x) if g is None else g
        self._grad: Tensor | None = None

    @property
    def grad(self) -> Tensor:
        if self._grad is None:
            self._grad = self._fidelity.gradient_from_residual(self.r)
        return self._grad

    @property
    def objective(self) -> float:
        return self.f + self.g


def _propose(module, x: Tensor, k: int, params: Parameters, problem: Problem):
    """u = A(x^k), or (None, reason) when the module raises or returns something unusable."""
    try:
        u = module(x, k, params, problem)
    except Exception as exc:  # a user module may fail in any way; FIMA rejects, others stop
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        return None, f"module error: {type(exc).__name__}: {message}"[:200]
    if not isinstance(u, torch.Tensor) or u.shape != x.shape:
        shape = tuple(u.shape) if isinstance(u, torch.Tensor) else type(u).__name__
        return None, f"module returned shape {shape}, expected {tuple(x.shape)}"
    u = u.to(device=x.device, dtype=x.dtype)
    if not _finite(u):
        return None, "non-finite proposal"
    return u, ""


def iterate(
    problem: Problem,
    module,
    parameters: Parameters | ParameterTimeline,
    variant: str = "fima",
    max_iter: int | None = None,
    compute_metrics: bool = True,
    monotone_guard: bool = True,
) -> Iterator[Iteration]:
    """Yield one :class:`Iteration` per step x^k → x^{k+1} of ``variant`` (Algorithm 1 for fima).

    ``parameters`` may be a fixed :class:`Parameters` or a :class:`ParameterTimeline` read at every
    iteration boundary (live changes). Runs forever if ``max_iter`` is None; a diverging run (non-finite
    iterate or Ψ exploding) yields a last record with ``diverged=True`` and stops.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}: choose {', '.join(VARIANTS)}")
    timeline = (
        parameters if isinstance(parameters, ParameterTimeline) else ParameterTimeline(parameters)
    )
    fidelity, prior = problem.fidelity, problem.prior
    lipschitz = problem.lipschitz
    scoring = compute_metrics and problem.has_reference

    params = timeline.at(0)
    _set_weight(prior, params.lam)
    current = _Point(problem.x0.clone(), fidelity, prior=prior)
    limit = DIVERGENCE_FACTOR * max(abs(current.objective), 1.0)
    k = 0
    while max_iter is None or k < max_iter:
        params = timeline.at(k)
        if _set_weight(prior, params.lam):  # λ changed: Ψ itself changed, re-evaluate g(x^k)
            current.g = prior.value(current.x)
        start = time.perf_counter()
        x, gamma, mu, C = current.x, params.gamma, params.mu, params.C
        u = u_tilde = None
        residual = tolerance = math.nan
        accepted, reason = variant in ("unchecked", "naive"), ""

        if variant == "naive":
            u, reason = _propose(module, x, k, params, problem)
            new = _Point(u, fidelity, prior=prior) if u is not None else None
        else:
            v = current
            if variant in ("fima", "unchecked"):
                u, reason = _propose(module, x, k, params, problem)
                if u is not None:
                    at_u = _Point(u, fidelity, g=0.0)  # g(u) is never needed
                    # z = u − γ(∇f(u) + μ(u − x^k)), fused into three passes
                    z = torch.add(u, x, alpha=-1.0).mul_(-gamma * mu).add_(u)
                    z.add_(at_u.grad, alpha=-gamma)
                    u_tilde, g_tilde = prior.prox_with_value(z, gamma)
                    at_tilde = _Point(u_tilde, fidelity, g=g_tilde)
                    # d = (1/γ − μ)(u − ũ) + ∇f(ũ) − ∇f(u)
                    d = torch.sub(u, u_tilde).mul_(1.0 / gamma - mu)
                    d.add_(at_tilde.grad).sub_(at_u.grad)
                    residual, tolerance = _norm(d), C * _norm(u_tilde - x)
                    if variant == "fima":
                        accepted, reason = _check(
                            residual, tolerance, at_tilde, current, monotone_guard
                        )
                    if accepted:
                        v = at_tilde
            if variant == "unchecked" and u is None:
                new = None  # without the check nothing stands between a broken module and x
            else:
                step_from = torch.add(v.x, v.grad, alpha=-gamma)
                x_next, g_next = prior.prox_with_value(step_from, gamma)
                new = _Point(x_next, fidelity, g=g_next)

        diverged = new is None or not _finite(new.x) or not abs(new.objective) <= limit
        if diverged and new is None:
            new_x, f_new, g_new = x, math.nan, math.nan
        else:
            new_x, f_new, g_new = new.x, new.f, new.g
        seconds = time.perf_counter() - start
        record = Iteration(
            k=k,
            variant=variant,
            x=new_x,
            objective=f_new + g_new,
            f=f_new,
            g=g_new,
            accepted=bool(accepted) and not (variant == "naive" and u is None),
            step=_norm(new_x - x) / max(_norm(x), 1e-12) if not diverged else math.inf,
            C=C,
            mu=mu,
            gamma=gamma,
            lam=params.lam,
            sigma=params.sigma_at(k),
            conditions_hold=params.conditions_hold(lipschitz),
            seconds=seconds,
            u=u,
            u_tilde=u_tilde,
            residual=residual,
            tolerance=tolerance,
            reject_reason=reason,
            diverged=diverged,
        )
        if scoring and not diverged:
            view, reference = problem.scored(new_x)
            record.psnr = psnr(view, reference)
            record.ssim = ssim(view, reference)
        yield record
        if diverged:
            return
        current = new
        k += 1


def _check(residual: float, tolerance: float, candidate: _Point, current: _Point, guard: bool):
    """Step 4's decision: ‖d‖ ≤ C‖ũ − x^k‖ (and, with the guard, Ψ(ũ) ≤ Ψ(x^k))."""
    if not residual <= tolerance:
        return False, "check"
    if guard and not candidate.objective <= current.objective:
        return False, "objective"
    return True, ""


def _set_weight(prior, lam: float) -> bool:
    """Give the prior its weight λ from the parameters; True if it changed."""
    if not hasattr(prior, "weight") or getattr(prior, "fixed_weight", False):
        return False
    if prior.weight == lam:
        return False
    prior.weight = float(lam)
    return True


def run(
    problem: Problem,
    module,
    parameters: Parameters | ParameterTimeline,
    variant: str = "fima",
    iterations: int = 50,
    **options,
) -> list[Iteration]:
    """Run ``iterations`` steps and return all records (a convenience over :func:`iterate`)."""
    return list(iterate(problem, module, parameters, variant, max_iter=iterations, **options))
