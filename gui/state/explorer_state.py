"""The explorer's state, in one place and without Qt.

Three things, each with an event that views listen to:

- ``problem``: the problem spec (what the user chose) and the task setup built from it;
- ``parameters``: the parameters the next run starts from (``initial``), the changes scheduled for
  it (from a session), and, during a run, the parameter timeline of that run. ``shown`` is what
  the parameter panel displays: the values in force at the newest iteration of the run (so a
  replayed session's changes appear as the run passes them), with the user's not-yet-applied edits
  on top; without a run, ``initial``;
- ``status``: idle, running, paused, limit, ended or error.

Only the GUI thread changes the state. The run's worker reads the timeline (thread-safe) and
writes nothing here; the run controller pulls the worker's iterations and calls :meth:`follow`.
"""

from __future__ import annotations

from dataclasses import replace

from core import Parameters, ParameterTimeline, TaskSetup

from .events import EventGroup
from .problem_spec import ProblemSpec

RUN_STATES = ("idle", "running", "paused", "limit", "ended", "error")


class ExplorerState:
    """Problem, parameters (next run's start, the running timeline, the values shown), run status."""

    def __init__(self) -> None:
        self.spec: ProblemSpec | None = None
        self.setup: TaskSetup | None = None
        self.defaults: Parameters | None = None  # the task's defaults (presets start from them)
        self.initial: Parameters | None = None  # where the next run starts
        self.scheduled: dict[int, dict[str, float]] = {}  # changes for the next run (a session's)
        self.timeline: ParameterTimeline | None = None  # the current run's parameters by k
        self.shown: Parameters | None = None
        self.status = "idle"
        self.events = EventGroup("problem", "parameters", "status")

    # ---- the problem ----------------------------------------------------------------------
    def set_problem(
        self,
        spec: ProblemSpec,
        setup: TaskSetup,
        parameters: Parameters | None = None,
        scheduled: dict[int, dict[str, float]] | None = None,
    ) -> None:
        """Make ``setup`` (built from ``spec``) the problem; parameters: the given ones, else the
        task's defaults when the task changed, else the current ones."""
        task_changed = self.setup is None or self.setup.settings["task"] != setup.settings["task"]
        self.spec, self.setup = spec, setup
        self.defaults = setup.parameters
        self.scheduled = {int(k): dict(v) for k, v in (scheduled or {}).items()}
        self.timeline = None
        if parameters is not None:
            self.initial = parameters
        elif task_changed or self.initial is None:
            self.initial = setup.parameters
        self.shown = self.initial
        self.events.problem.emit(self)
        self.events.parameters.emit(self.shown)

    @property
    def loaded(self) -> bool:
        """True once a problem is loaded."""
        return self.setup is not None

    # ---- parameters -----------------------------------------------------------------------
    def edit(self, **changes: float) -> dict[str, float]:
        """The user's edit: validated here, once (raises ValueError), sent to the running
        timeline's next boundary and kept for the next run's start; listeners hear of it once.

        Returns the fields that changed ({} when the values shown already are these: no event)."""
        if self.initial is None:
            raise ValueError("no problem is loaded")
        base = self.shown if self.shown is not None else self.initial
        shown = base.with_changes(**changes)  # the one validation: every field is checked alone
        changes = {k: v for k, v in changes.items() if getattr(base, k) != v}
        if not changes:
            return {}
        if self.timeline is not None:
            self.timeline.submit(**changes)
        self.initial = replace(self.initial, **changes)
        self.shown = shown
        self.events.parameters.emit(shown)
        return changes

    def begin_run(self) -> ParameterTimeline:
        """A fresh timeline for a new run: ``initial`` plus the scheduled changes (ValueError if
        a scheduled change is invalid)."""
        if self.initial is None:
            raise ValueError("no problem is loaded")
        self.timeline = ParameterTimeline(self.initial, self.scheduled)
        self.shown = self.initial
        self.events.parameters.emit(self.shown)
        return self.timeline

    def follow(self, iterations: int) -> None:
        """The run completed ``iterations`` steps: show the parameters of its latest step
        (rows k = 0 … iterations − 1), with edits still waiting for the next boundary on top."""
        if self.timeline is None or iterations <= 0:
            return
        shown = self.timeline.in_force(iterations - 1)
        pending = self.timeline.pending
        if pending:
            shown = shown.with_changes(**pending)
        if shown != self.shown:
            self.shown = shown
            self.events.parameters.emit(shown)

    def end_run(self) -> None:
        """The run was discarded (reset, rebuilt): show where the next run starts."""
        self.timeline = None
        if self.shown != self.initial:
            self.shown = self.initial
            self.events.parameters.emit(self.shown)

    # ---- the run's status -----------------------------------------------------------------
    def set_status(self, status: str) -> None:
        """One of :data:`RUN_STATES`; listeners hear of changes only."""
        if status not in RUN_STATES:
            raise ValueError(f"unknown run status {status!r}")
        if status != self.status:
            self.status = status
            self.events.status.emit(status)
