"""Heatmaps of a study: one metric over two axes, the other axes averaged or fixed (``--where``).

:func:`heatmap_data` is plain numpy (the explorer's Study window can draw it too); :func:`write_heatmap`
renders a PNG with matplotlib's object API (no pyplot, no global state), with the line 2C = μ when the
axes are C and μ: below it in the (C, μ) plane, 2C < μ and Thm 1's guarantee holds.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..io import InputError
from .cells import METRICS
from .store import StudyStore

CATEGORIES = ("image", "variant")  # axes every study has besides its grid axes
ACCEPTANCE_VARIANT = "fima"  # accept_rate with no variant chosen: fima's cells only


@dataclass
class Heatmap:
    """Z[i, j]: the mean of ``metric`` over the done cells with y = ys[i] and x = xs[j]."""

    x: str
    y: str
    metric: str
    xs: list
    ys: list
    values: np.ndarray
    counts: np.ndarray
    scales: dict = field(default_factory=dict)
    averaged: list = field(default_factory=list)  # other axes with more than one value
    where: dict = field(default_factory=dict)
    task: str = ""


def axis_values(store: StudyStore) -> dict[str, list]:
    """Every axis of the study (image, variant, then the grid axes) with its values, in order."""
    canonical = json.loads(store.meta("canonical") or "{}")
    values: dict[str, list] = {
        "image": list(canonical.get("images", [])),
        "variant": list(canonical.get("variants", [])),
    }
    for name, axis in canonical.get("axes", []):
        values[name] = list(axis)
    return values


def _same(a, b) -> bool:
    if isinstance(a, (int, float)) and isinstance(b, (int, float)):
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-15)
    return a == b


def parse_where(items: list[str], axes: dict[str, list]) -> dict:
    """``AXIS=VALUE`` texts → {axis: the study's value} (InputError for an unknown axis or value)."""
    chosen: dict = {}
    for item in items or []:
        name, sep, text = item.partition("=")
        name, text = name.strip(), text.strip()
        if not sep or not name:
            raise InputError(f"--where takes AXIS=VALUE, got {item!r}")
        if name not in axes:
            raise InputError(f"--where {name}: no such axis (axes: {', '.join(axes)})")
        match = [v for v in axes[name] if _matches(v, text, name)]
        if not match:
            shown = ", ".join(_label(v, name) for v in axes[name][:12])
            raise InputError(f"--where {name}={text}: not a value of the study ({shown})")
        chosen[name] = match[0]
    return chosen


def _matches(value, text: str, axis: str) -> bool:
    if axis == "image" and isinstance(value, str):
        return text in (value, Path(value).name, Path(value).stem)
    if isinstance(value, bool):
        return text.lower() in (str(value).lower(), str(int(value)))
    if isinstance(value, (int, float)):
        try:
            return _same(value, float(text))
        except ValueError:
            return False
    return str(value) == text


def _label(value, axis: str = "") -> str:
    if axis == "image" and isinstance(value, str):
        return Path(value).name
    if isinstance(value, float):
        return f"{value:.3g}"
    return str(value)


def heatmap_data(
    store: StudyStore, x: str, y: str, metric: str, where: dict | None = None
) -> Heatmap:
    """Average ``metric`` over the done cells by (x, y), after fixing the ``where`` axes."""
    axes = axis_values(store)
    for name, flag in ((x, "--x"), (y, "--y")):
        if name not in axes:
            raise InputError(f"{flag} {name}: no such axis (axes: {', '.join(axes)})")
    if x == y:
        raise InputError("--x and --y must be two different axes")
    if metric not in METRICS:
        raise InputError(f"--metric {metric}: choose {', '.join(METRICS)}")
    where = dict(where or {})
    for name in (x, y):
        if name in where:
            raise InputError(f"--where {name}: that axis is already --x or --y")
    where = acceptance_where(axes, x, y, metric, where)
    xs, ys = axes[x], axes[y]
    sums = np.zeros((len(ys), len(xs)))
    counts = np.zeros((len(ys), len(xs)), dtype=int)
    for row in store.rows("status = 'done'"):
        if not all(_same(row.get(k), v) for k, v in where.items()):
            continue
        value = row.get(metric)
        if value is None or not math.isfinite(value):
            continue
        i = _index(ys, row.get(y))
        j = _index(xs, row.get(x))
        if i is None or j is None:
            continue
        sums[i, j] += value
        counts[i, j] += 1
    with np.errstate(invalid="ignore", divide="ignore"):
        values = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
    scales = json.loads(store.meta("scales") or "{}")
    averaged = [n for n, v in axes.items() if n not in (x, y, *where) and len(v) > 1]
    return Heatmap(
        x, y, metric, xs, ys, values, counts, scales, averaged, where, store.meta("task") or ""
    )


def acceptance_where(axes: dict[str, list], x: str, y: str, metric: str, where: dict) -> dict:
    """``where`` with variant = fima for accept_rate when no variant is chosen (else unchanged).

    The acceptance rate is accepted ÷ proposals made; averaged over variants it would mix fima's with
    unchecked's (always 1) and old studies' pg cells (stored as 0: pg makes no proposal).
    """
    variants = axes.get("variant", [])
    if metric != "accept_rate" or "variant" in (x, y, *where) or len(variants) < 2:
        return where
    if ACCEPTANCE_VARIANT in variants:
        return {**where, "variant": ACCEPTANCE_VARIANT}
    raise InputError(
        "--metric accept_rate: the variants' rates mean different things, so they are not "
        f"averaged; add --where variant=NAME ({', '.join(map(str, variants))})"
    )


def _index(values: list, value) -> int | None:
    for i, candidate in enumerate(values):
        if _same(candidate, value):
            return i
    return None


def _numeric(values: list) -> bool:
    return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)


def _is_log(values: list, scale: str | None) -> bool:
    if not _numeric(values) or min(values) <= 0:
        return False
    return scale == "log" or (len(values) >= 3 and max(values) / min(values) >= 100)


def _edges(values: list, log: bool) -> np.ndarray:
    """Cell edges around sorted centres: midpoints (geometric on a log axis)."""
    if len(values) == 1:
        v = float(values[0])
        half = 0.5 * max(1.0, abs(v))
        return np.array([v / 2, v * 2]) if log else np.array([v - half, v + half])
    centres = np.log(values) if log else np.asarray(values, dtype=float)
    mids = (centres[1:] + centres[:-1]) / 2
    edges = np.concatenate([[2 * centres[0] - mids[0]], mids, [2 * centres[-1] - mids[-1]]])
    return np.exp(edges) if log else edges


def write_heatmap(heat: Heatmap, path: str | Path, size: tuple[int, int] = (800, 640)) -> Path:
    """Draw ``heat`` into a PNG of ``size`` pixels (width, height); returns the path."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise InputError("fima study plot needs matplotlib: pip install matplotlib") from None
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise InputError(f"--out must end in .png, got {path.name}")
    dpi = 100
    fig = Figure(figsize=(size[0] / dpi, size[1] / dpi), dpi=dpi, layout="constrained")
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    coords = []
    for name, values in ((heat.x, heat.xs), (heat.y, heat.ys)):
        numeric = _numeric(values) and len(values) > 0
        log = _is_log(values, heat.scales.get(name))
        order = np.argsort(values) if numeric else np.arange(len(values))
        coords.append((numeric, log, order))
    (xnum, xlog, xorder), (ynum, ylog, yorder) = coords
    values = heat.values[np.ix_(yorder, xorder)]
    xs = [heat.xs[i] for i in xorder]
    ys = [heat.ys[i] for i in yorder]
    xedges = _edges(xs, xlog) if xnum else np.arange(len(xs) + 1) - 0.5
    yedges = _edges(ys, ylog) if ynum else np.arange(len(ys) + 1) - 0.5
    bounded = heat.metric in ("accept_rate", "monotone")
    mesh = ax.pcolormesh(
        xedges,
        yedges,
        np.ma.masked_invalid(values),
        cmap="viridis",
        vmin=0.0 if bounded else None,
        vmax=1.0 if bounded else None,
        shading="flat",
    )
    fig.colorbar(mesh, ax=ax, label=heat.metric)
    _set_axis(ax.xaxis, ax.set_xscale, heat.x, xs, xnum, xlog)
    _set_axis(ax.yaxis, ax.set_yscale, heat.y, ys, ynum, ylog)
    ax.set_xlabel("μ" if heat.x == "mu" else heat.x)
    ax.set_ylabel("μ" if heat.y == "mu" else heat.y)
    if len(xs) * len(ys) <= 225:
        _annotate(ax, values, xs, ys, xnum, ynum, mesh)
    if {heat.x, heat.y} == {"C", "mu"} and xnum and ynum:
        _guarantee_line(ax, heat.x, xedges, yedges, xlog)
    ax.set_xlim(xedges[0], xedges[-1])
    ax.set_ylim(yedges[0], yedges[-1])
    ax.set_title(_title(heat), fontsize=10)
    from ..fileio import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=dpi, format="png")
    return path


def _set_axis(axis, set_scale, name: str, values: list, numeric: bool, log: bool) -> None:
    if numeric:
        if log:
            set_scale("log")
        axis.set_ticks(values)
        axis.set_ticklabels([_label(v, name) for v in values])
        axis.set_minor_locator(_null_locator())
    else:
        axis.set_ticks(range(len(values)))
        axis.set_ticklabels([_label(v, name) for v in values])


def _null_locator():
    from matplotlib.ticker import NullLocator

    return NullLocator()


def _centre(values: list, i: int, numeric: bool) -> float:
    return float(values[i]) if numeric else float(i)


def _annotate(ax, values, xs, ys, xnum, ynum, mesh) -> None:
    norm, cmap = mesh.norm, mesh.cmap
    for i in range(len(ys)):
        for j in range(len(xs)):
            v = values[i, j]
            if not math.isfinite(v):
                continue
            r, g, b, _ = cmap(norm(v))
            colour = "black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white"
            ax.text(
                _centre(xs, j, xnum),
                _centre(ys, i, ynum),
                f"{v:.3g}",
                ha="center",
                va="center",
                fontsize=7,
                color=colour,
            )


def _guarantee_line(ax, x: str, xedges, yedges, xlog: bool) -> None:
    """The line 2C = μ over the plotted range."""
    lo, hi = float(xedges[0]), float(xedges[-1])
    xs = np.geomspace(lo, hi, 200) if xlog and lo > 0 else np.linspace(lo, hi, 200)
    ys = 2 * xs if x == "C" else xs / 2
    ax.plot(xs, ys, color="white", linewidth=2.2, linestyle="-", alpha=0.9)
    ax.plot(xs, ys, color="crimson", linewidth=1.4, linestyle="--", label="2C = μ")
    ax.legend(loc="best", fontsize=8, framealpha=0.8)


def _title(heat: Heatmap) -> str:
    parts = [f"{heat.metric}" + (f" — {heat.task}" if heat.task else "")]
    if heat.where:
        parts.append(", ".join(f"{k}={_label(v, k)}" for k, v in heat.where.items()))
    if heat.averaged:
        parts.append("mean over " + ", ".join(heat.averaged))
    return "\n".join(parts)
