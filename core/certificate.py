"""The convergence certificate: what Thm 1 of Liu et al. (TPAMI 2019) lets us say about a run so far.

Thm 1 needs, at EVERY iteration, 0 < 2C^k < μ^k and 0 < γ^k < 1/L; it then gives Ψ(x^{k+1}) ≤ Ψ(x^k)
and that every limit point of x^k is a critical point of Ψ. :func:`certificate` reads a variant's
trace rows and says, in plain words, which of these held and what the numbers show.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from .acceptance import counted_acceptance_rate
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


class TrendTally:
    """Whether a positive quantity (the step, ‖d‖) shrinks over a run: the mean log10 of its
    later half against its earlier half, kept as prefix sums so a new value costs O(1)."""

    def __init__(self) -> None:
        self._sums = [0.0]  # sums of log10 of the first i usable values
        self._latest = math.nan

    def add(self, value: object) -> None:
        """One more value (NaN, ∞, ≤ 0 and non-floats are not counted)."""
        if isinstance(value, float) and math.isfinite(value) and value > 0:
            self._sums.append(self._sums[-1] + math.log10(value))
            self._latest = value

    def describe(self) -> str:
        """``shrinking (about 2.1 decades over the run, latest 3.1e-05)``, ``growing …``, ``roughly
        flat …`` or ``too few iterations to tell``."""
        n = len(self._sums) - 1
        if n < 4:
            return "too few iterations to tell"
        half = n // 2
        early = self._sums[half] / half
        late = (self._sums[n] - self._sums[half]) / (n - half)
        if late < early - 0.3:
            return f"shrinking (about {early - late:.1f} decades over the run, latest {self._latest:.2e})"
        if late > early + 0.3:
            return f"growing (latest {self._latest:.2e})"
        return f"roughly flat (latest {self._latest:.2e})"


class CertificateTally:
    """What :func:`certificate` reads off a trace, grown row by row: a run's certificate costs
    O(new rows) to bring up to date, not O(rows) (the explorer re-certifies a long run live)."""

    def __init__(self, variant: str) -> None:
        self.label = variant  # a variant or a run label (``fima · C=0.3``)
        self.variant = variant_of(variant)
        self.count = 0
        self.first_violation: int | None = None
        self.last_violation: int | None = None
        self.holds_again_from: int | None = None
        self.first_increase: int | None = None
        self.first_unknown: int | None = None
        self.diverged = False
        self.accepted = 0
        self.skipped = 0
        self.steps, self.residuals = TrendTally(), TrendTally()
        self._previous: float | None = None  # Ψ at the previous row

    def extend(self, rows: Iterable[dict]) -> CertificateTally:
        """Count ``rows``, the trace's next rows in order; returns self."""
        for row in rows:
            self._add(row)
        return self

    def _add(self, row: dict) -> None:
        k, objective = row["k"], row["objective"]
        if not row.get("conditions_hold", True):
            if self.first_violation is None:
                self.first_violation = k
            self.last_violation, self.holds_again_from = k, None
        elif self.last_violation is not None and self.holds_again_from is None:
            if k > self.last_violation:
                self.holds_again_from = k
        previous = self._previous
        if (
            self.first_increase is None
            and previous is not None
            and math.isfinite(previous)
            and not objective <= previous + MONOTONE_TOLERANCE * abs(previous)
        ):
            self.first_increase = k
        # Ψ = +∞ at a finite, non-diverged iterate: φ_σ is unknown there (gs-prox), not a divergence
        if self.first_unknown is None and objective == math.inf and not row.get("diverged"):
            self.first_unknown = k
        if row.get("diverged") or math.isnan(objective) or objective == -math.inf:
            self.diverged = True
        self.accepted += bool(row.get("accepted"))
        self.skipped += bool(row.get("skipped"))
        self.steps.add(row.get("step", math.nan))
        self.residuals.add(row.get("residual", math.nan))
        self._previous = objective
        self.count += 1

    def certificate(self) -> Certificate:
        """The certificate of the rows counted so far."""
        rate = counted_acceptance_rate(self.variant, self.accepted, self.count, self.skipped)
        cert = Certificate(
            variant=self.variant,
            iterations=self.count,
            assumptions_held=self.first_violation is None,
            first_violation=self.first_violation,
            monotone=self.first_increase is None
            and not self.diverged
            and self.first_unknown is None,
            first_increase=self.first_increase,
            acceptance_rate=rate,
            diverged=self.diverged,
            step_trend=self.steps.describe(),
            residual_trend=self.residuals.describe(),
            first_unknown=self.first_unknown,
            skipped=self.skipped,
            label=self.label,
            last_violation=self.last_violation,
            holds_again_from=self.holds_again_from,
        )
        cert.lines = _explain(cert)
        return cert


def certificate(variant: str, rows: list[dict]) -> Certificate:
    """Read one variant's (or run label's) trace rows and say what the convergence theory
    guarantees about them."""
    return CertificateTally(variant).extend(rows).certificate()


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
