"""The one line ``fima run`` ends with: task, variant(s), iterations, final Ψ, PSNR/SSIM when a
reference exists, the share of accepted learned steps, whether Theorem 1's conditions held, and
where the files went."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path

from .acceptance import NO_PROPOSALS, trace_acceptance_rate
from .params import ParameterTimeline
from .trace import Iteration

CONDITION_NAMES = {"2C<mu": "2C < μ", "gamma<1/L": "γ < 1/L"}


def variant_summary(variant: str, records: Sequence[Iteration]) -> str:
    """``Ψ 12.34, PSNR 28.31 dB, SSIM 0.842, accepted 86 %`` for one run's records.

    accepted: of the proposals made (:func:`core.acceptance.acceptance_rate`); pg makes none.
    ``variant`` may be a run's label (``fima · C=0.3``): the records name their variant.
    """
    if not records:
        return "no iterations"
    last = records[-1]
    variant = last.variant or variant
    unknown = last.objective == math.inf and not last.diverged  # gs-prox: not an output of D_σ
    parts = ["Ψ +∞ (φ_σ unknown at this iterate)" if unknown else f"Ψ {last.objective:.6g}"]
    if not math.isnan(last.psnr):
        parts.append(f"PSNR {last.psnr:.2f} dB")
    if not math.isnan(last.ssim):
        parts.append(f"SSIM {last.ssim:.4f}")
    if variant not in NO_PROPOSALS:
        rate = trace_acceptance_rate(variant, records)
        if not math.isnan(rate):  # else every iteration skipped its proposal
            parts.append(f"accepted {100.0 * rate:.0f} %")
        skipped = sum(bool(r.skipped) for r in records)
        if skipped:
            parts.append(f"no proposal at {skipped} (adaptive)")
    if last.diverged:
        parts.append(f"diverged at k = {last.k}")
    return ", ".join(parts)


def conditions_summary(
    records: Mapping[str, Sequence[Iteration]], timeline: ParameterTimeline, lipschitz: float
) -> str:
    """``conditions held (2C < μ, γ < 1/L)``, or from which k and which one did not."""
    failed = any(not r.conditions_hold for rows in records.values() for r in rows)
    if not failed:
        return "conditions held (" + ", ".join(CONDITION_NAMES.values()) + ")"
    first = min(
        (r for rows in records.values() for r in rows if not r.conditions_hold), key=lambda r: r.k
    )
    k = first.k
    in_force = timeline.at(k).with_changes(C=first.C, mu=first.mu, gamma=first.gamma)  # its run's
    conditions = in_force.conditions(lipschitz)
    broken = [CONDITION_NAMES.get(name, name) for name, ok in conditions.items() if not ok]
    return f"conditions NOT held from k = {k} ({' and '.join(broken) or 'see the trace'} violated)"


def run_summary(
    task: str,
    records: Mapping[str, Sequence[Iteration]],
    timeline: ParameterTimeline,
    lipschitz: float,
    out: str | Path,
    where: str = "",
) -> str:
    """The summary line of a run of one or several variants on ``task`` (``where``: device, threads)."""
    iterations = max((len(rows) for rows in records.values()), default=0)
    conditions = conditions_summary(records, timeline, lipschitz)
    if len(records) == 1:
        ((variant, rows),) = records.items()
        head, scores = f"{task}, {variant}, {iterations} iterations", variant_summary(variant, rows)
    else:
        head = f"{task}, {' + '.join(records)}, {iterations} iterations each"
        scores = " | ".join(f"{v}: {variant_summary(v, rows)}" for v, rows in records.items())
    on = f"on {where}; " if where else ""
    return f"fima run: {head}: {scores}; {conditions}; {on}written to {out}"
