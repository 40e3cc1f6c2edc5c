"""The study driver: spec → store → cells on a backend → results written, with a progress bar.

Only the driver writes the store. Cells are marked ``running`` as they leave for a worker and
recorded as they come back; a failing cell is recorded with its error and the study goes on. Running
the same spec into the same folder again resumes: done (and failed) cells are skipped, cells that a
killed driver left ``running`` are redone. Cells still out when the run is cancelled go back to
``pending``.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from ..io import InputError
from .backends import Backend
from .spec import StudySpec
from .store import StudyStore, versions

LOCK_NAME = "study.lock"


@dataclass
class StudyRun:
    """What one ``run_study`` did."""

    total: int  # cells in the study
    todo: int  # cells this run set out to do
    done: int = 0
    failed: int = 0
    seconds: float = 0.0  # wall time of the run
    cell_seconds: float = 0.0  # sum of the cells' own compute time
    cancelled: bool = False


class _FolderLock:
    """An exclusive lock on ``DIR/study.lock`` (released by the OS if the driver dies)."""

    def __init__(self, folder: Path):
        self.path = folder / LOCK_NAME
        self.handle = None

    def __enter__(self):
        self.handle = open(self.path, "a+")
        try:
            import fcntl
        except ImportError:  # Windows: no advisory lock, one driver per folder is on the user
            return self
        try:
            fcntl.flock(self.handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.handle.close()
            raise InputError(f"another study run is writing {self.path.parent}") from None
        return self

    def __exit__(self, *exc):
        self.handle.close()
        return False


def run_study(
    spec: StudySpec,
    out: str | Path,
    backend: Backend,
    retry_failed: bool = False,
    progress: bool = True,
    on_result: Callable[[dict], None] | None = None,
    cancel: threading.Event | None = None,
) -> StudyRun:
    """Run (or resume) ``spec`` into ``out``/study.db on ``backend``; returns what was done.

    ``on_result(result)`` is called in the driver after each cell is stored; setting ``cancel``
    stops the run at the next result (cells still out go back to pending).
    """
    from tqdm import tqdm

    out = Path(out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise InputError(f"cannot create {out}: {exc.strerror or exc}") from None
    with _FolderLock(out):
        store = StudyStore.open(out, spec)
        try:
            return _drive(spec, store, backend, retry_failed, progress, on_result, cancel, tqdm)
        finally:
            store.close()


def _drive(spec, store, backend, retry_failed, progress, on_result, cancel, tqdm) -> StudyRun:
    cells = {cell.id: cell for cell in spec.cells()}
    todo = store.todo(retry_failed)
    report = StudyRun(total=len(cells), todo=len(todo))
    info = {"backend": backend.name, "workers": getattr(backend, "workers", None)}
    store.add_run(**info, cells=len(todo), pid=os.getpid(), versions=_versions(backend))
    threads = getattr(backend, "threads", 1)
    out: set[int] = set()

    def submitted(job: dict) -> None:
        store.mark([job["id"]], "running")
        out.add(job["id"])

    jobs = (spec.job(cells[i], threads) for i in todo)
    start = time.perf_counter()
    bar = tqdm(
        total=len(todo),
        desc="study",
        unit="cell",
        file=sys.stderr,
        disable=None if progress else True,
        dynamic_ncols=True,
    )
    results = backend.results(jobs, submitted)
    try:
        for result in results:
            store.record(result)
            out.discard(result["id"])
            if result["status"] == "done":
                report.done += 1
            else:
                report.failed += 1
            report.cell_seconds += result.get("seconds") or 0.0
            bar.update(1)
            if report.failed:
                bar.set_postfix(failed=report.failed, refresh=False)
            if on_result is not None:
                on_result(result)
            if cancel is not None and cancel.is_set():
                report.cancelled = True
                break
    finally:
        results.close()
        bar.close()
        if out:  # cancelled or interrupted: what was still out has not run
            store.mark(sorted(out), "pending")
        report.seconds = time.perf_counter() - start
    return report


def _versions(backend: Backend) -> dict:
    found = versions()
    if backend.name == "ray":
        try:
            import ray

            found["ray"] = ray.__version__
        except ImportError:
            pass
    return found
