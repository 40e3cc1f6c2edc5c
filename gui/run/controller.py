"""The run controller: starts, pauses, steps and resets the solver run, and pulls its iterations
into the explorer state — the only thing it writes. It imports no view.

It is given the state and a check asked before a run starts, and tells the rest through the state
(the run's progress, status and messages: the views bind to them) and its own signals (``failed``
for an error the user must see); it knows nothing of the window that composes it.

A GUI-thread QObject, so the worker's notifications reach its bound methods in the GUI thread.
It owns at most one run (plus a stopped one still finishing its iteration): a
:class:`gui.run.process_run.ProcessRun` in the engine process, or a :class:`SolverRun` in a thread
when the run cannot go there (:func:`gui.run.runs.new_run` decides); it
pulls the worker's data only after a notification, at most ~30 times a second and within a CPU
budget (:mod:`gui.refresh_budget`), into :class:`gui.state.RunProgress`, and then gives the views
one draw turn (``progress.events.frame``); a view with drawing left asks for another
(``frame_wanted``).

Reset and rebuilding never wait for a slow iteration: the stopped run finishes it in the
background (its results are dropped) and the next run's worker waits for it in its own thread.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from core.run_spec import RunSpec as RunChoice

from ..display import to_display_array
from ..refresh_budget import RefreshBudget
from ..state import ExplorerState
from ..state.labels import variant_label
from ..state.run_history import RunHistory
from .runs import SolverOrProcessRun, new_run
from .solver_run import STOP_TIMEOUT_S
from .solver_worker import RunSpec

RESET_WAIT_S = 0.25  # reset / rebuild wait at most this long for the iteration in progress


class RunController(QObject):
    """The solver run of one explorer window: its lifecycle, its data, its status."""

    limitReached = Signal()  # the run reached its iteration limit (and paused)
    ended = Signal()  # the worker loop returned (error, or every variant stopped)
    failed = Signal(str)  # a problem the user must be told of, in one line

    def __init__(
        self,
        state: ExplorerState,
        admit: Callable[[int], bool] | None = None,
        excluded_cpu: Callable[[], float] | None = None,
        parent: QObject | None = None,
    ) -> None:
        """``admit(n)`` is asked before a run of n variants starts (False: it does not);
        ``excluded_cpu()``: GUI-thread CPU seconds the views pace themselves (not charged)."""
        super().__init__(parent)
        self.state = state
        self.progress = state.progress
        self._admit = admit or (lambda _variants: True)
        self.run: SolverOrProcessRun | None = None
        self.runs: tuple[RunChoice, ...] = ()  # the current run's runs, as chosen
        # a stopped run still finishing its iteration
        self._retired: SolverOrProcessRun | None = None
        self._budget = RefreshBudget(excluded=excluded_cpu)
        self._run_error: str | None = None
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.timeout.connect(self._paced_refresh)
        self.progress.events.frame_wanted.connect(self._on_data_ready)
        state.solver.events.limit.connect(self.set_limit)

    @property
    def history(self) -> RunHistory:
        """The run's scalar history (the state's)."""
        return self.progress.history

    @property
    def latest_x(self) -> dict[str, np.ndarray]:
        """Each run's newest iterate (display array; the state's)."""
        return self.progress.latest_x

    @property
    def iterations(self) -> int:
        """Rows pulled so far: x^iterations is the newest iterate."""
        return self.progress.iterations

    # ---- running --------------------------------------------------------------------------
    def start_run(self, running: bool = True) -> bool:
        """Start a fresh run of the chosen runs from x⁰ (free-running or paused)."""
        if not self.state.loaded:
            self.failed.emit("Load an image first (File → Open, or drop one on the window)")
            return False
        solver = self.state.solver
        runs = tuple(solver.runs)
        variants = [spec.label for spec in runs]  # run labels: a variant, or fima · C=0.3
        if not self._admit(len(variants)):
            return False
        self.stop()
        try:
            timeline = self.state.begin_run(runs)
        except ValueError as exc:
            self.failed.emit(f"Bad parameters: {exc}")
            return False
        self._run_error = None
        self._budget.reset()
        problem = self.state.setup.problem
        x0 = to_display_array(problem.x0)
        self.progress.begin(variants, x0, solver.policy)  # the views start afresh
        if self._retired is not None and self._retired.has_ended():
            self._retired = None
        spec = RunSpec(
            problem,
            self.state.setup.module,
            timeline,
            tuple(variants),
            solver.limit,
            history=self.progress.iterates,
            propose=solver.policy,
            timelines=self.state.run_timelines,
        )
        self.runs = runs
        self.run, fallback = new_run(spec, predecessor=self._retired)
        if self.run.history is not None:  # the engine process keeps the iterates: read them there
            self.progress.iterates = self.run.history
        if fallback is not None:
            self._say(fallback)
        self.run.dataReady.connect(self._on_data_ready)
        self.run.limitReached.connect(self._on_limit_reached)
        self.run.error.connect(self._on_run_error)
        self.run.finished.connect(self._on_run_finished)
        self.run.start(running)
        self.update_status()
        return True

    @Slot()
    def toggle_run(self) -> None:
        """Space: run, or pause a running run, or resume a paused one."""
        if self.run is None or self.run.has_ended():
            self.start_run(running=True)
        elif self.run.is_running():
            self.pause_run()
        else:
            self.run.start(running=True)
            self.update_status()

    @Slot()
    def pause_run(self) -> None:
        """Pause after the iteration in progress."""
        if self.run is not None:
            self.run.worker.pause()
            self.progress.show_numbers()  # a paced pull may have held them back
            self.update_status("Paused")

    @Slot()
    def step_run(self) -> None:
        """N: advance exactly one iteration of every variant."""
        if self.run is None or self.run.has_ended():
            if not self.start_run(running=False):
                return
        self.run.step()
        self.update_status("Paused")

    @Slot()
    def reset_run(self) -> None:
        """R: discard the run and show x⁰ again (without waiting for a slow iteration)."""
        self.stop()
        self.clear_views()
        self.update_status()

    def stop(self, wait_s: float = RESET_WAIT_S) -> None:
        """Stop the run (waiting at most ``wait_s`` for its iteration; else it ends later)."""
        if self.run is not None:
            run, self.run = self.run, None
            if not run.stop(wait_s):
                self._retired = run
                self._say("The solver is finishing its iteration in the background")
        self.runs = ()
        self.state.end_run()
        self._refresh_timer.stop()

    def close(self) -> None:
        """The window closes: stop, and wait for every run of this window to end."""
        self.stop(STOP_TIMEOUT_S)
        if self._retired is not None:
            self._retired.join(STOP_TIMEOUT_S)
        self._retired = None

    def clear_views(self) -> None:
        """Forget the run's data; the views that show it empty themselves."""
        self.progress.clear()

    @property
    def variants(self) -> tuple[str, ...]:
        """The current run's variants (none without a run)."""
        return tuple(self.run.variants) if self.run is not None else ()

    # ---- the history scrubber -------------------------------------------------------------
    def scrub_to(self, k: int) -> int | None:
        """Show past iterate x^k of the shown variant (pinned); returns the k shown."""
        if self.run is None:
            return None
        return self.progress.pin(k)

    @Slot()
    def follow_live(self) -> None:
        """Show the newest iterate again, and keep following it."""
        self.progress.follow()

    @Slot()
    def history_back(self) -> None:
        """←: one iterate back in the history (a running run is paused first)."""
        if self.run is None:
            return
        if self.run.is_running():
            self.pause_run()
        pinned = self.progress.pinned
        self.progress.pin((self.progress.numbers_at if pinned is None else pinned) - 1)

    @Slot()
    def history_forward(self) -> None:
        """→: one iterate forward in the history; at the newest, step one iteration."""
        pinned = self.progress.pinned
        if self.run is not None and pinned is not None:
            if pinned + 1 >= self.progress.numbers_at:
                self.progress.follow()
            else:
                self.progress.pin(pinned + 1)
            return
        self.step_run()

    # ---- worker notifications (GUI thread) ------------------------------------------------
    @Slot()
    def _on_data_ready(self) -> None:
        if not self._refresh_timer.isActive():
            self._refresh_timer.start(self._budget.delay_ms())

    @Slot()
    def _paced_refresh(self) -> None:
        self.refresh_now(paced=True)

    @Slot()
    def refresh_now(self, paced: bool = False) -> None:
        """Pull the worker's new rows and latest images into the state and give the views one
        draw turn (GUI thread); a ``paced`` (timer) refresh of a running run shows the numbers
        at most 8 times a second."""
        self._refresh_timer.stop()
        self._budget.begin()
        try:
            self._pull(paced)
            self.progress.events.frame.emit()  # a view with drawing left asks for another
        finally:
            self._budget.end()

    def _pull(self, paced: bool = False) -> None:
        if self.run is None:
            return
        update = self.run.take_update()
        if not update.rows and not update.images:
            if not paced:  # a paced pull may have taken the last rows without their numbers
                self.progress.show_numbers()
            return
        target = self.state.target_timeline()
        changes = target.changes if target is not None else {}
        self.progress.add(update.rows, update.images, update.iterations, changes)
        self.state.follow(update.iterations)
        if not paced or self._budget.numbers_due() or not self.run.is_running():
            self.progress.show_numbers()
        self.progress.announce_divergence(update.done)
        with self._budget.paced_apart():  # throttled by its own cost, not a frame's
            self.progress.events.certificate.emit(False)

    @Slot()
    def update_certificate(self) -> None:
        """Recompute the certificate now (it is otherwise refreshed about once a second)."""
        if self.variants:
            self.progress.events.certificate.emit(True)

    @Slot()
    def _on_limit_reached(self) -> None:
        self.refresh_now()
        self.update_certificate()
        self._say(
            f"Iteration limit {self.state.solver.limit} reached — raise it and press Run to go on"
        )
        self.update_status("Limit reached")
        self.limitReached.emit()

    @Slot(str)
    def _on_run_error(self, message: str) -> None:
        self._run_error = message
        self.refresh_now()
        self.update_status("Stopped by an error")
        self.failed.emit(f"The solver stopped: {message}")

    @Slot()
    def _on_run_finished(self) -> None:
        self.refresh_now()
        self.update_certificate()
        if self._run_error is None:
            stopped = {v: self.history.diverged_at(v) for v in self.variants}
            stopped = {v: k for v, k in stopped.items() if k is not None}
            if stopped:
                names = ", ".join(f"{variant_label(v)} (k = {k})" for v, k in stopped.items())
                self._say(f"Diverged and stopped: {names}")
            self.update_status("Finished")
        self.ended.emit()

    # ---- edits ----------------------------------------------------------------------------
    @Slot(dict)
    def announce_edit(self, changes: dict) -> None:
        """The user changed parameters (the state has them): say when a live run takes them."""
        if self.run is not None and not self.run.has_ended():
            text = ", ".join(f"{k} = {v:g}" for k, v in changes.items())
            self._say(f"{text} from the next iteration")

    def set_limit(self, limit: int) -> None:
        """The iteration limit changed (a paused run at its limit may go on)."""
        if self.run is not None:
            self.run.worker.set_limit(limit)

    def _say(self, text: str) -> None:
        """A transient message about the run (the status bar shows it)."""
        self.progress.events.message.emit(text)

    # ---- state ----------------------------------------------------------------------------
    def run_state(self) -> str:
        """idle (no run), running, paused, limit, or ended."""
        if self.run is None:
            return "idle"
        if self.run.has_ended():
            return "error" if self._run_error is not None else "ended"
        if self.run.is_running():
            return "running"
        if self.run.worker.at_limit():
            return "limit"
        return "paused"

    def update_status(self, text: str | None = None) -> None:
        """Put the run's status (and the words ``text`` if given) into the state."""
        self.state.set_status(self.run_state(), text)
