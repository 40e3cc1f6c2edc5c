"""benchmarks/gpu.py's output: the markdown table, progress lines and the JSON file."""

from __future__ import annotations

import math

import torch

MIB = 2**20


def _mib(n) -> str:
    return "-" if n is None else f"{n / MIB:.0f}"


def _number(x, spec: str) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return format(x, spec)


def table(cells: list[dict], device: torch.device) -> str:
    """The cells as a markdown table."""
    peak = "peak MiB" if device.type == "cuda" else "peak MiB (-: CPU)"
    growth = "run MiB" if device.type == "cuda" else "RSS growth MiB"
    head = [
        "size",
        "config",
        "ms/iter",
        "iters",
        peak,
        growth,
        "estimate MiB",
        "Ψ max rise",
        "rises",
        "accepted",
        "note",
    ]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for c in cells:
        accepted = "-" if c.get("accepted") is None else f"{c['accepted']}/{c.get('iters', 0)}"
        note = c["status"] if c["status"] != "ok" else ""
        if c.get("reason"):
            note = f"{note}: {c['reason']}" if note else c["reason"]
        row = [
            str(c["size"]),
            c["config"],
            _number(c.get("ms_per_iter"), ".1f"),
            str(c.get("iters", "-")),
            _mib(c.get("peak_bytes")),
            _mib(c.get("growth_bytes")),
            _mib(c.get("estimate_bytes")),
            _number(c.get("max_rise"), ".1e"),
            str(c.get("rises", "-")),
            accepted,
            note.replace("|", "/"),
        ]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def progress(cell: dict, elapsed: float) -> str:
    """One line for a finished cell."""
    head = f"[{elapsed:7.1f} s] {cell['size']:>5} {cell['config']:<19}"
    if cell["status"] != "ok":
        return f"{head} {cell['status']}: {cell['reason']}"
    memory = (
        f"peak {_mib(cell.get('peak_bytes'))} MiB"
        if cell.get("peak_bytes") is not None
        else f"RSS growth {_mib(cell.get('growth_bytes'))} MiB"
    )
    return (
        f"{head} {_number(cell.get('ms_per_iter'), '.1f')} ms/iter ({cell['iters']} timed), "
        f"{memory}, Ψ max rise {_number(cell.get('max_rise'), '.1e')} "
        f"({cell['cell_seconds']:.1f} s)"
    )


def _strict(value):
    """``value`` with NaN/inf as None (strict JSON)."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_strict(v) for v in value]
    return value
