"""Where a run's solver goes: the engine process when it can, else a thread of this process.

:func:`new_run` is the one place the run controller gets a run from. A run goes to the engine
process (:mod:`gui.run.engine_process`, out of the window's GIL) unless ``FIMA_ENGINE=thread`` says
otherwise or its problem or network cannot be sent there; then it runs in a thread
(:class:`gui.run.solver_run.SolverRun`) and the reason is returned for the status bar.
"""

from __future__ import annotations

import contextlib

from PySide6.QtCore import QObject

from ..busy import wait_cursor
from .engine_process import EngineUnavailable, process_engine_wanted, running_engine
from .process_run import ProcessRun
from .solver_run import SolverRun
from .solver_worker import RunSpec

SolverOrProcessRun = SolverRun | ProcessRun


def new_run(
    spec: RunSpec, predecessor: SolverOrProcessRun | None = None, parent: QObject | None = None
) -> tuple[SolverOrProcessRun, str | None]:
    """A run of ``spec`` (not started) and, when it fell back to a thread, why (one line)."""
    reason = None
    if process_engine_wanted():
        child = running_engine()
        starting = child is None or not child.ready.is_set()  # its imports take a second or two
        try:
            with wait_cursor() if starting else contextlib.nullcontext():
                return ProcessRun(spec, predecessor, parent), None
        except EngineUnavailable as exc:
            reason = f"The solver runs in the window's process: {exc}"
    waits_for = predecessor if isinstance(predecessor, SolverRun) else None
    return SolverRun(spec, waits_for, parent), reason
