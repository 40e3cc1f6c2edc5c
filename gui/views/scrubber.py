"""The history scrubber's logic: the run's iterate history, the slider, pinned images, plot cursor.

Iterate x^k of every variant is stored by the worker in an :class:`IterateHistory` under the memory
budget (x⁰ is added here when a run starts), and beside it the |d| map of the step that made it. Scrubbing pins the image panels to a past x^k — the
nearest stored one at or before k once the history has thinned — and puts the plots' cursor on it;
"Live" (or the slider's right end) follows the newest iterate again.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Slot

from core.history import IterateHistory

from .history_bar import HistoryBar
from .images import ImagePanel
from .optimality_map import D_KIND
from .plots import PlotPanel

MB = 2**20


class Scrubber(QObject):
    """Owns the iterate history of the current run and keeps bar, images and cursor in step."""

    def __init__(
        self, images: ImagePanel, plots: PlotPanel, bar: HistoryBar, budget_mb: int
    ) -> None:
        super().__init__(images)
        self.images = images
        self.plots = plots
        self.bar = bar
        self.budget_bytes = int(budget_mb) * MB
        self.iterates = IterateHistory(self.budget_bytes)
        self._latest = 0
        images.set_frame_source(self.frame)
        images.maps.set_source(self.d_map)
        bar.scrubbed.connect(self.scrub_to)
        bar.liveRequested.connect(self.follow_live)
        images.variant_combo.currentIndexChanged.connect(self._on_variant_changed)

    # ---- the history ----------------------------------------------------------------------
    def new_run(self, variants: list[str] | tuple[str, ...], x0: np.ndarray | None) -> None:
        """A fresh, empty history for a new run, holding x⁰ of every variant."""
        self.clear()
        if x0 is not None:
            for variant in variants:
                self.iterates.add(variant, 0, x0)

    def clear(self) -> None:
        """Forget the run (a new history object: a retiring worker may still write the old one)."""
        self.iterates = IterateHistory(self.budget_bytes)
        self._latest = 0
        self.images.follow_latest()
        self.plots.set_cursor(None)
        self.bar.show_position(0, live=True)
        self.bar.set_latest(0)
        self.bar.set_text("history: no run")

    def set_budget_mb(self, megabytes: int) -> None:
        """Change the memory budget; the current history thins to it at its next iterate."""
        self.budget_bytes = int(megabytes) * MB
        self.iterates.budget_bytes = self.budget_bytes
        self._update_text()

    def frame(self, variant: str, k: int) -> tuple[int, np.ndarray] | None:
        """The stored iterate of ``variant`` at k, or the nearest before it: (k_stored, x)."""
        return self.iterates.get(variant, k)

    def d_map(self, variant: str, k: int) -> tuple[int, np.ndarray] | None:
        """The stored |d| map beside x^k of ``variant`` (row k − 1's), or the nearest before it."""
        return self.iterates.get(variant, k, kind=D_KIND)

    # ---- following the run ----------------------------------------------------------------
    def set_latest(self, iterations: int) -> None:
        """The run has reached x^iterations."""
        self._latest = int(iterations)
        self.bar.set_latest(self._latest)
        self._update_text()

    def latest(self) -> int:
        """The newest iterate index."""
        return self._latest

    # ---- scrubbing ------------------------------------------------------------------------
    @Slot(int)
    def scrub_to(self, k: int) -> int | None:
        """Pin the images to iterate x^k (clamped to 0 … newest); returns the k shown."""
        k = max(0, min(int(k), self._latest))
        shown = self.images.show_iterate(k)
        self.bar.show_position(k, live=False)
        self.plots.set_cursor(shown)
        self._update_text()
        return shown

    @Slot()
    def follow_live(self) -> None:
        """Show the newest iterate again and keep following it."""
        self.images.follow_latest()
        self.bar.show_position(self._latest, live=True)
        self.plots.set_cursor(None)
        self._update_text()

    def position(self) -> int | None:
        """The iterate asked for while scrubbing (None: live)."""
        return self.images.pinned()

    def back(self) -> int | None:
        """One iterate back (from the newest when live); returns the k shown."""
        current = self.position()
        start = self._latest if current is None else current
        return self.scrub_to(start - 1)

    def forward(self) -> bool:
        """One iterate forward; at the newest, go live and return False (nothing to show)."""
        current = self.position()
        if current is None:
            return False
        if current + 1 >= self._latest:
            self.follow_live()
        else:
            self.scrub_to(current + 1)
        return True

    # ---- internals ------------------------------------------------------------------------
    def _on_variant_changed(self, _index: int) -> None:
        if self.position() is not None:
            self.scrub_to(self.position())

    def _update_text(self) -> None:
        if self._latest == 0 and not self.iterates.variants():
            self.bar.set_text("history: no run")
            return
        stride = self.iterates.stride
        kept = "every iterate kept" if stride == 1 else f"1 in {stride} iterates kept"
        used = f"{self.iterates.stored_bytes / MB:.0f} of {self.budget_bytes / MB:.0f} MB"
        shown = self.images.shown_iteration()
        if self.position() is None:
            self.bar.set_text(f"newest x<sup>{self._latest}</sup> — {kept}, {used}")
        else:
            self.bar.set_text(f"x<sup>{shown}</sup> of {self._latest} — {kept}, {used}")
