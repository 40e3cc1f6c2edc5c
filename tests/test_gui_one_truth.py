"""Issue 30: one truth on screen — a value the user typed is never put back by an older record, and
whenever the run is paused the plots, the image and k show the same iteration.

The real window and engine, with a module that holds one iteration in its network pass until the
test releases it (a slow engine with an iteration in flight).
"""

from __future__ import annotations

import threading
from dataclasses import replace

import numpy as np
import pytest
from PySide6.QtCore import Qt

from core.modules.base import Module
from tests.conftest import GUI_TIMEOUT_MS

HELD_AT = 2
TYPED_MU = 0.3


class HeldModule(Module):
    """The task's module, whose call at iteration ``HELD_AT`` waits until released."""

    name = "held"

    def __init__(self, inner: Module) -> None:
        self.inner = inner
        self.entered, self.release = threading.Event(), threading.Event()

    def __call__(self, x, k, params, problem):
        if k == HELD_AT and not self.entered.is_set():
            self.entered.set()
            assert self.release.wait(60)
        return self.inner(x, k, params, problem)


@pytest.fixture
def held(loaded):
    """The loaded window (deblur, TV module) running fima with iteration 2 held in flight."""
    module = HeldModule(loaded.state.setup.module)
    loaded.state.setup = replace(loaded.state.setup, module=module)
    loaded.solver_panel.set_variants(["fima"])
    loaded.solver_panel.set_proposal_policy("always")
    loaded.solver_panel.set_limit(8)
    assert loaded.runner.start_run(running=True)
    assert module.entered.wait(60)
    yield loaded, module
    module.release.set()


def _type(qtbot, spin, text: str) -> None:
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, text)
    qtbot.keyClick(spin, Qt.Key.Key_Return)


def test_a_typed_mu_never_changes_back_when_the_iteration_in_flight_arrives(qtbot, held):
    window, module = held
    runner, spin = window.runner, window.parameter_panel.spin("mu")
    runner.refresh_now()
    assert runner.iterations == HELD_AT  # rows 0 and 1 are on screen, row 2 is in flight
    before = window.state.shown.mu
    assert before != TYPED_MU
    _type(qtbot, spin, str(TYPED_MU))
    assert spin.value() == TYPED_MU and window.state.shown.mu == TYPED_MU
    shown: list[float] = []  # what the box and the state show after every pull
    spin.valueChanged.connect(shown.append)
    module.release.set()
    while runner.run_state() == "running":
        qtbot.wait(5)
        runner.refresh_now()
        shown.append(spin.value())
        shown.append(window.state.shown.mu)
    runner.refresh_now()
    shown.append(spin.value())
    assert runner.iterations == 8
    assert set(shown) == {TYPED_MU}  # never the older value, not even for one pull
    mu = runner.history.column("fima", "mu")
    assert mu[HELD_AT] == pytest.approx(before)  # the iteration in flight kept its μ …
    assert np.all(mu[HELD_AT + 1 :] == pytest.approx(TYPED_MU))  # … the next ones took the edit


def test_paused_the_plots_the_image_and_k_show_the_same_iteration(qtbot, held):
    window, module = held
    runner = window.runner
    qtbot.waitUntil(lambda: runner.iterations == HELD_AT, timeout=GUI_TIMEOUT_MS)
    module.release.set()
    qtbot.wait(50)
    runner.pause_run()
    qtbot.waitUntil(runner.run.worker.is_idle, timeout=GUI_TIMEOUT_MS)
    qtbot.waitUntil(lambda: not window.plots.pending(), timeout=GUI_TIMEOUT_MS)  # paced draws
    qtbot.wait(100)  # no refresh_now(): what the window shows by itself
    k = runner.iterations
    assert k >= HELD_AT
    assert window.status.iteration.text() == f"k = {k}"
    assert window.scrubber.latest() == k and window.history_bar.latest() == k
    assert window.images.shown_key() == ("fima", k)
    assert window.plots.column("fima", "k")[-1] == k - 1  # row k − 1 holds Ψ(x^k)
    assert runner.scrub_to(1) == 1  # pinned: every view moves to x¹ together
    assert window.images.shown_key() == ("fima", 1) and window.plots.cursor_row() == 0
    assert window.scrubber.position() == 1 and window.history_bar.is_live() is False
