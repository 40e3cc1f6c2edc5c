"""The cell function: one engine run → its metrics and per-iteration rows (plain, picklable data).

The same :func:`run_cell` runs in the driver (serial), in local worker processes and as a Ray task.
It never raises: a failure comes back as ``status = "failed"`` with a one-line ``error``.
"""

from __future__ import annotations

import math
import os
import threading
import time

from ..acceptance import trace_acceptance_rate
from ..errors import first_line, one_line
from ..trace import COLUMNS

METRICS = (
    "psnr",
    "ssim",
    "best_psnr",
    "accept_rate",
    "monotone",
    "objective",
    "iterations",
    "seconds",
)
MONOTONE_TOLERANCE = 1e-6  # relative: Ψ is summed in float32
_BOOLEAN_COLUMNS = {"accepted", "conditions_hold", "diverged"}


def set_threads(threads: int) -> None:
    """Give torch ``threads`` intra-op threads (and one inter-op thread, where still possible)."""
    import torch

    threads = max(1, int(threads))
    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # only allowed before the first parallel work; harmless afterwards
        pass


def worker_init(threads: int, parent_pid: int) -> None:
    """Initialiser of a local worker process: torch threads, and exit when the driver is gone.

    A driver killed with ``kill -9`` cannot shut its pool down; each worker polls its parent and
    leaves on its own instead of waiting forever for work.
    """
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    set_threads(threads)

    def watch() -> None:
        while True:
            time.sleep(0.5)
            if os.getppid() != parent_pid:
                os._exit(3)

    threading.Thread(target=watch, name="fima-study-watchdog", daemon=True).start()


def _plain(value):
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _first_line(exc: BaseException) -> str:
    from ..io import InputError

    return (first_line(exc) if isinstance(exc, InputError) else one_line(exc))[:500]


def summarise(rows: list[dict], initial_objective: float, seconds: float) -> dict:
    """The cell's metrics from its trace rows: last and best PSNR, acceptance, monotone Ψ.

    ``accept_rate`` is accepted ÷ proposals made (:mod:`core.acceptance`): None for pg (no
    proposals) and where every proposal was skipped.
    """

    def finite(values):
        return [v for v in values if isinstance(v, (int, float)) and math.isfinite(v)]

    last = rows[-1] if rows else {}
    variant = str(last.get("variant", ""))
    psnrs = finite(r.get("psnr") for r in rows)
    previous, monotone = initial_objective, bool(rows)
    for row in rows:
        value = row.get("objective", math.nan)
        if row.get("diverged") or not math.isfinite(value):
            monotone = False
            break
        if math.isfinite(previous) and value > previous + MONOTONE_TOLERANCE * max(
            1.0, abs(previous)
        ):
            monotone = False
            break
        previous = value
    return {
        "psnr": _plain(last.get("psnr", math.nan)),
        "ssim": _plain(last.get("ssim", math.nan)),
        "best_psnr": max(psnrs) if psnrs else None,
        "accept_rate": _plain(trace_acceptance_rate(variant, rows)),
        "monotone": int(monotone),
        "objective": _plain(last.get("objective", math.nan)),
        "iterations": len(rows),
        "seconds": seconds,
    }


def compute_cell(job: dict) -> tuple[dict, list[tuple]]:
    """Run one cell's engine run; returns (metrics, rows as tuples in :data:`COLUMNS` order)."""
    from ..algorithm import iterate
    from ..io import InputError
    from ..tasks import build_task

    start = time.perf_counter()
    setup = build_task(job["task"], job["image"], **job["options"])
    try:
        params = setup.parameters.with_changes(**job["overrides"])
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    label = job.get("label") or job["variant"]
    rows = [
        {**record.row(), "label": label}
        for record in iterate(
            setup.problem,
            setup.module,
            params,
            job["variant"],
            max_iter=job["iterations"],
            propose=job.get("propose"),
        )
    ]
    initial = setup.problem.objective(setup.problem.x0)[0]  # the prior holds λ by now
    metrics = summarise(rows, initial, time.perf_counter() - start)
    return metrics, [tuple(_plain(row.get(name)) for name in COLUMNS) for row in rows]


def run_cell(job: dict) -> dict:
    """One cell, never raising: ``{"id", "status": done|failed, "error", metrics…, "rows"}``."""
    start = time.perf_counter()
    try:
        set_threads(job.get("threads", 1))
        metrics, rows = compute_cell(job)
    except Exception as exc:  # any failure of this run belongs to this cell only
        return {
            "id": job["id"],
            "status": "failed",
            "error": _first_line(exc),
            "seconds": time.perf_counter() - start,
            "rows": [],
            "columns": COLUMNS,
        }
    return {
        "id": job["id"],
        "status": "done",
        "error": None,
        **metrics,
        "rows": rows,
        "columns": COLUMNS,
    }
