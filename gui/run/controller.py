"""The run controller: starts, pauses, steps and resets the solver run, pulls its iterations into
the views and keeps the explorer state's run status and parameters in step with it.

It is given what it works with — the state, the views it feeds (:class:`RunViews`) and a check
asked before a run starts — and tells the rest through its signals (``failed`` for an error the
user must see); it knows nothing of the window that composes it.

A GUI-thread QObject, so the worker's notifications reach its bound methods in the GUI thread.
It owns at most one :class:`SolverRun` (plus a stopped one still finishing its iteration) and
the run's scalar history; it pulls the worker's data only after a notification, at most ~30 times
a second and within a CPU budget (:mod:`gui.refresh_budget`); the plots redraw together, so
every plot ends at the same k.

Reset and rebuilding never wait for a slow iteration: the stopped run finishes it in the
background (its results are dropped) and the next run's worker waits for it in its own thread.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal, Slot

from core.run_spec import variant_of

from ..display import to_display_array
from ..refresh_budget import RefreshBudget
from ..state import ExplorerState
from ..state.run_history import RunHistory
from ..views.certificate_panel import CertificatePanel, last_reject_html
from ..views.images import ImagePanel
from ..views.plots import PlotPanel
from ..views.scrubber import Scrubber
from ..views.solver_panel import SolverPanel
from ..views.status import StatusPanel
from ..views.style import variant_label
from .solver_run import STOP_TIMEOUT_S, SolverRun
from .solver_worker import RunSpec

RESET_WAIT_S = 0.25  # reset / rebuild wait at most this long for the iteration in progress
CERTIFICATE_CATCH_UP_MS = 1100
COST_WINDOW = 10  # the iterations over which the status bar averages what one iteration costs


@dataclass(frozen=True)
class RunViews:
    """What a run reads its settings from (variants, limit) and the views it feeds."""

    solver_panel: SolverPanel
    plots: PlotPanel
    images: ImagePanel
    scrubber: Scrubber
    certificate_panel: CertificatePanel
    status: StatusPanel


class RunController(QObject):
    """The solver run of one explorer window: its lifecycle, its data, its status."""

    limitReached = Signal()  # the run reached its iteration limit (and paused)
    ended = Signal()  # the worker loop returned (error, or every variant stopped)
    failed = Signal(str)  # a problem the user must be told of, in one line

    def __init__(
        self,
        state: ExplorerState,
        views: RunViews,
        admit: Callable[[int], bool] | None = None,
        parent: QObject | None = None,
    ) -> None:
        """``admit(n)`` is asked before a run of n variants starts (False: it does not)."""
        super().__init__(parent)
        self.state = state
        self.views = views
        self._admit = admit or (lambda _variants: True)
        self.run: SolverRun | None = None
        self._retired: SolverRun | None = None  # a stopped run still finishing its iteration
        self.history = RunHistory()
        self.latest_x: dict[str, np.ndarray] = {}  # each variant's newest iterate (display array)
        self.iterations = 0
        self._budget = RefreshBudget(excluded=views.plots.cpu_seconds)  # plots pace themselves
        self._run_error: str | None = None
        self._announced: set[str] = set()  # variants whose divergence was reported
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.timeout.connect(self._paced_refresh)
        self._certificate_timer = QTimer(self)
        self._certificate_timer.setSingleShot(True)
        self._certificate_timer.timeout.connect(self.update_certificate)

    # ---- running --------------------------------------------------------------------------
    def start_run(self, running: bool = True) -> bool:
        """Start a fresh run of the selected variants from x⁰ (free-running or paused)."""
        v = self.views
        if not self.state.loaded:
            self.failed.emit("Load an image first (File → Open, or drop one on the window)")
            return False
        runs = v.solver_panel.runs()
        variants = [spec.label for spec in runs]  # run labels: a variant, or fima · C=0.3
        if not self._admit(len(variants)):
            return False
        self.stop()
        try:
            timeline = self.state.begin_run(runs)
        except ValueError as exc:
            self.failed.emit(f"Bad parameters: {exc}")
            return False
        self.clear_views()
        self._run_error = None
        self._budget.reset()
        problem = self.state.setup.problem
        v.scrubber.new_run(variants, to_display_array(problem.x0))
        if self._retired is not None and self._retired.has_ended():
            self._retired = None
        spec = RunSpec(
            problem,
            self.state.setup.module,
            timeline,
            tuple(variants),
            v.solver_panel.limit(),
            history=v.scrubber.iterates,
            propose=v.solver_panel.proposal_policy(),
            timelines=self.state.run_timelines,
        )
        self.run = SolverRun(spec, predecessor=self._retired)
        self.run.dataReady.connect(self._on_data_ready)
        self.run.limitReached.connect(self._on_limit_reached)
        self.run.error.connect(self._on_run_error)
        self.run.finished.connect(self._on_run_finished)
        v.plots.set_variants(variants)
        v.images.set_variants(variants)
        v.solver_panel.show_runs(variants, self.state.live_target)
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
            self.views.status.meter.reset()
            self.update_status()

    @Slot()
    def pause_run(self) -> None:
        """Pause after the iteration in progress."""
        if self.run is not None:
            self.run.worker.pause()
            self.update_status("Paused")
            self._certificate_timer.start(CERTIFICATE_CATCH_UP_MS)

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
                self.views.status.message("The solver is finishing its iteration in the background")
        self.state.end_run()
        self.views.solver_panel.show_runs([])
        self._refresh_timer.stop()
        self._certificate_timer.stop()

    def close(self) -> None:
        """The window closes: stop, and wait for every run of this window to end."""
        self.stop(STOP_TIMEOUT_S)
        if self._retired is not None:
            self._retired.join(STOP_TIMEOUT_S)
        self._retired = None

    def clear_views(self) -> None:
        """Forget the run's data and empty the views that show it."""
        v = self.views
        self.history.clear()
        self.latest_x.clear()
        self.iterations = 0
        self._announced.clear()
        v.plots.clear()
        v.images.reset_iterates()
        v.scrubber.clear()
        v.certificate_panel.show_empty()
        v.status.reset_progress()

    @property
    def variants(self) -> tuple[str, ...]:
        """The current run's variants (none without a run)."""
        return tuple(self.run.variants) if self.run is not None else ()

    # ---- the history scrubber -------------------------------------------------------------
    def scrub_to(self, k: int) -> int | None:
        """Show past iterate x^k of the shown variant (pinned); returns the k shown."""
        if self.run is None:
            return None
        return self.views.scrubber.scrub_to(k)

    @Slot()
    def follow_live(self) -> None:
        """Show the newest iterate again, and keep following it."""
        self.views.scrubber.follow_live()

    @Slot()
    def history_back(self) -> None:
        """←: one iterate back in the history (a running run is paused first)."""
        if self.run is None:
            return
        if self.run.is_running():
            self.pause_run()
        self.views.scrubber.back()

    @Slot()
    def history_forward(self) -> None:
        """→: one iterate forward in the history; at the newest, step one iteration."""
        if self.run is not None and self.views.scrubber.forward():
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
        """Pull the worker's new rows and latest images, redraw them and one plot (GUI thread);
        a ``paced`` (timer) refresh of a running run shows the numbers at most 8 times a second."""
        self._refresh_timer.stop()
        self._budget.begin()
        try:
            self._pull(paced)
            self.views.plots.draw_one()
        finally:
            self._budget.end()
        if self.views.plots.pending():
            self._on_data_ready()

    def _pull(self, paced: bool = False) -> None:
        if self.run is None:
            return
        v = self.views
        update = self.run.take_update()
        if not update.rows and not update.images:
            if not paced:  # a paced pull may have taken the last rows without their numbers
                self._show_numbers(self.iterations)
            return
        for variant, rows in update.rows.items():
            self.history.extend(variant, rows)
        for variant, images in update.images.items():
            if images.get("x") is not None:
                self.latest_x[variant] = images["x"]
        self.iterations = update.iterations
        v.plots.update_curves(self.history)
        target = self.state.target_timeline()
        changes = target.changes if target is not None else {}
        v.plots.set_markers({k: c for k, c in changes.items() if k < update.iterations})
        self.state.follow(update.iterations)
        v.images.update_images(update.images, update.iterations)
        if not paced or self._budget.numbers_due() or not self.run.is_running():
            self._show_numbers(update.iterations)
        self._announce_divergence(update.done)
        with self._budget.paced_apart():  # throttled by its own cost, not a frame's
            updated = v.certificate_panel.update_from(self.history, self.run.variants)
        if not updated:
            if not self._certificate_timer.isActive():
                self._certificate_timer.start(CERTIFICATE_CATCH_UP_MS)

    def _show_numbers(self, iterations: int) -> None:
        """The newest k in the history bar and the status bar (with acceptance and costs)."""
        v = self.views
        if v.scrubber.latest() == iterations:  # both bars are set together
            return
        v.scrubber.set_latest(iterations)
        v.status.show_progress(iterations, self._acceptance_summary())
        v.status.show_costs(self._iteration_costs())

    @Slot()
    def update_certificate(self) -> None:
        """Recompute the certificate panel now (it is otherwise refreshed about once a second)."""
        self._certificate_timer.stop()
        if self.variants:
            self.views.certificate_panel.update_from(self.history, self.variants, force=True)

    def _announce_divergence(self, done: tuple[str, ...]) -> None:
        status = self.views.status
        diverged = {v: self.history.diverged_at(v) for v in done}
        diverged = {v: k for v, k in diverged.items() if k is not None}
        for variant, at in diverged.items():
            if variant not in self._announced:
                self._announced.add(variant)
                status.message(f"{variant_label(variant)} diverged at k = {at} and was stopped")
        if diverged:
            status.show_diverged(diverged, {v: variant_label(v) for v in diverged})

    def _iteration_costs(self) -> dict[str, float]:
        """Seconds one iteration of each variant costs, over its last few iterations."""
        costs = {}
        for variant in self.history.variants:
            recent = [r.get("seconds", 0.0) for r in self.history.rows(variant)[-COST_WINDOW:]]
            if recent:
                costs[variant_label(variant)] = sum(recent) / len(recent)
        return costs

    def _acceptance_summary(self) -> str:
        """The acceptance rate so far of each fima run (the only variant whose check rejects):
        ``FIMA accepted 80 %``, and ``FIMA · C=0.3 95 %`` beside it in an A/B run."""
        runs = [v for v in self.history.variants if variant_of(v) == "fima"]
        runs = [v for v in runs if self.history.count(v)]
        if not runs:
            return ""
        last = self.history.last_reject(runs[0])
        self.views.status.acceptance.setToolTip(
            last_reject_html("fima", last[0], last[1]) if last else "No rejection so far"
        )
        rates = {v: 100 * float(self.history.acceptance_rate(v)[-1]) for v in runs}
        if len(rates) == 1:
            return f"{variant_label(runs[0])} accepted {rates[runs[0]]:.0f} %"
        return "accepted: " + ", ".join(f"{variant_label(v)} {r:.0f} %" for v, r in rates.items())

    @Slot()
    def _on_limit_reached(self) -> None:
        self.refresh_now()
        self.update_certificate()
        self.views.status.message(
            f"Iteration limit {self.views.solver_panel.limit()} reached — "
            "raise it and press Run to go on"
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
                self.views.status.message(f"Diverged and stopped: {names}")
            self.update_status("Finished")
        self.ended.emit()

    # ---- edits from the panels ------------------------------------------------------------
    @Slot(dict)
    def announce_edit(self, changes: dict) -> None:
        """The user changed parameters (the state has them): say when a live run takes them."""
        if self.run is not None and not self.run.has_ended():
            text = ", ".join(f"{k} = {v:g}" for k, v in changes.items())
            self.views.status.message(f"{text} from the next iteration")

    def set_limit(self, limit: int) -> None:
        """The iteration limit changed (a paused run at its limit may go on)."""
        if self.run is not None:
            self.run.worker.set_limit(limit)

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
        """Put the run's status into the state and the status bar (``text`` if given)."""
        self.state.set_status(self.run_state())
        self.views.status.show_run(self.state.status, self.state.loaded, text)
