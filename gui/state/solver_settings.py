"""The solver's settings the next run reads — its runs, iteration limit and proposal policy — evented.

A psygnal evented dataclass: assigning a field emits ``settings.events.<field>(new)`` when the value
changes. The solver panel writes the user's choices here and follows what others write (a session,
a study cell, a refused change put back); the run controller reads them when a run starts and
follows the limit live.
"""

from __future__ import annotations

from dataclasses import dataclass

from psygnal import evented

from core.proposal import DEFAULT_POLICY
from core.run_spec import RunSpec

DEFAULT_VARIANTS = ("fima", "pg")
DEFAULT_LIMIT = 100


@evented
@dataclass
class SolverSettings:
    """Which runs the next run makes, where it stops, and when fima asks for a proposal."""

    runs: tuple[RunSpec, ...] = tuple(RunSpec(v) for v in DEFAULT_VARIANTS)
    limit: int = DEFAULT_LIMIT  # iterations (a paused run at its limit goes on when raised)
    policy: str = DEFAULT_POLICY  # core/proposal.py: always, adaptive[:…]

    @property
    def labels(self) -> list[str]:
        """The runs' labels: ``fima``, ``pg``, ``fima · C=0.3``."""
        return [spec.label for spec in self.runs]
