"""The convergence certificate: what Thm 1 of Liu et al. (TPAMI 2019) lets us say about a run so far.

Thm 1 needs, at EVERY iteration, 0 < 2C^k < μ^k and 0 < γ^k < 1/L; it then gives Ψ(x^{k+1}) ≤ Ψ(x^k)
and that every limit point of x^k is a critical point of Ψ. :func:`certificate` reads a variant's
trace rows and says, in plain words, which of these held and what the numbers show.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from .acceptance import trace_acceptance_rate
from .run_label import variant_of

PAPER = "Liu et al., On the convergence of learning-based iterative methods for nonconvex inverse problems, IEEE TPAMI 2019 (arXiv:1808.05331), Theorem 1"
MONOTONE_TOLERANCE = 1e-6  # relative float round-off allowed on Ψ


@dataclass
class Certificate:
    """Per-variant verdicts and the sentences that explain them."""

    variant: str
    iterations: int
    assumptions_held: bool
    first_violation: int | None
    monotone: bool
    first_increase: int | None
    acceptance_rate: float  # accepted ÷ proposals made (core.acceptance); NaN for pg
    diverged: bool
    step_trend: str
    residual_trend: str
    lines: list[str] = field(default_factory=list)
    # the first k where Ψ = +∞ at a finite iterate (gs-prox: a point the prox D_σ did not produce)
    first_unknown: int | None = None
    skipped: int = 0  # iterations where the proposal policy made no proposal (rejection branch)
    label: str = ""  # the run's label (core/run_spec.py: ``fima · C=0.3``); empty: the variant
    # after a violation: the last k they failed at, and the k from which they hold again (None: not)
    last_violation: int | None = None
    holds_again_from: int | None = None

    @property
    def guaranteed(self) -> bool:
        """True when the theorem applies to the whole run so far."""
        return self.assumptions_held and self.variant == "fima" and not self.diverged


def _trend(values: list[float]) -> str:
    vals = [v for v in values if isinstance(v, float) and math.isfinite(v) and v > 0]
    if len(vals) < 4:
        return "too few iterations to tell"
    half = len(vals) // 2
    early = sum(math.log10(v) for v in vals[:half]) / half
    late = sum(math.log10(v) for v in vals[half:]) / (len(vals) - half)
    if late < early - 0.3:
        return f"shrinking (about {early - late:.1f} decades over the run, latest {vals[-1]:.2e})"
    if late > early + 0.3:
        return f"growing (latest {vals[-1]:.2e})"
    return f"roughly flat (latest {vals[-1]:.2e})"


def certificate(variant: str, rows: list[dict]) -> Certificate:
    """Read one variant's (or run label's) trace rows and say what the convergence theory
    guarantees about them."""
    label, variant = variant, variant_of(variant)
    n = len(rows)
    violation = next((r["k"] for r in rows if not r.get("conditions_hold", True)), None)
    objectives = [r["objective"] for r in rows]
    increase = None
    for prev, row in zip(rows, rows[1:], strict=False):
        a, b = prev["objective"], row["objective"]
        if math.isfinite(a) and not b <= a + MONOTONE_TOLERANCE * abs(a):
            increase = row["k"]
            break
    # Ψ = +∞ at a finite, non-diverged iterate: φ_σ is unknown there (gs-prox), not a divergence
    unknown = next(
        (r["k"] for r in rows if r["objective"] == math.inf and not r.get("diverged")), None
    )
    diverged = any(r.get("diverged") for r in rows) or any(
        math.isnan(o) or o == -math.inf for o in objectives
    )
    skipped = sum(1 for r in rows if r.get("skipped"))
    failed = [r["k"] for r in rows if not r.get("conditions_hold", True)]
    again = next((r["k"] for r in rows if failed and r["k"] > failed[-1]), None)
    cert = Certificate(
        variant=variant,
        iterations=n,
        assumptions_held=violation is None,
        first_violation=violation,
        monotone=increase is None and not diverged and unknown is None,
        first_increase=increase,
        acceptance_rate=trace_acceptance_rate(variant, rows),
        diverged=diverged,
        step_trend=_trend([r.get("step", math.nan) for r in rows]),
        residual_trend=_trend([r.get("residual", math.nan) for r in rows]),
        first_unknown=unknown,
        skipped=skipped,
        label=label,
        last_violation=failed[-1] if failed else None,
        holds_again_from=again,
    )
    cert.lines = _explain(cert)
    return cert


def _explain(c: Certificate) -> list[str]:
    lines = []
    if c.iterations == 0:
        return ["No iterations yet."]
    if c.assumptions_held:
        lines.append(
            f"The step-size conditions 2C < μ and γ < 1/L held at all {c.iterations} iterations."
        )
    elif c.holds_again_from is not None:
        first, last = c.first_violation, c.last_violation
        at = f"iteration {first}" if first == last else f"iterations {first}–{last}"
        lines.append(
            f"The conditions 2C < μ and γ < 1/L failed at {at} and hold again from iteration "
            f"{c.holds_again_from} on: the theorem applies to the run from x^{c.holds_again_from} "
            "on (as to a run started there), not to the iterations before."
        )
    else:
        lines.append(
            f"The conditions 2C < μ and γ < 1/L failed from iteration {c.first_violation} on: "
            "the theorem no longer applies to this run."
        )
    if c.diverged:
        lines.append("The run DIVERGED (a non-finite or exploding iterate) and was stopped.")
    elif c.first_unknown is not None:
        lines.append(
            f"Ψ is +∞ from iteration {c.first_unknown} on: those iterates are not outputs of the "
            "learned prior's proximal map D_σ, where φ_σ is unknown, so the trace cannot show "
            "whether Ψ decreased."
        )
    elif c.monotone:
        lines.append("The objective Ψ never increased.")
    else:
        lines.append(f"The objective Ψ INCREASED at iteration {c.first_increase}.")
    if c.variant == "fima":
        if c.iterations > c.skipped:
            lines.append(
                f"{100 * c.acceptance_rate:.0f} % of the {c.iterations - c.skipped} learned "
                "proposals made passed the check."
            )
        if c.skipped:
            lines.append(
                f"The proposal policy skipped the module at {c.skipped} iterations: each is the "
                "check's rejection branch (v = x^k), so the guarantee is the same."
            )
        if c.guaranteed:
            lines.append(
                "So the theorem applies: Ψ keeps decreasing and every limit point of the iterates is "
                "a critical point of Ψ, whatever the learned module does."
            )
    elif c.variant == "pg":
        lines.append("Plain proximal gradient: no learned step is taken.")
    else:
        lines.append(
            f"The {c.variant} variant has no check, so there is no guarantee even when the "
            "conditions hold."
        )
    lines.append(f"Relative step ‖x^(k+1) − x^k‖/‖x^k‖: {c.step_trend}.")
    if c.variant in ("fima", "unchecked"):
        lines.append(f"Optimality error ‖d‖: {c.residual_trend}.")
    return lines
