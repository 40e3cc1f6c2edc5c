"""The history scrubber: the slider, pinned images and the plots' cursor, bound to the run's progress.

Iterate x^k of every variant is stored by the worker in the state's :class:`IterateHistory`
(``RunProgress.iterates``, under the memory budget, x⁰ added when a run starts), and beside it the
|d| map of the step that made it. The iterate on screen is the state's (``RunProgress.pin`` /
``follow``): pinning shows a past x^k in the image panels — the nearest stored one at or before k
once the history has thinned — and puts the plots' cursor on it; "Live" (or the slider's right
end) follows the newest iterate again. The bar's k is the state's ``numbers`` k, so the bar, the
images and the plots show the same iteration.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QObject, Slot

from core.history import IterateHistory

from ..state import RunProgress
from .history_bar import HistoryBar
from .images import ImagePanel
from .optimality_map import D_KIND
from .plots import PlotPanel

MB = 2**20


class Scrubber(QObject):
    """Keeps bar, images and cursor on the iterate the state shows."""

    def __init__(
        self, images: ImagePanel, plots: PlotPanel, bar: HistoryBar, progress: RunProgress
    ) -> None:
        super().__init__(images)
        self.images = images
        self.plots = plots
        self.bar = bar
        self.progress = progress
        images.set_frame_source(self.frame)
        images.maps.set_source(self.d_map)
        bar.scrubbed.connect(self.scrub_to)
        bar.liveRequested.connect(self.follow_live)
        images.variant_combo.currentIndexChanged.connect(self._on_variant_changed)
        events = progress.events
        events.started.connect(self.clear)
        events.cleared.connect(self.clear)
        events.numbers.connect(self.set_latest)
        events.position.connect(self._show_position)
        events.budget.connect(self._update_text)

    # ---- the history ----------------------------------------------------------------------
    @property
    def iterates(self) -> IterateHistory:
        """The run's iterate history (the state's)."""
        return self.progress.iterates

    @property
    def budget_bytes(self) -> int:
        """The iterate history's memory budget."""
        return self.progress.budget_bytes

    def clear(self, *_run) -> None:
        """A new run, or none: the bar at 0, live, the cursor hidden."""
        self.images.follow_latest()
        self.plots.set_cursor(None)
        self.bar.show_position(0, live=True)
        self.bar.set_latest(0)
        self._update_text()

    def set_budget_mb(self, megabytes: int) -> None:
        """Change the memory budget; the current history thins to it at its next iterate."""
        self.progress.set_budget(int(megabytes) * MB)

    def frame(self, variant: str, k: int) -> tuple[int, np.ndarray] | None:
        """The stored iterate of ``variant`` at k, or the nearest before it: (k_stored, x)."""
        return self.iterates.get(variant, k)

    def d_map(self, variant: str, k: int) -> tuple[int, np.ndarray] | None:
        """The stored |d| map beside x^k of ``variant`` (row k − 1's), or the nearest before it."""
        return self.iterates.get(variant, k, kind=D_KIND)

    # ---- following the run ----------------------------------------------------------------
    def set_latest(self, iterations: int) -> None:
        """The run has reached x^iterations."""
        self.bar.set_latest(int(iterations))
        self._update_text()

    def latest(self) -> int:
        """The newest iterate index."""
        return self.progress.numbers_at

    # ---- scrubbing ------------------------------------------------------------------------
    @Slot(int)
    def scrub_to(self, k: int) -> int | None:
        """Pin the images to iterate x^k (clamped to 0 … newest); returns the k shown."""
        return self.progress.pin(k)

    @Slot()
    def follow_live(self) -> None:
        """Show the newest iterate again and keep following it."""
        self.progress.follow()

    def _show_position(self, k: int | None) -> None:
        """The state pinned x^k (None: follows the newest): images, bar and cursor show it."""
        if k is None:
            self.images.follow_latest()
            self.bar.show_position(self.latest(), live=True)
            self.plots.set_cursor(None)
        else:
            shown = self.images.show_iterate(k)
            self.progress.shown = shown
            self.bar.show_position(k, live=False)
            self.plots.set_cursor(shown)
        self._update_text()

    def position(self) -> int | None:
        """The iterate asked for while scrubbing (None: live)."""
        return self.progress.pinned

    # ---- internals ------------------------------------------------------------------------
    def _on_variant_changed(self, _index: int) -> None:
        if self.position() is not None:
            self.scrub_to(self.position())

    def _update_text(self, *_budget) -> None:
        if self.latest() == 0 and not self.iterates.variants():
            self.bar.set_text("history: no run")
            return
        stride = self.iterates.stride
        kept = "every iterate kept" if stride == 1 else f"1 in {stride} iterates kept"
        used = f"{self.iterates.stored_bytes / MB:.0f} of {self.budget_bytes / MB:.0f} MB"
        shown = self.images.shown_iteration()
        if self.position() is None:
            self.bar.set_text(f"newest x<sup>{self.latest()}</sup> — {kept}, {used}")
        else:
            self.bar.set_text(f"x<sup>{shown}</sup> of {self.latest()} — {kept}, {used}")
