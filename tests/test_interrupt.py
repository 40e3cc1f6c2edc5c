"""Abandoning an iteration between network passes (core/interrupt.py): wherever the interrupt
falls, the run yields one Abandoned marker, then computes that iteration again and ends exactly
where an uninterrupted run ends — the trace never holds half an iteration."""

from __future__ import annotations

import threading

import pytest
import torch

from core.algorithm import iterate
from core.interrupt import Abandoned, Interrupted, checkpoint, interruptible
from core.params import ParameterTimeline

from .helpers import deblur_problem, good_module, params

ITERATIONS = 4


class TripAt:
    """An interrupt that fires at its ``n``-th checkpoint only (it counts every checkpoint)."""

    def __init__(self, n: int) -> None:
        self.n, self.calls = n, 0

    def is_set(self) -> bool:
        self.calls += 1
        return self.calls == self.n


def records_of(variant: str, propose: str, interrupt=None) -> tuple[list, list[Abandoned]]:
    problem = deblur_problem(32)
    timeline = ParameterTimeline(params(C=0.05, mu=1.0))
    generator = iterate(
        problem,
        good_module(),
        timeline,
        variant,
        max_iter=ITERATIONS,
        propose=propose,
        interrupt=interrupt,
    )
    records, abandoned = [], []
    for item in generator:
        (abandoned if isinstance(item, Abandoned) else records).append(item)
    return records, abandoned


def same(a, b) -> None:
    assert [r.k for r in a] == [r.k for r in b] == list(range(ITERATIONS))
    for ra, rb in zip(a, b, strict=True):
        assert torch.equal(ra.x, rb.x)
        assert ra.objective == rb.objective
        assert (ra.accepted, ra.skipped, ra.reject_reason) == (
            rb.accepted,
            rb.skipped,
            rb.reject_reason,
        )
        assert ra.residual == rb.residual or (
            ra.residual != ra.residual and rb.residual != rb.residual
        )


@pytest.mark.parametrize(
    ("variant", "propose"),
    [
        ("fima", "always"),
        ("fima", "adaptive:patience=1,max_gap=2"),
        ("unchecked", None),
        ("naive", None),
        ("pg", None),
    ],
)
def test_an_interrupt_at_any_checkpoint_costs_one_retry_and_changes_nothing(variant, propose):
    reference, none = records_of(variant, propose)
    assert none == []
    counter = TripAt(0)  # never fires: counts the checkpoints of an uninterrupted run
    records, _ = records_of(variant, propose, counter)
    same(records, reference)
    checkpoints = counter.calls
    assert checkpoints >= 2 * ITERATIONS  # at least two passes an iteration are interruptible
    for n in range(1, checkpoints + 1):
        records, abandoned = records_of(variant, propose, TripAt(n))
        assert len(abandoned) == 1 and abandoned[0].variant == variant
        same(records, reference)  # iteration abandoned[0].k was computed again, from x^k


def test_a_set_event_stops_the_step_before_its_next_pass_and_clearing_it_goes_on():
    event = threading.Event()
    calls = []

    def module(x, k, p, problem):
        calls.append(k)
        if k == 2 and len(calls) == 3:
            event.set()  # the user pauses while the proposal of iteration 2 is computed
        return good_module()(x, k, p, problem)

    problem = deblur_problem(32)
    generator = iterate(
        problem, module, params(), "fima", max_iter=ITERATIONS, propose="always", interrupt=event
    )
    first = [next(generator) for _ in range(3)]
    assert [r.k for r in first[:2]] == [0, 1]
    assert first[2] == Abandoned(2, "fima")  # abandoned after the module, before ∇s(u)
    event.clear()
    rest = list(generator)
    assert [r.k for r in rest] == [2, 3] and calls == [0, 1, 2, 2, 3]
    reference, _ = records_of(
        "fima", "always"
    )  # different parameters: only Ψ's descent is compared
    objectives = [r.objective for r in first[:2] + rest]
    assert all(b <= a * (1 + 1e-6) for a, b in zip(objectives, objectives[1:], strict=False))


def test_checkpoints_act_only_inside_an_interruptible_scope_and_are_no_exception():
    event = threading.Event()
    event.set()
    checkpoint()  # no scope: nothing to interrupt
    with pytest.raises(Interrupted), interruptible(event):
        checkpoint()
    checkpoint()  # the scope is left: the thread is not interruptible any more
    assert not issubclass(Interrupted, Exception)  # a module's `except Exception` cannot eat it
    outer, inner = threading.Event(), threading.Event()
    inner.set()
    with interruptible(outer):
        with pytest.raises(Interrupted), interruptible(inner):
            checkpoint()
        checkpoint()  # back to the outer event, which is not set


def test_each_thread_has_its_own_interrupt():
    event = threading.Event()
    event.set()
    seen = []

    def other() -> None:
        checkpoint()  # this thread has no scope: the main thread's event is not its own
        seen.append("ran")

    with interruptible(event):
        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
    assert seen == ["ran"]


@pytest.mark.parametrize(("task", "prior"), [("deblur", "gs"), ("denoise", "gs-prox")])
def test_the_learned_objective_is_interruptible_in_every_pass(task, prior):
    """The shipped networks: the refined cnn proposal, ∇g_σ's forward and backward passes and
    D_σ's prox are checkpoints too, and their caches survive an abandon unharmed."""
    from core.io import load_image, resources_dir
    from core.tasks import build_task

    image = load_image(resources_dir() / "samples" / "house.png", grayscale=True)[..., :32, :32]

    def run_with(interrupt):
        setup = build_task(task, image, prior=prior, device="cpu")
        items = list(
            iterate(
                setup.problem,
                setup.module,
                setup.parameters,
                "fima",
                max_iter=2,
                propose="always",
                interrupt=interrupt,
            )
        )
        return [r for r in items if not isinstance(r, Abandoned)], len(items) - 2

    counter = TripAt(0)
    reference, _ = run_with(counter)
    assert counter.calls >= 6  # the learned passes are checkpoints, not only the engine's steps
    for n in range(1, counter.calls + 1):
        records, abandoned = run_with(TripAt(n))
        assert abandoned == 1
        for a, b in zip(records, reference, strict=True):
            assert torch.equal(a.x, b.x) and a.objective == b.objective
