"""Shared look: variant colours and symbols, the colormaps offered, warning styles."""

from __future__ import annotations

VARIANT_COLORS = {
    "fima": "#1f77b4",
    "unchecked": "#ff7f0e",
    "naive": "#d62728",
    "pg": "#2ca02c",
}
FALLBACK_COLOR = "#7f7f7f"

VARIANT_LABELS = {
    "fima": "FIMA",
    "unchecked": "unchecked",
    "naive": "naive",
    "pg": "PG",
}

COLORMAPS = ("gray", "viridis", "inferno", "magma", "plasma", "cividis", "turbo")

CONDITION_OK_STYLE = "QLabel { color: palette(window-text); }"
CONDITION_BAD_STYLE = (
    "QLabel { color: white; background-color: #c62828; border-radius: 3px; padding: 1px 4px; }"
)


def variant_color(variant: str) -> str:
    """The colour a variant is drawn in everywhere."""
    return VARIANT_COLORS.get(variant, FALLBACK_COLOR)


def variant_label(variant: str) -> str:
    """The variant's name in legends."""
    return VARIANT_LABELS.get(variant, variant)
