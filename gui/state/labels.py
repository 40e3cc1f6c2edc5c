"""Runs' display names: ``FIMA``, ``PG``, ``FIMA · C=0.3`` — the same in every view and message."""

from __future__ import annotations

from core.run_spec import variant_of

VARIANT_LABELS = {
    "fima": "FIMA",
    "unchecked": "unchecked",
    "naive": "naive",
    "pg": "PG",
}


def variant_label(variant: str) -> str:
    """The variant's (or run label's) name in legends: ``FIMA``, ``FIMA · C=0.3``."""
    base = variant_of(variant)
    return VARIANT_LABELS.get(base, base) + variant[len(base) :]
