"""Run labels: ``fima`` for a variant run once, ``fima · C=0.3`` for a run with its own parameters.

The label is what traces (``label`` column), plots, certificates and sessions call a run
(:mod:`core.run_spec` makes them); :func:`variant_of` reads the variant back out of one.
"""

from __future__ import annotations

SEPARATOR = " · "  # between the variant and its overrides in a label


def variant_of(label: str) -> str:
    """The variant a run label names: ``fima · C=0.3`` → ``fima`` (a plain variant is itself)."""
    return label.split(SEPARATOR, 1)[0]
