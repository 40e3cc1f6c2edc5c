"""The history scrubber: past iterates shown exactly as stored, ←/→, the plots' cursor, and the
memory budget of the iterate history over a long run."""

from __future__ import annotations

import itertools
import math

import numpy as np
import torch

import gui.run.solver_worker
from core import COLUMNS, ParameterTimeline, iterate
from gui.display import to_display_array
from tests.conftest import GUI_TIMEOUT_MS, run_to_limit


def test_scrub_to_an_early_iterate_shows_the_stored_one(qtbot, loaded):
    window = loaded
    run_to_limit(qtbot, window, 6)
    assert window.history_bar.latest() == 6 and window.history_bar.is_live()
    assert window.runner.scrub_to(2) == 2
    stored_k, stored = window.scrubber.iterates.get("fima", 2)
    assert stored_k == 2
    np.testing.assert_array_equal(window.images.image("x"), stored)
    assert window.images.image("proposal") is None  # proposals are kept for the newest only
    assert window.plots.cursor_row() == 1  # row 1 holds Ψ(x²)
    assert window.history_bar.position() == 2 and not window.history_bar.is_live()
    # the stored iterate is the engine's x² for the same problem and parameters
    timeline = ParameterTimeline(window.state.timeline.initial)
    setup = window.setup
    records = list(iterate(setup.problem, setup.module, timeline, "fima", max_iter=2))
    np.testing.assert_allclose(stored, to_display_array(records[1].x), atol=1e-6)
    # x⁰ is the start
    window.runner.scrub_to(0)
    np.testing.assert_array_equal(window.images.image("x"), to_display_array(setup.problem.x0))
    assert window.plots.cursor_row() is None


def test_arrow_keys_slider_and_live(qtbot, loaded):
    window = loaded
    run_to_limit(qtbot, window, 4)
    newest = window.images.image("x").copy()
    window.actions.history_back.trigger()  # ← from the newest
    assert window.scrubber.position() == 3
    window.actions.history_back.trigger()
    window.actions.history_forward.trigger()
    assert window.scrubber.position() == 3
    window.history_bar.slider.setValue(1)
    assert window.scrubber.position() == 1
    np.testing.assert_array_equal(window.images.image("x"), window.scrubber.frame("fima", 1)[1])
    window.images.variant_combo.setCurrentIndex(1)  # pg, same iterate index
    np.testing.assert_array_equal(window.images.image("x"), window.scrubber.frame("pg", 1)[1])
    window.images.variant_combo.setCurrentIndex(0)
    window.history_bar.slider.setValue(4)  # the right end follows the newest again
    assert window.scrubber.position() is None and window.history_bar.is_live()
    np.testing.assert_array_equal(window.images.image("x"), newest)
    window.actions.history_forward.trigger()  # → at the newest: one more iteration
    qtbot.waitUntil(lambda: window.runner.run.worker.row_count("fima") == 5, timeout=GUI_TIMEOUT_MS)


def test_a_pinned_view_stays_while_the_run_goes_on(qtbot, loaded):
    window = loaded
    window.solver_panel.set_limit(10_000)
    window.runner.start_run()
    qtbot.waitUntil(lambda: window.runner.run.worker.row_count("fima") >= 2, timeout=GUI_TIMEOUT_MS)
    window.runner.refresh_now()
    window.runner.scrub_to(1)
    pinned = window.images.image("x").copy()
    seen = window.runner.run.worker.row_count("fima")
    qtbot.waitUntil(
        lambda: window.runner.run.worker.row_count("fima") >= seen + 2, timeout=GUI_TIMEOUT_MS
    )
    window.runner.refresh_now()
    assert window.history_bar.latest() > seen
    np.testing.assert_array_equal(window.images.image("x"), pinned)
    assert "history" in window.images.labels["x"].text
    window.runner.follow_live()
    assert not np.array_equal(window.images.image("x"), pinned)


class _FakeRecord:
    """A 256×256 iterate full of k and its |d| map (full of −k), with a complete trace row."""

    def __init__(self, k: int, variant: str, size: int) -> None:
        self.k, self.variant, self.diverged = k, variant, False
        self.x = torch.full((1, 1, size, size), float(k))
        self.u = self.u_tilde = None
        self.d_map = torch.full((size, size), -float(k))

    def row(self) -> dict:
        row = dict.fromkeys(COLUMNS, math.nan)
        row.update(
            k=self.k,
            variant=self.variant,
            objective=1.0 / (self.k + 1),
            accepted=True,
            reject_reason="",
            diverged=False,
            conditions_hold=True,
            step=1.0 / (self.k + 1),
        )
        return row


def test_memory_budget_holds_over_2000_iterations_of_256_squared(qtbot, loaded, monkeypatch):
    size, iterations, budget_mb = 256, 2000, 16

    def fake_iterate(problem, module, timeline, variant, **options):
        for k in itertools.count():
            yield _FakeRecord(k, variant, size)

    monkeypatch.setattr(gui.run.solver_worker, "iterate", fake_iterate)
    monkeypatch.setenv("FIMA_ENGINE", "thread")  # the fake engine lives in this process
    window = loaded
    window.set_history_budget_mb(budget_mb)
    window.solver_panel.set_variants(["fima"])
    run_to_limit(qtbot, window, iterations)
    iterates = window.scrubber.iterates
    frame_bytes = size * size * 4
    assert iterates.stored_bytes <= budget_mb * 2**20
    assert iterates.stored_bytes >= budget_mb * 2**20 // 2 - frame_bytes  # thinned, not emptied
    kept = iterates.iterations("fima")
    stride = iterates.stride
    assert stride > 1 and kept[0] == 0 and kept[-1] == iterations
    assert all(b - a == stride for a, b in itertools.pairwise(kept[:-1]))  # evenly thinned
    assert window.runner.history.count("fima") == iterations  # scalars kept in full
    shown = window.runner.scrub_to(1000)
    assert 1000 - stride < shown <= 1000
    assert window.images.image("x")[0, 0] == shown - 1  # x^k holds the record of k − 1
    assert window.images.image("d")[0, 0] == -(shown - 1)  # and beside it that record's map
    assert iterates.iterations("fima", kind="d") == kept[1:]  # maps thinned with the iterates


def test_large_history_frames_live_in_their_own_mappings():
    import mmap

    from gui.run.allocator import frame_copy

    def owner(arr):
        while isinstance(arr, np.ndarray) and arr.base is not None:
            arr = arr.base
        return arr.obj if isinstance(arr, memoryview) else arr

    rgb = np.random.default_rng(0).random((3, 256, 256), dtype=np.float32)
    big = frame_copy(np.moveaxis(rgb, 0, -1))  # a strided view, as for colour images
    assert isinstance(owner(big), mmap.mmap)
    assert big.flags["C_CONTIGUOUS"] and big.dtype == np.float32 and big.nbytes == rgb.nbytes
    np.testing.assert_array_equal(big, np.moveaxis(rgb, 0, -1))
    small = frame_copy(np.ones((16, 16)))
    assert not isinstance(owner(small), mmap.mmap) and small.dtype == np.float32
