"""The explorer window's run lifecycle: start, pause, step, reset, pulling the worker's data,
the refresh pacing, the certificate and the run's state.

A mixin of :class:`gui.main_window.MainWindow` (``self`` is the window, a GUI-thread QObject, so
worker signals still reach its bound methods in the GUI thread).
"""

from __future__ import annotations

from PySide6.QtCore import Slot

from core import ParameterTimeline

from .solver_run import SolverRun
from .solver_worker import to_display_array
from .views.style import variant_label

RESET_WAIT_S = 0.25  # reset / rebuild wait at most this long for the iteration in progress
CERTIFICATE_CATCH_UP_MS = 1100


class WindowRun:
    """Running the solver from :class:`MainWindow`."""

    # ---- running --------------------------------------------------------------------------
    def start_run(self, running: bool = True) -> bool:
        """Start a fresh run of the selected variants from x⁰ (free-running or paused)."""
        if self.setup is None:
            self.show_error("Load an image first (File → Open, or drop one on the window)")
            return False
        try:
            timeline = ParameterTimeline(self.parameter_panel.parameters(), self._scheduled)
        except ValueError as exc:
            self.show_error(f"Bad parameters: {exc}")
            return False
        variants = self.solver_panel.variants()
        if not self._run_fits(len(variants)):
            return False
        self._stop_run()
        self._clear_run_views()
        self._run_error = None
        self._budget.reset()
        problem = self.setup.problem
        self.scrubber.new_run(variants, to_display_array(problem.x0))
        if self._retired is not None and self._retired.has_ended():
            self._retired = None
        self.run = SolverRun(
            problem,
            self.setup.module,
            timeline,
            variants,
            self.solver_panel.limit(),
            history=self.scrubber.iterates,
            predecessor=self._retired,
        )
        self.run.dataReady.connect(self._on_data_ready)
        self.run.limitReached.connect(self._on_limit_reached)
        self.run.error.connect(self._on_run_error)
        self.run.finished.connect(self._on_run_finished)
        self.plots.set_variants(variants)
        self.images.set_variants(variants)
        self.run.start(running)
        self._update_run_actions()
        return True

    @Slot()
    def toggle_run(self) -> None:
        """Space: run, or pause a running run, or resume a paused one."""
        if self.run is None or self.run.has_ended():
            self.start_run(running=True)
        elif self.run.is_running():
            self.pause_run()
        else:
            self.run.resume()
            self.status.meter.reset()
            self._update_run_actions()

    @Slot()
    def pause_run(self) -> None:
        """Pause after the iteration in progress."""
        if self.run is not None:
            self.run.pause()
            self._update_run_actions("Paused")
            self._certificate_timer.start(CERTIFICATE_CATCH_UP_MS)

    @Slot()
    def step_run(self) -> None:
        """N: advance exactly one iteration of every variant."""
        if self.run is None or self.run.has_ended():
            if not self.start_run(running=False):
                return
        self.run.step()
        self._update_run_actions("Paused")

    @Slot()
    def reset_run(self) -> None:
        """R: discard the run and show x⁰ again (without waiting for a slow iteration)."""
        self._stop_run()
        self._clear_run_views()
        self._update_run_actions()

    def _stop_run(self, wait_s: float = RESET_WAIT_S) -> None:
        if self.run is not None:
            run, self.run = self.run, None
            if not run.stop(wait_s):
                self._retired = run
                self.status.message("The solver is finishing its iteration in the background")
        self._refresh_timer.stop()
        self._certificate_timer.stop()

    def _clear_run_views(self) -> None:
        self.history.clear()
        self._latest_x.clear()
        self._iterations = 0
        self._announced.clear()
        self.plots.clear()
        self.images.reset_iterates()
        self.scrubber.clear()
        self.certificate_panel.show_empty()
        self.status.reset_progress()

    # ---- the history scrubber -------------------------------------------------------------
    def scrub_to(self, k: int) -> int | None:
        """Show past iterate x^k of the shown variant (pinned); returns the k shown."""
        if self.run is None:
            return None
        return self.scrubber.scrub_to(k)

    @Slot()
    def follow_live(self) -> None:
        """Show the newest iterate again, and keep following it."""
        self.scrubber.follow_live()

    @Slot()
    def history_back(self) -> None:
        """←: one iterate back in the history (a running run is paused first)."""
        if self.run is None:
            return
        if self.run.is_running():
            self.pause_run()
        self.scrubber.back()

    @Slot()
    def history_forward(self) -> None:
        """→: one iterate forward in the history; at the newest, step one iteration."""
        if self.run is not None and self.scrubber.forward():
            return
        self.step_run()

    # ---- worker notifications (GUI thread) ------------------------------------------------
    @Slot()
    def _on_data_ready(self) -> None:
        self._schedule_refresh()

    def _schedule_refresh(self) -> None:
        if not self._refresh_timer.isActive():
            self._refresh_timer.start(self._budget.delay_ms())

    @Slot()
    def refresh_now(self) -> None:
        """Pull the worker's new rows and latest images, redraw them and one plot (GUI thread)."""
        self._refresh_timer.stop()
        self._budget.begin()
        try:
            self._pull()
            self.plots.draw_one()
        finally:
            self._budget.end()
        if self.plots.pending():
            self._schedule_refresh()

    def _pull(self) -> None:
        if self.run is None:
            return
        update = self.run.take_update()
        if not update.rows and not update.images:
            return
        for variant, rows in update.rows.items():
            self.history.extend(variant, rows)
        for variant, images in update.images.items():
            if images.get("x") is not None:
                self._latest_x[variant] = images["x"]
        self._iterations = update.iterations
        self.plots.update_curves(self.history)
        changes = self.run.timeline.changes
        self.plots.set_markers({k: c for k, c in changes.items() if k < update.iterations})
        self.images.update_images(update.images, update.iterations)
        self.scrubber.set_latest(update.iterations)
        self.status.show_progress(update.iterations, self._acceptance_summary())
        self._announce_divergence(update.done)
        if not self.certificate_panel.update_from(self.history, self.run.variants):
            if not self._certificate_timer.isActive():
                self._certificate_timer.start(CERTIFICATE_CATCH_UP_MS)

    @Slot()
    def update_certificate(self) -> None:
        """Recompute the certificate panel now (it is otherwise refreshed about once a second)."""
        self._certificate_timer.stop()
        variants = self.run.variants if self.run is not None else ()
        if variants:
            self.certificate_panel.update_from(self.history, variants, force=True)

    def _announce_divergence(self, done: tuple[str, ...]) -> None:
        diverged = {v: self.history.diverged_at(v) for v in done}
        diverged = {v: k for v, k in diverged.items() if k is not None}
        for variant, at in diverged.items():
            if variant not in self._announced:
                self._announced.add(variant)
                self.status.message(
                    f"{variant_label(variant)} diverged at k = {at} and was stopped"
                )
        if diverged:
            self.status.show_diverged(diverged, {v: variant_label(v) for v in diverged})

    def _acceptance_summary(self) -> str:
        """FIMA's acceptance rate so far (the only variant whose check can reject)."""
        if not self.history.count("fima"):
            return ""
        rate = float(self.history.acceptance_rate("fima")[-1])
        last = self.history.last_reject("fima")
        self.status.acceptance.setToolTip(
            f"Latest rejection at k = {last[0]}: {last[1]}" if last else "No rejection so far"
        )
        return f"{variant_label('fima')} accepted {100 * rate:.0f} %"

    @Slot()
    def _on_limit_reached(self) -> None:
        self.refresh_now()
        self.update_certificate()
        self.status.message(
            f"Iteration limit {self.solver_panel.limit()} reached — raise it and press Run to go on"
        )
        self._update_run_actions("Limit reached")
        self.runLimitReached.emit()

    @Slot(str)
    def _on_run_error(self, message: str) -> None:
        self._run_error = message
        self.refresh_now()
        self._update_run_actions("Stopped by an error")
        self.show_error(f"The solver stopped: {message}")

    @Slot()
    def _on_run_finished(self) -> None:
        self.refresh_now()
        self.update_certificate()
        if self._run_error is None:
            variants = self.run.variants if self.run is not None else ()
            stopped = {v: self.history.diverged_at(v) for v in variants}
            stopped = {v: k for v, k in stopped.items() if k is not None}
            if stopped:
                names = ", ".join(f"{variant_label(v)} (k = {k})" for v, k in stopped.items())
                self.status.message(f"Diverged and stopped: {names}")
            self._update_run_actions("Finished")
        self.runEnded.emit()

    # ---- panel edits ----------------------------------------------------------------------
    def _on_parameters_edited(self, changes: dict) -> None:
        if self.run is None or self.run.has_ended():
            return
        try:
            self.run.submit(**changes)
        except ValueError as exc:
            self.show_error(f"Parameter refused: {exc}")
            return
        text = ", ".join(f"{k} = {v:g}" for k, v in changes.items())
        self.status.message(f"{text} from the next iteration")

    @Slot(str)
    def apply_preset(self, name: str) -> bool:
        """Apply a parameter preset (guaranteed / paper) on top of the task's defaults."""
        if self.setup is None:
            return False
        try:
            preset = self.parameter_panel.preset_parameters(name)
        except ValueError as exc:
            self.show_error(str(exc))
            return False
        before = self.parameter_panel.parameters().as_dict()
        self.parameter_panel.set_parameters(preset)
        changes = {k: v for k, v in preset.as_dict().items() if before.get(k) != v}
        if changes:
            self._on_parameters_edited(changes)
        if not all(self.parameter_panel.conditions().values()):
            self.status.message(f"Preset {name}: outside Theorem 1's conditions — no guarantee")
        return True

    def _on_variants_changed(self, variants: list) -> None:
        if self.run is not None:
            self.reset_run()
            self.status.message("Variants changed: the run was reset")
        self.plots.set_variants(variants)
        self.images.set_variants(variants)

    def _on_limit_changed(self, limit: int) -> None:
        if self.run is not None:
            self.run.set_limit(limit)

    # ---- state display --------------------------------------------------------------------
    def run_state(self) -> str:
        """idle (no run), running, paused, limit, or ended."""
        if self.run is None:
            return "idle"
        if self.run.has_ended():
            return "ended"
        if self.run.is_running():
            return "running"
        if self.run.worker.at_limit():
            return "limit"
        return "paused"

    def _update_run_actions(self, state_text: str | None = None) -> None:
        a = self.actions
        loaded = self.setup is not None
        for action in (a.run_pause, a.step, a.reset, a.export_run, a.save_session):
            action.setEnabled(loaded)
        for action in (a.history_back, a.history_forward):
            action.setEnabled(loaded)
        running = self.run is not None and self.run.is_running()
        a.run_pause.setText("Pause" if running else "Run")
        if state_text is None:
            state_text = {
                "idle": "Ready" if loaded else "No problem loaded",
                "running": "Running",
                "paused": "Paused",
                "limit": "Limit reached",
                "ended": "Finished",
            }[self.run_state()]
        self.status.show_state(state_text)
