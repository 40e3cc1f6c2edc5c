"""Python's cyclic garbage collector, run by the GUI thread only.

Python collects cycles in whichever thread happens to allocate when a generation's count crosses
its threshold. When that is the solver's (or a study's) thread and the garbage holds Qt objects
(an old window, a closed dialog, a menu), their C++ destructors run in that thread. Qt forbids it,
and it deadlocks: the test suite hung with the solver thread inside ``~QObject`` waiting for the
GIL while the GUI thread, holding the GIL, waited inside another ``~QObject`` for a mutex the first
one held. So automatic collection is switched off and the GUI thread collects on a timer, one
generation at a time by Python's own thresholds (``gc.get_threshold``), which is what pyqtgraph
recommends for the same reason.
"""

from __future__ import annotations

import gc

from PySide6.QtCore import QCoreApplication, QObject, QThread, QTimer, Slot

INTERVAL_MS = 200  # how often the GUI thread looks at the generations' counts


class GuiThreadCollector(QObject):
    """Collects cycles on a timer of the thread it lives in (the GUI thread), with automatic
    collection switched off while it runs."""

    def __init__(self, interval_ms: int = INTERVAL_MS, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.collect_due)
        self._was_enabled = True
        self.collections = [0, 0, 0]  # collections made per generation (for tests and benchmarks)

    def start(self) -> None:
        """Switch Python's automatic collection off; collect from this thread's timer instead."""
        if not self._timer.isActive():
            self._was_enabled = gc.isenabled()
            gc.disable()
            self._timer.start()

    def stop(self) -> None:
        """Collect everything now, here, and give collection back to Python as it was."""
        if self._timer.isActive():
            self._timer.stop()
            gc.collect()
            if self._was_enabled:
                gc.enable()

    def is_active(self) -> bool:
        """True while automatic collection is replaced by this collector."""
        return self._timer.isActive()

    @Slot()
    def collect_due(self) -> int:
        """Collect the oldest generation whose count is over its threshold (-1: none is)."""
        counts, thresholds = gc.get_count(), gc.get_threshold()
        generation = -1
        for g in range(3):
            if counts[g] <= thresholds[g]:
                break
            generation = g
        if generation >= 0:
            gc.collect(generation)
            self.collections[generation] += 1
        return generation


_COLLECTOR: GuiThreadCollector | None = None


def collect_in_gui_thread(app: QCoreApplication) -> GuiThreadCollector:
    """From now on only the GUI thread collects cycles (once per application; call it there)."""
    global _COLLECTOR
    if QThread.currentThread() != app.thread():
        raise RuntimeError("the garbage collector must be handed to the GUI thread from it")
    if _COLLECTOR is None:
        _COLLECTOR = GuiThreadCollector(parent=app)
    _COLLECTOR.start()
    return _COLLECTOR


def collect_anywhere() -> None:
    """Give collection back to Python (after collecting once here), e.g. when the windows close."""
    if _COLLECTOR is not None:
        _COLLECTOR.stop()
