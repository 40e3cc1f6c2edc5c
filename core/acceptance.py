"""The acceptance rate, defined once: accepted proposals ÷ proposals made.

Every place that shows an acceptance rate — the certificate, ``fima run``'s summary line, a study
cell's ``accept_rate``, the explorer's status bar and its running-rate curve — calls
:func:`acceptance_rate` (tests/test_acceptance.py counts the places that divide by anything else).
An iteration where the proposal policy made no proposal (``skipped``: the check's rejection
branch, adaptive policy) is counted apart: in neither the accepted nor the proposals made. pg never
asks the module for a proposal, so it has no acceptance rate (NaN); unchecked and naive take every
proposal (1.0).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping

import numpy as np

from .run_label import variant_of

NO_PROPOSALS = frozenset({"pg"})  # variants that never ask the module for a proposal


def acceptance_rate(accepted, iterations, skipped=0):
    """Accepted ÷ proposals made (``iterations − skipped``); NaN where none was made.

    Numbers give a float; arrays (running counts) give an array, element by element.
    """
    accepted = np.asarray(accepted, dtype=np.float64)
    made = np.asarray(iterations, dtype=np.float64) - np.asarray(skipped, dtype=np.float64)
    shape = np.broadcast_shapes(accepted.shape, made.shape)
    rate = np.full(shape, math.nan)
    np.divide(accepted, made, out=rate, where=made > 0)
    return float(rate) if rate.ndim == 0 else rate


def _flag(row, name: str) -> bool:
    value = row.get(name) if isinstance(row, Mapping) else getattr(row, name, None)
    return bool(value) if value is not None else False


def counted_acceptance_rate(variant: str, accepted: int, iterations: int, skipped: int) -> float:
    """A variant's (or run label's) acceptance rate from its counts; NaN for pg (no proposals)."""
    if variant_of(variant) in NO_PROPOSALS:
        return math.nan
    return acceptance_rate(accepted, iterations, skipped)


def trace_acceptance_rate(variant: str, rows: Iterable) -> float:
    """The acceptance rate of one variant's (or run label's) trace rows (dicts or Iteration
    records); NaN for pg."""
    rows = list(rows)
    accepted = sum(_flag(row, "accepted") for row in rows)
    skipped = sum(_flag(row, "skipped") for row in rows)
    return counted_acceptance_rate(variant, accepted, len(rows), skipped)


def running_acceptance_rate(variant: str, accepted, skipped) -> np.ndarray:
    """The acceptance rate after each iteration, from the 0/1 columns ``accepted`` and ``skipped``
    (``variant``: a variant or a run label)."""
    accepted = np.asarray(accepted, dtype=np.float64)
    if variant_of(variant) in NO_PROPOSALS:
        return np.full(accepted.shape, math.nan)
    skipped = np.nan_to_num(np.asarray(skipped, dtype=np.float64))
    iterations = np.arange(1, accepted.size + 1)
    return acceptance_rate(np.cumsum(np.nan_to_num(accepted)), iterations, np.cumsum(skipped))
