"""The solver worker and its run in isolation, with a fake engine: lockstep, back-pressure,
pause / step / cancel, limits, errors, and stopping a run stuck in a long iteration."""

from __future__ import annotations

import threading
import time

import pytest
import torch
from PySide6.QtCore import QObject, Slot

import gui.run.solver_worker
from gui.run.solver_run import SolverRun
from gui.run.solver_worker import RunSpec

TIMEOUT_MS = 20_000


class FakeRecord:
    """Just enough of core.trace.Iteration for the worker."""

    def __init__(self, k: int, variant: str, diverged: bool = False) -> None:
        self.k, self.variant, self.diverged = k, variant, diverged
        self.x = torch.full((1, 1, 4, 4), float(k))
        self.u = self.x + 0.5
        self.u_tilde = self.d_map = None

    def row(self) -> dict:
        return {"k": self.k, "variant": self.variant, "diverged": self.diverged}


def fake_engine(delay_s: float = 0.0, diverge_at: dict | None = None, fail_at: int | None = None):
    """An ``iterate`` replacement yielding FakeRecords (optionally slow, diverging or failing)."""
    gate = threading.Event()

    def iterate(problem, module, timeline, variant, **options):
        k = 0
        while True:
            if fail_at is not None and k == fail_at:
                raise RuntimeError(f"fake engine failed at k = {k}\ndetails")
            if delay_s:
                gate.wait(delay_s)
            limit = (diverge_at or {}).get(variant)
            yield FakeRecord(k, variant, diverged=limit is not None and k >= limit)
            k += 1

    return iterate


class Listener(QObject):
    """Counts the run's GUI-thread signals."""

    def __init__(self, run: SolverRun) -> None:
        super().__init__()
        self.data = self.limits = self.finished = 0
        self.errors: list[str] = []
        run.dataReady.connect(self.on_data)
        run.limitReached.connect(self.on_limit)
        run.error.connect(self.on_error)
        run.finished.connect(self.on_finished)

    @Slot()
    def on_data(self) -> None:
        self.data += 1

    @Slot()
    def on_limit(self) -> None:
        self.limits += 1

    @Slot(str)
    def on_error(self, message: str) -> None:
        self.errors.append(message)

    @Slot()
    def on_finished(self) -> None:
        self.finished += 1


@pytest.fixture
def make_run(monkeypatch):
    runs: list[SolverRun] = []

    def make(variants=("fima", "pg"), limit=1000, **engine):
        monkeypatch.setattr(gui.run.solver_worker, "iterate", fake_engine(**engine))
        run = SolverRun(RunSpec(None, None, None, tuple(variants), limit))
        runs.append(run)
        return run, Listener(run)

    yield make
    for run in runs:
        run.stop()


def test_lockstep_and_limit(qtbot, make_run):
    run, listener = make_run(limit=25)
    run.start()
    qtbot.waitUntil(lambda: listener.limits == 1, timeout=TIMEOUT_MS)
    assert run.worker.row_count("fima") == run.worker.row_count("pg") == 25
    assert run.worker.is_idle() and not run.is_running()
    assert [r["k"] for r in run.worker.rows("pg")] == list(range(25))


def test_back_pressure_one_notification_until_pulled(qtbot, make_run):
    run, listener = make_run(limit=200)
    run.start()
    qtbot.waitUntil(lambda: listener.limits == 1, timeout=TIMEOUT_MS)
    assert listener.data == 1  # nobody pulled: a single pending notification
    update = run.take_update()
    assert len(update.rows["fima"]) == 200 and update.iterations == 200
    x = update.images["fima"]["x"]
    assert x.dtype.name == "float32" and x.flags["C_CONTIGUOUS"] and x[0, 0] == 199.0
    assert update.images["fima"]["u_tilde"] is None
    assert run.take_update().rows == {}  # rows are handed over once


def test_pause_step_cancel_respond_between_iterations(qtbot, make_run):
    run, listener = make_run(delay_s=0.01)
    run.start()
    qtbot.waitUntil(lambda: run.worker.iterations >= 3, timeout=TIMEOUT_MS)
    run.worker.pause()
    qtbot.waitUntil(run.worker.is_idle, timeout=TIMEOUT_MS)
    n = run.worker.iterations
    for expected in (n + 1, n + 2):
        run.step()
        qtbot.waitUntil(
            lambda e=expected: run.worker.is_idle() and run.worker.iterations == e,
            timeout=TIMEOUT_MS,
        )
    time.sleep(0.05)
    assert run.worker.iterations == n + 2
    assert run.stop()
    assert run.has_ended() and not run.is_thread_running()
    assert listener.errors == []


def test_a_diverging_variant_stops_alone(qtbot, make_run):
    run, listener = make_run(variants=("naive", "fima"), limit=10, diverge_at={"naive": 3})
    run.start()
    qtbot.waitUntil(lambda: listener.limits == 1, timeout=TIMEOUT_MS)
    assert run.worker.row_count("naive") == 4  # k = 0…3, the last one marked diverged
    assert run.worker.row_count("fima") == 10
    assert run.take_update().done == ("naive",)


def test_every_variant_diverging_ends_the_run(qtbot, make_run):
    run, listener = make_run(variants=("naive",), diverge_at={"naive": 2})
    run.start()
    qtbot.waitUntil(lambda: listener.finished == 1, timeout=TIMEOUT_MS)
    assert run.has_ended() and listener.errors == []
    assert run.stop()


def test_engine_error_is_one_line(qtbot, make_run):
    run, listener = make_run(fail_at=5)
    run.start()
    qtbot.waitUntil(lambda: listener.finished == 1, timeout=TIMEOUT_MS)
    assert listener.errors == ["RuntimeError: fake engine failed at k = 5"]
    assert run.worker.row_count("fima") == 5


def test_stop_does_not_block_on_an_endless_iteration(qtbot, make_run):
    run, _listener = make_run(delay_s=1.0)
    run.start()
    time.sleep(0.05)
    assert run.stop(timeout_s=0.05) is False  # still inside its iteration: left to finish
    qtbot.waitUntil(lambda: not run.is_thread_running(), timeout=TIMEOUT_MS)
    assert run.has_ended()


def test_parameter_submissions_reach_the_running_timeline(qtbot):
    from types import SimpleNamespace

    from core import Parameters
    from gui.state import ExplorerState

    state = ExplorerState()
    setup = SimpleNamespace(settings={"task": "deblur"}, parameters=Parameters())
    state.set_problem(None, setup)
    timeline = state.begin_run()
    run = SolverRun(RunSpec(None, None, timeline, ("fima",), 5))
    state.edit(C=0.2)
    assert run.worker.timeline.pending == {"C": 0.2}
    with pytest.raises(ValueError):
        state.edit(C=-1.0)
    assert timeline.pending == {"C": 0.2} and state.initial.C == 0.2
    run.stop()


def test_a_run_needs_a_variant_and_counts_each_once(qtbot, make_run):
    with pytest.raises(ValueError, match="no variant"):
        SolverRun(RunSpec(None, None, None, (), 5))
    run, _ = make_run(variants=("fima", "pg", "fima"))
    assert run.variants == ("fima", "pg")
