"""Shared look: variant colours and symbols, the colormaps offered, warning styles.

A run with its own parameters (A/B, :mod:`core.run_spec`: ``fima · C=0.3``) is drawn in a colour of
its own from :data:`RUN_COLORS`, given in the order runs are first seen and kept for the session.
"""

from __future__ import annotations

from core.run_spec import SEPARATOR

from ..state.labels import VARIANT_LABELS, variant_label  # noqa: F401 (the views' names)

VARIANT_COLORS = {
    "fima": "#1f77b4",
    "unchecked": "#ff7f0e",
    "naive": "#d62728",
    "pg": "#2ca02c",
}
FALLBACK_COLOR = "#7f7f7f"
RUN_COLORS = ("#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22", "#393b79", "#ad494a")
_run_colors: dict[str, str] = {}  # label → colour, for runs with overrides

COLORMAPS = ("gray", "viridis", "inferno", "magma", "plasma", "cividis", "turbo")

CONDITION_OK_STYLE = "QLabel { color: palette(window-text); }"
CONDITION_BAD_STYLE = (
    "QLabel { color: white; background-color: #c62828; border-radius: 3px; padding: 1px 4px; }"
)


def variant_color(variant: str) -> str:
    """The colour a variant (or a run label) is drawn in everywhere."""
    if variant in VARIANT_COLORS or SEPARATOR not in variant:
        return VARIANT_COLORS.get(variant, FALLBACK_COLOR)
    if variant not in _run_colors:
        used = set(_run_colors.values())
        free = [c for c in RUN_COLORS if c not in used]
        _run_colors[variant] = free[0] if free else RUN_COLORS[len(_run_colors) % len(RUN_COLORS)]
    return _run_colors[variant]
