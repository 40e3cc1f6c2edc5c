"""The explorer's state, in one place and without Qt.

Five things; views listen to their psygnal events and write through their methods:

- ``problem``: the problem spec (what the user chose) and the task setup built from it;
- ``parameters``: the parameters the next run starts from (``initial``), the changes scheduled for
  it (from a session), and, during a run, the parameter timeline of that run. ``shown`` is what
  the parameter panel displays: the values in force at the newest iteration of the run (so a
  replayed session's changes appear as the run passes them), with the user's not-yet-applied edits
  on top; without a run, ``initial``;
- ``status``: idle, running, paused, limit, ended or error (``status_line`` also carries the
  words the status bar shows);
- ``solver`` (:class:`SolverSettings`): the runs, iteration limit and proposal policy the next run
  reads;
- ``progress`` (:class:`RunProgress`): what the current run has computed and which iterate is on
  screen — the run controller writes it, the plots, images, bars and certificate draw from it.

Several runs (variants, or A/B runs of one variant with their own parameters, :mod:`core.run_spec`)
each iterate a :class:`core.RunTimeline` over the run's shared timeline. The user's edits go to the
shared timeline — every run, at the same k — unless ``live_target`` names one run: then to that
run alone (and ``shown`` is that run's parameters). Edits without a run change where the next run
starts, for every run.

Only the GUI thread changes the state. The run's worker reads the timeline (thread-safe) and
writes nothing here; the run controller pulls the worker's iterations and calls :meth:`follow`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from psygnal import Signal, SignalGroup

from core import Parameters, ParameterTimeline, RunTimeline, TaskSetup
from core.run_spec import RunSpec

from .problem_spec import ProblemSpec
from .run_progress import RunProgress
from .solver_settings import SolverSettings

RUN_STATES = ("idle", "running", "paused", "limit", "ended", "error")
HISTORY_BUDGET_BYTES = 512 * 2**20  # the iterate history's default memory budget


class ExplorerEvents(SignalGroup):
    """The state's own events (the solver settings and the run's progress have theirs)."""

    problem = Signal(object)  # the state, with a new problem loaded
    parameters = Signal(object)  # the Parameters now shown
    status = Signal(str)  # the run's status changed (one of RUN_STATES)
    status_line = Signal(str, bool, object)  # status, a problem is loaded, words (None: default)


class ExplorerState:
    """Problem, parameters (next run's start, the running timeline, the values shown), run status."""

    def __init__(self, history_budget_bytes: int = HISTORY_BUDGET_BYTES) -> None:
        self.spec: ProblemSpec | None = None
        self.setup: TaskSetup | None = None
        self.defaults: Parameters | None = None  # the task's defaults (presets start from them)
        self.initial: Parameters | None = None  # where the next run starts
        self.scheduled: dict[int, dict[str, float]] = {}  # changes for the next run (a session's)
        self.timeline: ParameterTimeline | None = None  # the current run's parameters by k
        self.scheduled_runs: dict[str, dict[int, dict[str, float]]] = {}  # one run's own, by label
        self.run_timelines: dict[str, RunTimeline] = {}  # each run's, over ``timeline``
        self.live_target: str | None = None  # the run edits go to (None: every run)
        self._iterations = 0  # the run's completed iterations (what ``shown`` follows)
        # the user's edits during the run that no pulled row shows yet, by the run they went to
        # (name → value, rows pulled when it was made): kept on top of ``shown`` so that an older
        # record never puts a field back
        self._edits: dict[str | None, dict[str, tuple[float, int]]] = {}
        self.shown: Parameters | None = None
        self.status = "idle"
        self.events = ExplorerEvents()
        self.solver = SolverSettings()
        self.progress = RunProgress(history_budget_bytes)

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
        self.scheduled_runs = {}
        self.timeline, self.run_timelines = None, {}
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
        target = self.target_timeline()
        if target is not None:
            target.submit(**changes)
            made = {name: (v, self._iterations) for name, v in changes.items()}
            self._edits.setdefault(self.live_target, {}).update(made)
        if target is None or target is self.timeline:
            self.initial = replace(self.initial, **changes)
        self.shown = shown
        self.events.parameters.emit(shown)
        return changes

    def schedule_runs(self, run_changes: dict[str, dict[int, dict[str, float]]]) -> None:
        """Changes (a session's) for single runs of the next run, by run label."""
        self.scheduled_runs = {
            label: {int(k): dict(v) for k, v in changes.items()}
            for label, changes in run_changes.items()
        }

    def begin_run(self, runs: Sequence[RunSpec] = ()) -> ParameterTimeline:
        """A fresh timeline for a new run: ``initial`` plus the scheduled changes, and over it one
        :class:`core.RunTimeline` per run of ``runs`` (ValueError if a change is invalid)."""
        if self.initial is None:
            raise ValueError("no problem is loaded")
        timeline = ParameterTimeline(self.initial, self.scheduled)
        self.run_timelines = {
            spec.label: RunTimeline(
                timeline, dict(spec.overrides), self.scheduled_runs.get(spec.label)
            )
            for spec in runs
        }
        self.timeline, self._iterations, self._edits = timeline, 0, {}
        if self.live_target not in self.run_timelines:
            self.live_target = None
        self.shown = self.target_timeline().initial
        self.events.parameters.emit(self.shown)
        return self.timeline

    def target_timeline(self) -> ParameterTimeline | None:
        """Where an edit goes now: the picked run's timeline, else the shared one (None: no run)."""
        return self.run_timelines.get(self.live_target or "", self.timeline)

    def set_live_target(self, label: str | None) -> None:
        """Send the user's edits to run ``label`` only (None: to every run); ``shown`` follows."""
        self.live_target = label
        target = self.target_timeline()
        if target is None:
            return
        shown = target.in_force(self._iterations - 1) if self._iterations else target.initial
        edits = self._edits.get(self.live_target, {})
        changes = target.changes if edits else {}
        edits = {  # an edit is done once a pulled row, made after it, took its value
            name: (v, since)
            for name, (v, since) in edits.items()
            if not any(
                since <= k < self._iterations and c.get(name) == v for k, c in changes.items()
            )
        }
        self._edits[self.live_target] = edits
        on_top = {name: v for name, (v, _since) in edits.items()}
        if on_top or target.pending:
            shown = shown.with_changes(**{**on_top, **target.pending})
        if shown != self.shown:
            self.shown = shown
            self.events.parameters.emit(shown)

    def follow(self, iterations: int) -> None:
        """The run completed ``iterations`` steps: show the parameters of its latest step
        (rows k = 0 … iterations − 1), with edits still waiting for the next boundary on top."""
        if self.timeline is None or iterations <= 0:
            return
        self._iterations = iterations
        self.set_live_target(self.live_target)

    def end_run(self) -> None:
        """The run was discarded (reset, rebuilt): show where the next run starts."""
        self.timeline, self.run_timelines, self._iterations, self._edits = None, {}, 0, {}
        if self.shown != self.initial:
            self.shown = self.initial
            self.events.parameters.emit(self.shown)

    # ---- the run's status -----------------------------------------------------------------
    def set_status(self, status: str, text: str | None = None) -> None:
        """One of :data:`RUN_STATES` (``status`` heard on changes only), with the words the status
        bar shows (``text``; None: the status's own) — ``status_line`` heard every time."""
        if status not in RUN_STATES:
            raise ValueError(f"unknown run status {status!r}")
        if status != self.status:
            self.status = status
            self.events.status.emit(status)
        self.events.status_line.emit(status, self.loaded, text)
