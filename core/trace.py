"""The per-iteration record and the trace table (CSV / JSON) that ``fima run`` and the GUI write.

Row k describes the step x^k → x^{k+1}: objective = Ψ(x^{k+1}), residual = ‖d‖, tolerance = C‖ũ − x^k‖,
step = ‖x^{k+1} − x^k‖ / ‖x^k‖; accepted is 1/0 for fima, 1 for unchecked/naive, 0 for pg.
``label`` names the run (:mod:`core.run_spec`: ``fima · C=0.3`` in an A/B comparison); a run without
parameter overrides is labelled by its variant.
"""

from __future__ import annotations

import csv
import io
import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import torch

from .fileio import atomic_write_text

Tensor = torch.Tensor

COLUMNS = (
    "k",
    "variant",
    "label",
    "objective",
    "f",
    "g",
    "accepted",
    "residual",
    "tolerance",
    "step",
    "psnr",
    "ssim",
    "C",
    "mu",
    "gamma",
    "lam",
    "sigma",
    "conditions_hold",
    "reject_reason",
    "skipped",
    "diverged",
    "seconds",
)


@dataclass
class Iteration:
    """One step of a variant: x^{k+1}, the proposals u and ũ, Ψ and the check's numbers.

    ``d_map`` is step 4's optimality error per pixel, |d_i| with d = (1/γ − μ)(u − ũ) + ∇s(ũ) − ∇s(u)
    (colour channels combined: :func:`core.check.optimality_map`); ‖d_map‖ = ``residual``. It is
    made only when asked for, and only where a proposal was judged (None when skipped or failed,
    and for naive and pg).
    """

    k: int
    variant: str
    x: Tensor
    objective: float
    f: float
    g: float
    accepted: bool
    step: float
    C: float
    mu: float
    gamma: float
    lam: float
    sigma: float
    conditions_hold: bool
    seconds: float
    u: Tensor | None = None
    u_tilde: Tensor | None = None
    d_map: Tensor | None = None  # per-pixel |d| (H × W), only from iterate(..., d_maps=True)
    residual: float = math.nan
    tolerance: float = math.nan
    psnr: float = math.nan
    ssim: float = math.nan
    reject_reason: str = ""
    skipped: bool = False
    diverged: bool = False
    extra: dict = field(default_factory=dict)
    label: str = ""  # the run's label (core/run_spec.py); empty: the variant's name

    def row(self) -> dict:
        """The scalar columns of this record (tensors left out)."""
        row = {name: getattr(self, name) for name in COLUMNS}
        row["label"] = self.label or self.variant
        return row


def _cell(value) -> str:
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return "" if math.isnan(value) else repr(value)
    return str(value)


def trace_csv_text(rows: list[dict]) -> str:
    """CSV text of trace rows with the :data:`COLUMNS` header (NaN → empty cell)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([_cell(row.get(name, "")) for name in COLUMNS])
    return buffer.getvalue()


def write_trace_csv(path: str | Path, rows: list[dict]) -> None:
    """Write trace rows to ``path`` as CSV, atomically."""
    atomic_write_text(path, trace_csv_text(rows))


def write_trace_json(path: str | Path, rows: list[dict]) -> None:
    """Write trace rows as a JSON list (NaN → null), atomically."""

    def clean(v):
        return None if isinstance(v, float) and not math.isfinite(v) else v

    data = [{k: clean(row.get(k)) for k in COLUMNS} for row in rows]
    atomic_write_text(path, json.dumps(data, indent=1))


def read_trace_csv(path: str | Path) -> list[dict]:
    """Read a trace CSV back into typed rows (empty cells → NaN)."""
    ints = {"k"}
    bools = {"accepted", "conditions_hold", "diverged", "skipped"}
    strings = {"variant", "label", "reject_reason"}
    rows = []
    with open(path, newline="") as fh:
        for raw in csv.DictReader(fh):
            row: dict = {}
            for key, text in raw.items():
                if key in ints:
                    row[key] = int(text)
                elif key in bools:
                    row[key] = text == "1"
                elif key in strings:
                    row[key] = text
                else:
                    row[key] = float(text) if text != "" else math.nan
            rows.append(row)
    return rows
