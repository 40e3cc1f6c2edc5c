"""Run specs: a variant run with its own parameter overrides, for A/B comparisons on one problem.

``VARIANT[:key=value,...]``, e.g. ``fima``, ``fima:C=0.3``, ``fima:mu=0.5,C=0.2``. The keys are the
editable parameters (:data:`core.params.EDITABLE`: C, mu, gamma, lam, rho, sigma_start, sigma_end,
sigma_steps, sigma_g). A run's overrides replace the session's initial parameters for that run only;
the session's live changes then apply to every run at their iterations.

Each run has a LABEL, ``fima · C=0.3`` (overrides in :data:`EDITABLE` order, values as ``%g``; a
run without overrides is labelled by its variant), and a file-safe form of it, ``fima_C=0.3``, for
result and map file names. Two runs of one comparison may not share a label.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from .params import EDITABLE, Parameters
from .run_label import SEPARATOR, variant_of  # noqa: F401 (variant_of: re-exported)

_UNSAFE = re.compile(r"[^A-Za-z0-9._=+-]")


@dataclass(frozen=True)
class RunSpec:
    """One run of a comparison: a variant and its parameter overrides (possibly none)."""

    variant: str
    overrides: Mapping[str, float] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """``fima`` or ``fima · C=0.3, mu=0.5``: what plots, traces and summaries call this run."""
        if not self.overrides:
            return self.variant
        return self.variant + SEPARATOR + ", ".join(_pairs(self.overrides))

    @property
    def file_label(self) -> str:
        """The label in plain ASCII for file names: ``fima_C=0.3_mu=0.5``."""
        return _UNSAFE.sub("-", "_".join([self.variant, *_pairs(self.overrides)]))

    @property
    def text(self) -> str:
        """The spec as it is typed: ``fima:C=0.3,mu=0.5`` (parses back to this spec)."""
        if not self.overrides:
            return self.variant
        return self.variant + ":" + ",".join(_pairs(self.overrides))

    def parameters(self, base: Parameters) -> Parameters:
        """``base`` with this run's overrides (raises ValueError on a bad value)."""
        return base.with_changes(**self.overrides)


def _pairs(overrides: Mapping[str, float]) -> list[str]:
    return [f"{name}={_number(overrides[name])}" for name in EDITABLE if name in overrides]


def _number(value: float) -> str:
    short = f"{value:g}"
    return short if float(short) == value else repr(value)


def _known_variants() -> tuple[str, ...]:
    from .algorithm import VARIANTS

    return VARIANTS


def make_run_spec(variant: str, overrides: Mapping[str, float] | None = None) -> RunSpec:
    """A checked :class:`RunSpec` (raises ValueError naming the unknown variant or bad value)."""
    variants = _known_variants()
    if variant not in variants:
        raise ValueError(f"unknown variant {variant!r}: choose from {', '.join(variants)}")
    values: dict[str, float] = {}
    for name, value in (overrides or {}).items():
        if name not in EDITABLE:
            raise ValueError(
                f"unknown parameter {name!r} for {variant}: choose from {', '.join(EDITABLE)}"
            )
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise ValueError(f"{variant}: {name} must be a number, got {value!r}")
        values[name] = value
    Parameters().with_changes(**values)  # each value valid on its own (positive, finite, ...)
    return RunSpec(variant, {name: values[name] for name in EDITABLE if name in values})


def parse_run_spec(text: str) -> RunSpec:
    """``fima:C=0.3,mu=0.5`` (or its label) → RunSpec("fima", {"C": 0.3, "mu": 0.5}); ValueError
    says what is wrong."""
    variant, colon, rest = text.strip().replace(SEPARATOR.strip(), ":", 1).partition(":")
    variant = variant.strip()
    if not variant:
        raise ValueError(f"expected VARIANT[:key=value,...], got {text!r}")
    overrides: dict[str, float] = {}
    if colon:
        for item in rest.split(","):
            name, equals, value = (part.strip() for part in item.partition("="))
            if not equals or not name:
                raise ValueError(f"expected key=value after {variant}:, got {item.strip()!r}")
            if name in overrides:
                raise ValueError(f"{text.strip()!r} sets {name} twice")
            try:
                number = float(value)
            except ValueError:
                raise ValueError(f"{variant}: {name}={value!r} is not a number") from None
            if not math.isfinite(number):
                raise ValueError(f"{variant}: {name} must be finite, got {value}")
            overrides[name] = (
                int(number) if name == "sigma_steps" and number.is_integer() else number
            )
    return make_run_spec(variant, overrides)


def check_unique(specs: Iterable[RunSpec]) -> list[RunSpec]:
    """The specs as a list; ValueError when two share a label (or a file label)."""
    specs = list(specs)
    for key, what in ((lambda s: s.label, "label"), (lambda s: s.file_label, "file name")):
        seen: set[str] = set()
        for spec in specs:
            if key(spec) in seen:
                raise ValueError(f"two runs have the same {what} {key(spec)!r}: give each its own")
            seen.add(key(spec))
    return specs


def parse_run_specs(text: str) -> list[RunSpec]:
    """``fima,fima:C=0.3,pg``: comma-separated runs, each ``VARIANT[:key=value,...]``.

    A comma followed by ``key=`` continues the previous run's overrides (``fima:mu=0.5,C=0.2``).
    """
    items: list[str] = []
    for piece in text.split(","):
        continues = "=" in piece and ":" not in piece.partition("=")[0]
        if items and continues and ":" in items[-1]:
            items[-1] += "," + piece
        else:
            items.append(piece)
    if not all(item.strip() for item in items):
        raise ValueError(f"expected VARIANT[:key=value,...][,...], got {text!r}")
    return check_unique(parse_run_spec(item) for item in items)
