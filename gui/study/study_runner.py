"""A study run off the GUI thread: :func:`core.study.run_study` in a worker QObject on a QThread.

Threading contract (DESIGN.md §5):

* :class:`StudyWorker` lives in its own QThread; :meth:`StudyWorker.run` is started by
  ``QThread.started`` and calls ``run_study`` with a ``threading.Event`` as its cancel hook (checked
  by the driver after each finished cell; cells still out go back to ``pending``).
* ``run_study``'s ``on_result`` runs in the worker thread: it only counts under a lock and emits
  the payload-free ``progressed`` signal when no earlier one is waiting (back-pressure); the GUI
  pulls the counts with :meth:`StudyRunner.take_progress`.
* :class:`StudyRunner` is the GUI-thread side: it relays the worker's signals through its own bound
  methods (queued connections), so whoever connects to the runner is called in the GUI thread.
* Only the driver (this worker) writes ``DIR/study.db``; the window reads it with its own
  connection (SQLite WAL: readers never block the writer).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot

from core.study import LocalBackend, SerialBackend, StudyRun, StudySpec, run_study

from ..run.worker_thread import WorkerThread, detached
from .failures import failure_text

JOIN_TIMEOUT_S = 60.0  # a cancel waits for the cell in progress to come back


def make_gui_backend(workers: int):
    """The backend the Study window uses: ``workers`` local processes, or serial when 0."""
    if workers <= 0:
        return SerialBackend()
    return LocalBackend(workers=workers)


@dataclass
class StudyProgress:
    """What the GUI collects in one pull: cells finished by this run so far."""

    done: int = 0
    failed: int = 0
    last_id: int | None = None


class StudyWorker(QObject):
    """Calls ``run_study`` once, in the thread it was moved to."""

    progressed = Signal()  # a cell was stored; payload-free, only when none is pending
    ended = Signal()  # run_study returned or raised; the outcome is in report / error

    def __init__(self, spec: StudySpec, out: str | Path, backend, retry_failed: bool = False):
        super().__init__()
        self.spec = spec
        self.out = Path(out)
        self.backend = backend
        self.retry_failed = retry_failed
        self.cancel_event = threading.Event()
        self.report: StudyRun | None = None
        self.error: str | None = None
        self._lock = threading.Lock()
        self._progress = StudyProgress()
        self._pending = False
        self._ended = threading.Event()

    @Slot()
    def run(self) -> None:
        """Run the study (worker thread); never raises: a failure lands in ``error``."""
        try:
            self.report = run_study(
                self.spec,
                self.out,
                self.backend,
                self.retry_failed,
                progress=False,
                on_result=self._on_result,
                cancel=self.cancel_event,
            )
        except Exception as exc:  # anything ends the run, as one line for the window
            self.error = failure_text(exc)
        finally:
            self._ended.set()
            self.ended.emit()
            thread = self.thread()
            if thread is not None:
                thread.quit()

    def _on_result(self, result: dict) -> None:
        """run_study's hook (worker thread): count, and notify unless a notice is waiting."""
        with self._lock:
            if result.get("status") == "done":
                self._progress.done += 1
            else:
                self._progress.failed += 1
            self._progress.last_id = result.get("id")
            notify, self._pending = not self._pending, True
        if notify:
            self.progressed.emit()

    def take_progress(self) -> StudyProgress:
        """The counts so far (any thread); clears the pending notice."""
        with self._lock:
            self._pending = False
            return StudyProgress(**vars(self._progress))

    def cancel(self) -> None:
        """Ask the driver to stop after the cell in progress (thread-safe)."""
        self.cancel_event.set()

    def wait_ended(self, timeout_s: float) -> bool:
        """Wait up to ``timeout_s`` for ``run`` to return."""
        return self._ended.wait(timeout_s)

    def has_ended(self) -> bool:
        """True once ``run`` has returned."""
        return self._ended.is_set()


class StudyRunner(WorkerThread):
    """A QThread + :class:`StudyWorker` pair for one study run, with GUI-thread signals."""

    progress = Signal()  # cells were stored: pull with take_progress()
    finished = Signal()  # the run ended (done, cancelled or failed: see report / error)

    def __init__(
        self,
        spec: StudySpec,
        out: str | Path,
        workers: int = 0,
        retry_failed: bool = False,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.out = Path(out)
        self.workers = workers
        self.worker = w = StudyWorker(spec, out, make_gui_backend(workers), retry_failed)
        self._attach(w, "fima-study", w.run, w.wait_ended, w.has_ended)
        self.worker.progressed.connect(self._relay_progress)
        self.worker.ended.connect(self._relay_ended)
        self._relayed_end = False

    def start(self) -> None:
        """Start the thread (once)."""
        self._start_thread()

    def cancel(self) -> None:
        """Ask the run to stop after the cell in progress (returns at once)."""
        self.worker.cancel()

    @property
    def cancelled(self) -> bool:
        """True once a cancel was asked for."""
        return self.worker.cancel_event.is_set()

    def is_running(self) -> bool:
        """True from start until the worker's run has returned."""
        return self._started and not self.worker.has_ended()

    def take_progress(self) -> StudyProgress:
        """The counts of this run so far."""
        return self.worker.take_progress()

    @property
    def report(self) -> StudyRun | None:
        """What run_study returned (None while running or after an error)."""
        return self.worker.report

    @property
    def error(self) -> str | None:
        """The one-line error that ended the run, if any."""
        return self.worker.error

    def join(self, timeout_s: float = JOIN_TIMEOUT_S) -> bool:
        """Wait up to ``timeout_s`` for the run to end and its thread to finish (True if so)."""
        return super().join(timeout_s)

    @Slot()
    def _relay_progress(self) -> None:
        self.progress.emit()

    @Slot()
    def _relay_ended(self) -> None:
        if not self._relayed_end:
            self._relayed_end = True
            self._thread.wait()  # the worker quit its thread on the way out
            self.finished.emit()


def detached_runners() -> list[StudyRunner]:
    """Study runs still finishing a cell in the background."""
    return detached(StudyRunner)
