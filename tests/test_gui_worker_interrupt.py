"""Pause, step and cancel act within one network pass (issue 30): the real engine with a module
that holds iteration 2 in its network pass until released — a pause abandons the rest of that
iteration, resuming computes it again, N while running finishes the iteration in flight and no
more, and a lockstep step is published whole (variants done before the pause are not redone)."""

from __future__ import annotations

import threading
import time

import pytest

from core.algorithm import iterate
from core.params import ParameterTimeline
from gui.run.solver_run import SolverRun
from gui.run.solver_worker import RunSpec

from .helpers import deblur_problem, good_module, params

TIMEOUT_MS = 20_000
HELD_AT = 2


class HeldModule:
    """TV after the fidelity prox; its call at iteration ``HELD_AT`` (the first time only) waits
    until released, like a long network pass."""

    name = "held"

    def __init__(self) -> None:
        self.inner = good_module()
        self.calls: list[int] = []
        self.entered, self.release = threading.Event(), threading.Event()

    def __call__(self, x, k, p, problem):
        self.calls.append(k)
        if k == HELD_AT and self.calls.count(k) == 1:
            self.entered.set()
            assert self.release.wait(30)
        return self.inner(x, k, p, problem)


@pytest.fixture
def held_run():
    runs = []

    def make(variants=("pg", "fima")):
        module = HeldModule()
        spec = RunSpec(
            deblur_problem(32), module, ParameterTimeline(params()), variants, 1000, None, "always"
        )
        run = SolverRun(spec)
        runs.append((run, module))
        run.start()
        assert module.entered.wait(30)  # iteration 2 is in its network pass
        return run, module

    yield make
    for run, module in runs:
        module.release.set()
        run.stop()


def reference(variant: str, n: int) -> list[float]:
    records = iterate(
        deblur_problem(32), good_module(), params(), variant, max_iter=n, propose="always"
    )
    return [r.objective for r in records]


def objectives(run, variant: str) -> list[float]:
    return [row["objective"] for row in run.worker.rows(variant)]


def test_a_pause_abandons_the_iteration_in_flight_and_resuming_computes_it_again(qtbot, held_run):
    run, module = held_run()
    worker = run.worker
    worker.pause()
    module.release.set()  # the pass ends; the next one is not started
    qtbot.waitUntil(worker.is_idle, timeout=TIMEOUT_MS)
    assert worker.iterations == HELD_AT  # nothing of iteration 2 was published …
    assert worker.row_count("pg") == worker.row_count("fima") == HELD_AT  # … not even pg's
    assert module.calls == [0, 1, 2]
    worker.resume()
    qtbot.waitUntil(lambda: worker.iterations >= 6, timeout=TIMEOUT_MS)
    worker.pause()
    qtbot.waitUntil(worker.is_idle, timeout=TIMEOUT_MS)
    n = worker.iterations
    assert module.calls[:5] == [0, 1, 2, 2, 3]  # iteration 2 computed again, from x²
    for variant in ("pg", "fima"):  # the trace is the uninterrupted run's
        assert objectives(run, variant) == pytest.approx(reference(variant, n), rel=0, abs=0)
        assert [row["k"] for row in worker.rows(variant)] == list(range(n))


def test_n_while_running_finishes_the_iteration_in_flight_and_no_more(qtbot, held_run):
    run, module = held_run()
    run.step()  # N while iteration 2 is in flight: that iteration is the step
    module.release.set()
    qtbot.waitUntil(run.worker.is_idle, timeout=TIMEOUT_MS)
    time.sleep(0.2)
    assert run.worker.iterations == HELD_AT + 1
    assert not run.is_running()


def test_pause_then_n_at_once_still_makes_exactly_one_iteration(qtbot, held_run):
    run, module = held_run()
    run.worker.pause()
    run.step()  # pressed before the pause's abandon landed
    module.release.set()
    qtbot.waitUntil(
        lambda: run.worker.is_idle() and run.worker.iterations > HELD_AT, timeout=TIMEOUT_MS
    )
    time.sleep(0.2)
    assert run.worker.iterations == HELD_AT + 1
    for variant in ("pg", "fima"):
        assert objectives(run, variant) == reference(variant, HELD_AT + 1)


def test_cancel_ends_the_run_after_the_pass_in_flight(qtbot, held_run):
    run, module = held_run()
    assert run.stop(timeout_s=0.05) is False  # inside the pass: the caller is not blocked
    module.release.set()
    qtbot.waitUntil(lambda: not run.is_thread_running(), timeout=TIMEOUT_MS)
    assert run.has_ended() and run.worker.iterations == HELD_AT
    assert module.calls == [0, 1, 2]  # no pass after the cancel


def test_variants_done_before_a_pause_are_not_computed_again(qtbot, held_run):
    run, module = held_run(variants=("pg", "fima"))  # pg's iteration 2 is done, fima's held
    run.worker.pause()
    module.release.set()
    qtbot.waitUntil(run.worker.is_idle, timeout=TIMEOUT_MS)
    run.step()
    qtbot.waitUntil(
        lambda: run.worker.is_idle() and run.worker.iterations > HELD_AT, timeout=TIMEOUT_MS
    )
    assert run.worker.row_count("pg") == run.worker.row_count("fima") == HELD_AT + 1
    assert objectives(run, "pg") == reference("pg", HELD_AT + 1)
    assert objectives(run, "fima") == reference("fima", HELD_AT + 1)


@pytest.mark.parametrize(("variants", "starts_at"), [(("fima", "pg"), 2), (("pg", "fima"), 3)])
def test_a_change_made_while_paused_starts_where_no_run_has_gone(
    qtbot, held_run, variants, starts_at
):
    run, module = held_run(variants=variants)  # held in fima's iteration 2
    worker = run.worker
    worker.pause()
    module.release.set()
    qtbot.waitUntil(worker.is_idle, timeout=TIMEOUT_MS)
    worker.timeline.submit(C=0.05)  # the user edits C while paused at k = 2
    for _ in range(2):
        run.step()
        qtbot.waitUntil(worker.is_idle, timeout=TIMEOUT_MS)
    assert worker.timeline.changes == {starts_at: {"C": 0.05}}  # fima first: nobody did k = 2
    for variant in variants:  # every run takes the change at the same k
        assert [row["C"] for row in worker.rows(variant)][1:] == [
            0.05 if k >= starts_at else params().C for k in range(1, 4)
        ]
