"""Abandoning an iteration between network passes: pause, step, reset and quit act at once.

One iteration of a learned method on a large colour photo makes several network passes (the
proposal A(x^k), ∇s at u and at ũ, the prox, s at x^{k+1}), each of which can take seconds on a
CPU. A caller that may want to stop mid-iteration gives :func:`core.algorithm.iterate` a
``threading.Event``; the engine calls :func:`checkpoint` before every pass, and when the event is
set the pass raises :class:`Interrupted`. ``iterate`` catches it, yields an :class:`Abandoned`
marker instead of a record, and on the next ``next()`` computes iteration k again from x^k — so
a trace never holds half an iteration and an interrupted run ends where an uninterrupted one does.

The event is bound to the thread that runs the step (:func:`interruptible`), not to the engine, so
several runs in several threads each have their own; nothing outside such a scope is interrupted.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

_local = threading.local()


class Interrupted(BaseException):  # noqa: N818 (like GeneratorExit: not an error, not caught as one)
    """The in-flight iteration was abandoned at a checkpoint (a BaseException, so that a user
    module's ``except Exception`` cannot swallow it)."""


@dataclass(frozen=True)
class Abandoned:
    """What ``iterate`` yields instead of the record of iteration ``k`` when it was interrupted;
    the next ``next()`` computes iteration ``k`` again."""

    k: int
    variant: str


@contextmanager
def interruptible(event: threading.Event | None) -> Iterator[None]:
    """Within this scope (in this thread), :func:`checkpoint` raises once ``event`` is set."""
    previous = getattr(_local, "event", None)
    _local.event = event
    try:
        yield
    finally:
        _local.event = previous


def checkpoint() -> None:
    """Raise :class:`Interrupted` if this thread's interrupt event is set (call between passes)."""
    event = getattr(_local, "event", None)
    if event is not None and event.is_set():
        raise Interrupted
