"""Algorithm 1 of Liu et al. (TPAMI 2019), "FIMA", and its comparison variants, as ONE generator.

For min Ψ(x) = s(x) + h(x) — s smooth (L-Lipschitz gradient), h proximal (see core/splitting.py: s = f
and h = g for hand-made priors; s = λ g_σ and h = f for the learned prior) — with a user module A and
parameters 0 < 2C^k < μ^k, 0 < γ^k < 1/L::

    2: u   = A(x^k)                                        the learned proposal
    3: ũ   = prox_{γh}(u − γ(∇s(u) + μ(u − x^k)))           proximal step on Ψ^k = Ψ + μ/2‖· − x^k‖²
    4: d   = (1/γ − μ)(u − ũ) + ∇s(ũ) − ∇s(u)              optimality error (d ∈ ∂Ψ^k(ũ))
       v   = ũ if ‖d‖ ≤ C^k‖ũ − x^k‖ else x^k               the check: accept or reject
    9: x^{k+1} = prox_{γh}(v − γ∇s(v))                      proximal-gradient step

One small step function per variant (:data:`STEPS`): ``fima`` (the above), ``unchecked`` (v = ũ
always), ``naive`` (x^{k+1} = A(x^k)) and ``pg`` (v = x^k always: plain proximal gradient). The record
of an iteration is built in one place (:func:`_record`).

Beyond the paper, a proposal is also rejected when it is not finite, when the module raises, or when
Ψ(ũ) > Ψ(x^k) (``monotone_guard``; it costs nothing extra and keeps Ψ non-increasing even for
nonconvex h where the check alone proves less). ``reject_reason`` records which rule fired.

Cost of one ``fima`` iteration: one module call, ∇s at u and ũ (and at x^k only after a rejection;
otherwise it is reused), s at x^{k+1}, two proxes. Nothing is computed twice.

Arithmetic: steps 3, 4 and 9, every value of Ψ and the record's metrics run in true float32 (no
TF32, no bf16: :func:`core.precision.exact_float32`); TF32's rounding alone made Ψ rise by 2·10⁻⁵
of its value on an H200. The scope opens after step 2 and closes before each yield: the proposal
u = A(x^k) runs with the user's own torch settings (the check makes any proposal safe), and so does
any code that runs while the generator is suspended.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import torch

from .check import (
    norm,
    optimality_error,
    optimality_map,
    passes,
    proximal_objective_step,
    residual_and_tolerance,
)
from .errors import one_line
from .interrupt import Abandoned, Interrupted, checkpoint, interruptible
from .metrics import ScoredReference
from .params import Parameters, ParameterTimeline
from .precision import exact_float32
from .priors import Prior
from .problem import Problem
from .proposal import ProposalPolicy, ProposalSchedule, parse_policy
from .splitting import Splitting
from .trace import Iteration

Tensor = torch.Tensor
VARIANTS = ("fima", "unchecked", "naive", "pg")
DIVERGENCE_FACTOR = 1e8


def _finite(t: Tensor) -> bool:
    return bool(torch.isfinite(t).all())


class _Point:
    """An iterate x with s(x), h(x) and ∇s(x) on demand (s, h: the splitting's two terms)."""

    __slots__ = ("x", "s", "h", "_eval")

    def __init__(self, x: Tensor, split: Splitting, h: float | None = None):
        checkpoint()  # s(x), ∇s(x) (and h(x)) may be network passes
        self.x = x
        self._eval = split.smooth.evaluate(x)
        self.s = self._eval.value
        self.h = split.proximal.value(x) if h is None else h

    @property
    def grad(self) -> Tensor:
        """∇s(x)."""
        return self._eval.gradient

    @property
    def objective(self) -> float:
        """Ψ(x) = s(x) + h(x)."""
        return self.s + self.h


@dataclass
class _Step:
    """What one step produced: x^{k+1} (None: nothing usable) and the check's numbers."""

    new: _Point | None
    accepted: bool
    reason: str = ""
    u: Tensor | None = None
    u_tilde: Tensor | None = None
    residual: float = math.nan
    tolerance: float = math.nan
    skipped: bool = False
    d_map: Tensor | None = None


def _propose(module, x: Tensor, k: int, params: Parameters, problem: Problem):
    """Step 2, u = A(x^k), or (None, reason) when the module raises or returns something unusable."""
    checkpoint()
    try:
        u = module(x, k, params, problem)
    except Exception as exc:  # a user module may fail in any way; FIMA rejects, others stop
        return None, f"module error: {one_line(exc)}"[:200]
    if not isinstance(u, torch.Tensor) or u.shape != x.shape:
        shape = tuple(u.shape) if isinstance(u, torch.Tensor) else type(u).__name__
        return None, f"module returned shape {shape}, expected {tuple(x.shape)}"
    u = u.to(device=x.device, dtype=x.dtype)
    if not _finite(u):
        return None, "non-finite proposal"
    return u, ""


def _proximal_gradient(v: _Point, gamma: float, split: Splitting) -> _Point:
    """Step 9: x^{k+1} = prox_{γh}(v − γ∇s(v))."""
    checkpoint()  # the prox may be a network pass (D_σ)
    x_next, h_next = split.proximal.prox_with_value(torch.add(v.x, v.grad, alpha=-gamma), gamma)
    return _Point(x_next, split, h=h_next)


def _checked_step(ctx: _Context, current: _Point, k: int, params: Parameters, check: bool):
    """Steps 2–4 and 9 of Algorithm 1; ``check`` False is the ``unchecked`` variant (v = ũ).

    Step 2 (the proposal) runs with the user's torch settings; steps 3, 4 and 9 in true float32.
    """
    u, reason = _propose(ctx.module, current.x, k, params, ctx.problem)  # outside the exact scope
    with exact_float32():
        return _judged_step(ctx, current, u, reason, params, check)


def _judged_step(ctx: _Context, current: _Point, u, reason: str, params: Parameters, check: bool):
    """Steps 3, 4 and 9 for the proposal u (None: the module failed for ``reason``)."""
    split, x, gamma, mu, C = ctx.split, current.x, params.gamma, params.mu, params.C
    if u is None:
        if not check:  # without the check nothing stands between a broken module and x
            return _Step(None, False, reason)
        return _Step(_proximal_gradient(current, gamma, split), False, reason)
    at_u = _Point(u, split, h=0.0)  # h(u) is never needed
    # step 3: ũ = prox_{γh}(u − γ(∇s(u) + μ(u − x^k)))  (core/check.py)
    checkpoint()
    u_tilde, h_tilde = proximal_objective_step(u, x, at_u.grad, gamma, mu, split)
    at_tilde = _Point(u_tilde, split, h=h_tilde)
    # step 4: d = (1/γ − μ)(u − ũ) + ∇s(ũ) − ∇s(u), and the check ‖d‖ ≤ C‖ũ − x^k‖
    d = optimality_error(u, u_tilde, at_u.grad, at_tilde.grad, gamma, mu)
    residual, tolerance = residual_and_tolerance(d, u_tilde, x, C)
    d_map = optimality_map(d) if ctx.d_maps else None  # the same d: no extra evaluation
    accepted, reason = True, ""
    if check:
        accepted, reason = _check(residual, tolerance, at_tilde, current, ctx.monotone_guard)
    v = at_tilde if accepted else current
    new = _proximal_gradient(v, gamma, split)  # step 9
    return _Step(new, accepted, reason, u, u_tilde, residual, tolerance, d_map=d_map)


def _fima_step(ctx: _Context, current: _Point, k: int, params: Parameters) -> _Step:
    """Algorithm 1: the learned proposal is kept only when it passes the check.

    When the proposal policy skips iteration k, no proposal is made and the step is the rejection
    branch itself (v = x^k, then step 9): the guarantee is the same, the module's cost is saved.
    """
    if not ctx.schedule.wants(k):
        with exact_float32():
            new = _proximal_gradient(current, params.gamma, ctx.split)
        return _Step(new, False, "skipped", skipped=True)
    step = _checked_step(ctx, current, k, params, check=True)
    ctx.schedule.record(k, step.accepted)
    return step


def _unchecked_step(ctx: _Context, current: _Point, k: int, params: Parameters) -> _Step:
    """Algorithm 1 without step 4's check: v = ũ always."""
    return _checked_step(ctx, current, k, params, check=False)


def _naive_step(ctx: _Context, current: _Point, k: int, params: Parameters) -> _Step:
    """Plug-and-play with no safeguard: x^{k+1} = A(x^k)."""
    u, reason = _propose(ctx.module, current.x, k, params, ctx.problem)  # outside the exact scope
    with exact_float32():
        new = _Point(u, ctx.split) if u is not None else None
    return _Step(new, u is not None, reason, u=u)


def _pg_step(ctx: _Context, current: _Point, k: int, params: Parameters) -> _Step:
    """Plain proximal gradient (knowledge only): v = x^k."""
    with exact_float32():
        return _Step(_proximal_gradient(current, params.gamma, ctx.split), False)


STEPS: dict[str, Callable[..., _Step]] = {
    "fima": _fima_step,
    "unchecked": _unchecked_step,
    "naive": _naive_step,
    "pg": _pg_step,
}


@dataclass
class _Context:
    """What every step of one run shares."""

    problem: Problem
    module: object
    split: Splitting
    monotone_guard: bool
    schedule: ProposalSchedule
    d_maps: bool = False


def iterate(
    problem: Problem,
    module,
    parameters: Parameters | ParameterTimeline,
    variant: str = "fima",
    max_iter: int | None = None,
    compute_metrics: bool = True,
    monotone_guard: bool = True,
    propose: str | ProposalPolicy | None = None,
    d_maps: bool = False,
    interrupt: threading.Event | None = None,
) -> Iterator[Iteration | Abandoned]:
    """Yield one :class:`Iteration` per step x^k → x^{k+1} of ``variant`` (Algorithm 1 for fima).

    ``parameters`` may be a fixed :class:`Parameters` or a :class:`ParameterTimeline` read at every
    iteration boundary (live changes). ``propose`` is fima's proposal policy (core/proposal.py:
    ``always`` or ``adaptive``; None: the default). ``d_maps`` puts step 4's optimality error per
    pixel, |d_i|, into each record's ``d_map`` (from the d the check computes anyway). Runs forever
    if ``max_iter`` is None; a diverging run (non-finite iterate or Ψ exploding) yields a last
    record with ``diverged=True`` and stops. Once ``interrupt`` is set, the step in flight stops
    before its next network pass and an :class:`core.interrupt.Abandoned` marker is yielded instead
    of its record; the next ``next()`` computes iteration k again (clear the event first).

    Every evaluation of Ψ, ∇s, the check and the proxes runs in true float32
    (:func:`core.precision.exact_float32`, entered per step and left before each yield, so a
    suspended generator holds no setting); the module's proposal runs with the user's settings.
    """
    if variant not in VARIANTS:
        raise ValueError(f"unknown variant {variant!r}: choose {', '.join(VARIANTS)}")
    step_function = STEPS[variant]
    timeline = (
        parameters if isinstance(parameters, ParameterTimeline) else ParameterTimeline(parameters)
    )
    split = problem.splitting
    schedule = parse_policy(propose).schedule()
    ctx = _Context(problem, module, split, monotone_guard, schedule, d_maps)
    scorer = None  # the reference's side of PSNR/SSIM, made once for the run
    if compute_metrics and problem.has_reference:
        scorer = ScoredReference(problem.score_reference())

    with exact_float32():
        _set_objective(problem.prior, timeline.at(0))
        current = _Point(problem.x0.clone(), split)
    limit = DIVERGENCE_FACTOR * max(abs(current.objective), 1.0)
    k, previous = 0, None
    while max_iter is None or k < max_iter:
        params = timeline.at(k)
        with exact_float32():
            if _set_objective(problem.prior, params):  # λ or σ changed: Ψ itself changed
                current = _Point(current.x, split)
        if previous is not None and params != previous:  # a live change: propose again
            ctx.schedule.reset(k)
        previous = params
        start = time.perf_counter()
        try:
            with interruptible(interrupt):
                step = step_function(ctx, current, k, params)  # each scopes its own evaluations
        except Interrupted:  # abandoned between two passes: nothing of iteration k is kept
            yield Abandoned(k, variant)
            continue
        seconds = time.perf_counter() - start
        with exact_float32():
            record = _record(ctx, k, variant, current, step, params, limit, seconds)
            if scorer is not None and not record.diverged:
                view = problem.score_view(record.x)
                record.psnr, record.ssim = scorer.psnr(view), scorer.ssim(view)
        yield record  # no exact scope is open here: the caller's torch settings are its own
        if record.diverged:
            return
        current = step.new
        k += 1


def _record(
    ctx: _Context,
    k: int,
    variant: str,
    current: _Point,
    step: _Step,
    params: Parameters,
    limit: float,
    seconds: float,
) -> Iteration:
    """The one place an :class:`Iteration` is built from a step's outcome."""
    new, x = step.new, current.x
    diverged = new is None or not _finite(new.x) or not abs(new.objective) <= limit
    if new is None:
        new_x, f_new, g_new = x, math.nan, math.nan
    else:
        new_x = new.x
        f_new, g_new = ctx.split.f_and_g(new.s, new.h)
    return Iteration(
        k=k,
        variant=variant,
        x=new_x,
        objective=f_new + g_new,
        f=f_new,
        g=g_new,
        accepted=step.accepted,
        step=norm(new_x - x) / max(norm(x), 1e-12) if not diverged else math.inf,
        C=params.C,
        mu=params.mu,
        gamma=params.gamma,
        lam=weight_in_force(ctx.problem.prior, params) or params.lam,
        sigma=params.sigma_at(k),
        conditions_hold=params.conditions_hold(ctx.split.lipschitz()),
        seconds=seconds,
        u=step.u,
        u_tilde=step.u_tilde,
        d_map=step.d_map,
        residual=step.residual,
        tolerance=step.tolerance,
        reject_reason=step.reason,
        skipped=step.skipped,
        diverged=diverged,
    )


def _check(residual: float, tolerance: float, candidate: _Point, current: _Point, guard: bool):
    """Step 4's decision: ‖d‖ ≤ C‖ũ − x^k‖ (and, with the guard, Ψ(ũ) ≤ Ψ(x^k))."""
    if not passes(residual, tolerance):
        return False, "check"
    if guard and not candidate.objective <= current.objective:
        return False, "objective"
    return True, ""


def proximal_weight(gamma: float) -> float:
    """λ = 1/γ: the weight of Prox-PnP's φ_σ at which prox_{γλφ_σ} = prox_{φ_σ} = D_σ."""
    return 1.0 / gamma


def weight_in_force(prior: Prior, params: Parameters) -> float | None:
    """λ of Ψ = f + λg under ``params``: 1/γ for Prox-PnP (prox_{γλφ} = D_σ), λ, or None if fixed."""
    if prior.weight_from_step:
        return proximal_weight(params.gamma)
    if not prior.fixed_weight:
        return float(params.lam)
    return None


def _set_objective(prior: Prior, params: Parameters) -> bool:
    """Give the prior its weight λ (1/γ for Prox-PnP) and a learned prior its σ; True if Ψ changed."""
    changed = False
    weight = weight_in_force(prior, params)
    if weight is not None and prior.weight != weight:
        prior.weight = weight
        changed = True
    if prior.learned and params.sigma_g > 0 and prior.sigma != params.sigma_g:
        prior.sigma = float(params.sigma_g)
        changed = True
    return changed


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
