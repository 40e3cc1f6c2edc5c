"""The status bar: run state, iteration, iterations per second, acceptance, diverged variants,
device. The rate is measured only while the run runs: paused (or stepped, or at its limit) it
keeps the last rate measured, marked "paused", and starts afresh when the run goes on."""

from __future__ import annotations

import time
from collections import deque

from PySide6.QtWidgets import QLabel, QStatusBar

from ..state import ExplorerState
from .certificate_panel import last_reject_html
from .style import variant_label

RATE_WINDOW_S = 2.0
RUN_TEXTS = {  # the run's status (gui.state.RUN_STATES) in the status bar
    "running": "Running",
    "paused": "Paused",
    "limit": "Limit reached",
    "ended": "Finished",
    "error": "Stopped by an error",
}
DIVERGED_COLOR = "#d50000"


class RateMeter:
    """Iterations per second over the last couple of seconds."""

    def __init__(self, window_s: float = RATE_WINDOW_S) -> None:
        self._window = window_s
        self._samples: deque[tuple[float, int]] = deque()

    def reset(self) -> None:
        """Forget all samples."""
        self._samples.clear()

    def add(self, iterations: int, now: float | None = None) -> float:
        """Record the iteration count now; return the current rate (it/s)."""
        now = time.perf_counter() if now is None else now
        self._samples.append((now, iterations))
        while len(self._samples) > 2 and now - self._samples[0][0] > self._window:
            self._samples.popleft()
        (t0, i0), (t1, i1) = self._samples[0], self._samples[-1]
        return (i1 - i0) / (t1 - t0) if t1 > t0 else 0.0


def _duration(seconds: float) -> str:
    """``85 ms`` below a second, else ``1.3 s``."""
    return f"{1e3 * seconds:.0f} ms" if seconds < 1 else f"{seconds:.1f} s"


class StatusPanel:
    """Permanent widgets in the window's status bar."""

    def __init__(self, bar: QStatusBar) -> None:
        self.bar = bar
        self.state = QLabel("No problem loaded")
        self.iteration = QLabel("k = 0")
        self.rate = QLabel("– it/s")
        self.rate.setToolTip("Iterations per second of the whole run (every variant, in lockstep)")
        self.costs = QLabel("")
        self.costs.setToolTip(
            "What one iteration of each variant costs, over its last iterations (fima's varies: "
            "a proposal costs the module and two gradients, a skipped one a plain step)"
        )
        self.acceptance = QLabel("")
        self.diverged = QLabel("")
        self.diverged.setStyleSheet(f"QLabel {{ color: {DIVERGED_COLOR}; font-weight: bold; }}")
        self.device = QLabel("")
        labels = (
            self.state,
            self.iteration,
            self.rate,
            self.costs,
            self.acceptance,
            self.diverged,
            self.device,
        )
        for label in labels:
            label.setContentsMargins(6, 0, 6, 0)
            bar.addPermanentWidget(label)
        self.meter = RateMeter()
        self._state: ExplorerState | None = None
        self._measuring = False  # the rate follows the iterations only while the run runs
        self._last_rate = 0.0

    def bind(self, state: ExplorerState) -> None:
        """Follow the run's status and progress in ``state``: k, rate, costs, acceptance,
        diverged runs and the run's messages."""
        self._state = state
        progress = state.progress
        state.events.status_line.connect(self.show_run)
        progress.events.started.connect(self.reset_progress)
        progress.events.cleared.connect(self.reset_progress)
        progress.events.numbers.connect(self._on_numbers)
        progress.events.diverged.connect(self._on_diverged)
        progress.events.message.connect(self.message)

    def _on_numbers(self, iterations: int) -> None:
        progress = self._state.progress
        runs = progress.fima_runs()
        last = progress.history.last_reject(runs[0]) if runs else None
        tip = last_reject_html("fima", last[0], last[1]) if last else "No rejection so far"
        self.acceptance.setToolTip(tip)
        self.show_progress(iterations, progress.acceptance_summary())
        self.show_costs(progress.iteration_costs())

    def _on_diverged(self, diverged: dict[str, int]) -> None:
        self.show_diverged(diverged, {v: variant_label(v) for v in diverged})

    def show_state(self, text: str) -> None:
        """Running / Paused / …"""
        self.state.setText(text)

    def show_progress(self, iterations: int, acceptance: str = "") -> None:
        """Iteration count, rate and acceptance summary."""
        self.iteration.setText(f"k = {iterations}")
        self.acceptance.setText(acceptance)
        if self._measuring:
            self._last_rate = self.meter.add(iterations)
            self._show_rate()

    def _show_rate(self) -> None:
        rate = f"{self._last_rate:.1f} it/s" if self._last_rate > 0 else "– it/s"
        self.rate.setText(rate if self._measuring or self._last_rate <= 0 else f"{rate} (paused)")

    def show_costs(self, costs: dict[str, float]) -> None:
        """``fima 0.52 s/it · pg 0.16 s/it``: the time one iteration of each variant takes."""
        self.costs.setText(" · ".join(f"{name} {_duration(s)}/it" for name, s in costs.items()))

    def reset_progress(self, *_run) -> None:
        """Back to k = 0."""
        self.meter.reset()
        self._last_rate = 0.0
        self.costs.setText("")
        self.iteration.setText("k = 0")
        self.rate.setText("– it/s")
        self.acceptance.setText("")
        self.diverged.setText("")

    def show_run(self, status: str, loaded: bool, text: str | None = None) -> None:
        """The run's status in words (``text`` when given): Ready, Running, Paused …"""
        idle = "Ready" if loaded else "No problem loaded"
        self.show_state(text if text is not None else RUN_TEXTS.get(status, idle))
        measuring = status == "running"
        if measuring != self._measuring:
            self._measuring = measuring
            self.meter.reset()  # a pause is not part of the rate; going on measures afresh
            self._show_rate()

    def show_diverged(self, diverged: dict[str, int], labels: dict[str, str]) -> None:
        """ "✕ naive diverged at k = 3" for every stopped variant (``labels``: display names)."""
        text = ", ".join(f"{labels.get(v, v)} at k = {k}" for v, k in diverged.items())
        self.diverged.setText(f"✕ diverged: {text}" if text else "")

    def show_device(self, device: str) -> None:
        """Where the iterates live."""
        self.device.setText(f"device: {device}")

    def message(self, text: str, timeout_ms: int = 6000) -> None:
        """A transient message."""
        self.bar.showMessage(text, timeout_ms)
