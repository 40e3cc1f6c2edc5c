"""Where cells run: in the driver (serial), in N local worker processes, or as Ray tasks.

Every backend has one method, :meth:`results`: it takes jobs lazily, calls ``on_submit(job)`` just
before a job leaves for a worker (the driver marks the cell ``running`` there) and yields each
result as it comes back, in completion order. At most ``in_flight`` jobs are out at once. Closing the
iterator early (cancel, Ctrl-C) cancels what has not started and shuts the workers down.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import os
from collections.abc import Callable, Iterable, Iterator
from typing import Protocol

from ..errors import one_line
from ..io import InputError
from .cells import run_cell, set_threads, worker_init

OnSubmit = Callable[[dict], None]


class Backend(Protocol):
    """What the driver needs of a backend."""

    name: str
    workers: int | None
    threads: int

    def results(self, jobs: Iterable[dict], on_submit: OnSubmit) -> Iterator[dict]:
        """Run the jobs; call ``on_submit(job)`` as each leaves; yield results as they come."""
        ...


def default_workers() -> int:
    """The number of CPU cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def _first(exc: BaseException) -> str:
    return one_line(exc)[:500]


def _died(job: dict, why: str) -> dict:
    return {"id": job["id"], "status": "failed", "error": why, "seconds": None, "rows": []}


class SerialBackend:
    """Cells one after another in this process (torch threads set for the run, then restored)."""

    name = "serial"

    def __init__(self, threads: int = 1):
        self.threads = threads
        self.workers = 1

    def results(self, jobs: Iterable[dict], on_submit: OnSubmit) -> Iterator[dict]:
        """Run each job here and yield its result."""
        import torch

        before = torch.get_num_threads()
        try:
            for job in jobs:
                on_submit(job)
                yield run_cell(job)
        finally:
            set_threads(before)


class LocalBackend:
    """N worker processes (spawned, one torch thread each by default) via ProcessPoolExecutor."""

    name = "local"

    def __init__(self, workers: int | None = None, threads: int = 1, in_flight: int | None = None):
        self.workers = workers or default_workers()
        self.threads = threads
        self.in_flight = in_flight or 2 * self.workers

    def _pool(self) -> cf.ProcessPoolExecutor:
        return cf.ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=worker_init,
            initargs=(self.threads, os.getpid()),
        )

    def results(self, jobs: Iterable[dict], on_submit: OnSubmit) -> Iterator[dict]:
        """Keep up to ``in_flight`` jobs in the pool; yield results as they complete."""
        pending = iter(jobs)
        pool = self._pool()
        out: dict[cf.Future, dict] = {}
        exhausted = False
        try:
            while True:
                while not exhausted and len(out) < self.in_flight:
                    job = next(pending, None)
                    if job is None:
                        exhausted = True
                        break
                    on_submit(job)
                    out[pool.submit(run_cell, job)] = job
                if not out:
                    return
                done, _ = cf.wait(out, return_when=cf.FIRST_COMPLETED)
                broken = False
                for future in done:
                    job = out.pop(future)
                    try:
                        result = future.result()
                    except cf.process.BrokenProcessPool:
                        broken = True
                        result = _died(job, "a worker process died while running this cell")
                    except Exception as exc:  # the result did not come back (pickling, …)
                        result = _died(job, f"the cell's result was lost: {_first(exc)}")
                    yield result
                if broken:  # every job still out is lost with the pool: report, start afresh
                    for job in out.values():
                        yield _died(job, "a worker process died while running this cell")
                    out.clear()
                    pool.shutdown(wait=False, cancel_futures=True)
                    pool = self._pool()
        finally:
            if out:  # closed early (cancel, Ctrl-C): stop the cells still running, too
                _terminate(pool)
            pool.shutdown(wait=True, cancel_futures=True)


def _terminate(pool: cf.ProcessPoolExecutor) -> None:
    """Terminate a pool's worker processes (ProcessPoolExecutor has no public way before 3.14)."""
    for process in list((getattr(pool, "_processes", None) or {}).values()):
        try:
            process.terminate()
        except (OSError, AttributeError):
            pass


class RayBackend:
    """The same cell function as Ray tasks: on a cluster (``address``) or a local Ray (``local``).

    The cluster's nodes need this package installed. The Ray this backend starts (or connects to)
    is always shut down at the end; one the caller had already initialised is used and left alone.
    """

    name = "ray"

    def __init__(
        self,
        address: str = "local",
        workers: int | None = None,
        threads: int = 1,
        in_flight: int | None = None,
    ):
        self.address = address
        self.workers = workers
        self.threads = threads
        self.in_flight = in_flight
        self._owned = False

    def _start(self):
        try:
            import ray
        except ImportError:
            raise InputError(
                "--ray needs the optional package ray: pip install 'fima-explorer[cluster]'"
            ) from None
        options = {"include_dashboard": False, "log_to_driver": False, "logging_level": "ERROR"}
        self._owned = not ray.is_initialized()  # a caller's own Ray is used, and left running
        try:
            if self._owned and self.address == "local":
                ray.init(num_cpus=self.workers or default_workers(), **options)
            elif self._owned:
                ray.init(address=self.address, **options)
        except Exception as exc:  # ConnectionError, ValueError, RuntimeError, Ray's own …
            if ray.is_initialized():
                ray.shutdown()
            raise InputError(f"cannot start Ray at {self.address!r}: {_first(exc)}") from None
        if self.workers is None:
            self.workers = max(1, int(ray.cluster_resources().get("CPU", 1)))
        return ray

    def results(self, jobs: Iterable[dict], on_submit: OnSubmit) -> Iterator[dict]:
        """Submit up to ``in_flight`` Ray tasks at once; yield results as they complete."""
        ray = self._start()
        out: dict = {}
        try:
            task = ray.remote(num_cpus=self.threads, max_retries=0)(run_cell)
            limit = self.in_flight or 2 * self.workers
            pending = iter(jobs)
            exhausted = False
            while True:
                while not exhausted and len(out) < limit:
                    job = next(pending, None)
                    if job is None:
                        exhausted = True
                        break
                    on_submit(job)
                    out[task.remote(job)] = job
                if not out:
                    return
                done, _ = ray.wait(list(out), num_returns=1)
                for ref in done:
                    job = out.pop(ref)
                    try:
                        result = ray.get(ref)
                    except Exception as exc:  # the task's worker died (RayError and kin)
                        result = _died(job, f"Ray task failed: {_first(exc)}")
                    yield result
        finally:
            for ref in out:
                try:
                    ray.cancel(ref, force=True)
                except Exception:  # already finished or gone
                    pass
            if self._owned:
                ray.shutdown()


def make_backend(
    workers: int | None = None, ray: str | None = None, threads: int = 1, serial: bool = False
) -> Backend:
    """The backend for the command line's choice: ``--ray ADDRESS|local``, ``--workers N``."""
    if ray:
        return RayBackend(ray, workers, threads)
    if serial:
        return SerialBackend(threads)
    return LocalBackend(workers, threads)
