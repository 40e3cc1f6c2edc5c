"""The GUI's copy of a run's scalar trace: rows per variant, kept column-wise for fast plotting,
with the rejection reasons counted and the iteration where a variant diverged."""

from __future__ import annotations

import math
from collections import Counter

import numpy as np

from core.acceptance import running_acceptance_rate

PLOTTED = (
    "k",
    "objective",
    "step",
    "residual",
    "tolerance",
    "accepted",
    "skipped",
    "psnr",
    "ssim",
    "C",
    "mu",
    "gamma",
)


class RunHistory:
    """Every row of every variant, in arrival order, with numpy columns on demand."""

    def __init__(self) -> None:
        self._rows: dict[str, list[dict]] = {}
        self._columns: dict[str, dict[str, list[float]]] = {}
        self._reasons: dict[str, Counter] = {}
        self._last_reason: dict[str, tuple[int, str]] = {}
        self._diverged: dict[str, int] = {}

    def clear(self) -> None:
        """Forget everything."""
        self._rows.clear()
        self._columns.clear()
        self._reasons.clear()
        self._last_reason.clear()
        self._diverged.clear()

    def extend(self, variant: str, rows: list[dict]) -> None:
        """Append rows of one variant."""
        self._rows.setdefault(variant, []).extend(rows)
        columns = self._columns.setdefault(variant, {name: [] for name in PLOTTED})
        reasons = self._reasons.setdefault(variant, Counter())
        for row in rows:
            for name in PLOTTED:
                value = row.get(name, math.nan)
                columns[name].append(float(value) if value is not None else math.nan)
            reason = row.get("reject_reason")
            if reason:
                reasons[reason] += 1
                self._last_reason[variant] = (int(row.get("k", -1)), str(reason))
            if row.get("diverged") and variant not in self._diverged:
                self._diverged[variant] = int(row.get("k", -1))

    @property
    def variants(self) -> list[str]:
        """Variants with at least one row, in arrival order."""
        return list(self._rows)

    def count(self, variant: str) -> int:
        """Number of rows of ``variant``."""
        return len(self._rows.get(variant, ()))

    def total(self) -> int:
        """Number of rows over all variants."""
        return sum(len(rows) for rows in self._rows.values())

    def last(self, variant: str) -> dict | None:
        """The latest row of ``variant``."""
        rows = self._rows.get(variant)
        return rows[-1] if rows else None

    def rows(self, variant: str) -> list[dict]:
        """The rows of ``variant`` (not a copy)."""
        return self._rows.get(variant, [])

    def all_rows(self, variants: list[str] | tuple[str, ...] | None = None) -> list[dict]:
        """All rows grouped by variant (in the given order), as ``fima run`` would write them."""
        order = variants if variants is not None else self.variants
        return [row for v in order for row in self._rows.get(v, ())]

    def column(self, variant: str, name: str) -> np.ndarray:
        """One column of one variant as a float64 array."""
        values = self._columns.get(variant, {}).get(name, [])
        return np.asarray(values, dtype=np.float64)

    def acceptance_rate(self, variant: str) -> np.ndarray:
        """The acceptance rate after each iteration: accepted ÷ proposals made (core.acceptance)."""
        accepted, skipped = self.column(variant, "accepted"), self.column(variant, "skipped")
        return running_acceptance_rate(variant, accepted, skipped)

    def reject_reasons(self, variant: str) -> Counter:
        """How often each rejection reason (``check``, ``non-finite proposal`` …) occurred."""
        return Counter(self._reasons.get(variant, {}))

    def last_reject(self, variant: str) -> tuple[int, str] | None:
        """(k, reason) of the latest rejected or failed proposal of ``variant``."""
        return self._last_reason.get(variant)

    def diverged_at(self, variant: str) -> int | None:
        """The iteration at which ``variant`` diverged (and was stopped), or None."""
        return self._diverged.get(variant)
