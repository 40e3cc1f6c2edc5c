"""The window keeps up with a fast engine (issue 29 item 5): every iteration's numbers reach the
window, the plots stay decimated to their pixels while holding every point, images refresh at a
paced rate, and the iterate history stays inside its budget.

The engine is real and fast: pg with the wavelet prior on a 64² image (hundreds to thousands of
iterations a second). Wall-clock bounds are generous on purpose: they check the pacing's shape
(never faster than its rate, never starved), not the machine's speed.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
import torch
from PySide6.QtWidgets import QApplication

from gui.app import leave_a_core_for_the_window
from gui.refresh_budget import FRAME_RATE, MAX_DRAW_RATE
from gui.state.problem_spec import ProblemSpec
from gui.state.run_history import RunHistory
from gui.views.plot_data import PlotColumns, decimate, decimate_markers
from gui.views.plots import PlotPanel

ITERATIONS = 3000
TIMEOUT_MS = 120_000
FAST = {"prior": "wavelet", "module": "tv"}


def _counting(obj, name: str, calls: list[int]) -> None:
    """Count the calls of ``obj.name`` that carry data (an instance attribute shadows it)."""
    method = getattr(obj, name)

    def counted(*args, **kwargs):
        if not args or args[0]:
            calls[0] += 1
        return method(*args, **kwargs)

    setattr(obj, name, counted)


@pytest.fixture
def fast_window(qtbot, window, image_file):
    """The window, shown at a realistic size, with the fast pg problem loaded, and torch on the
    explorer's threads (cores − 1: OpenMP threads waiting for the GUI's core slow it 4× here)."""
    threads = torch.get_num_threads()
    leave_a_core_for_the_window()
    yield _loaded(qtbot, window, image_file)
    torch.set_num_threads(threads)


def _loaded(qtbot, window, image_file):
    assert window.load_problem(ProblemSpec("deblur", str(image_file), dict(FAST)))
    window.solver_panel.set_variants(["pg"])
    window.resize(1400, 900)
    window.show()
    qtbot.waitExposed(window)
    return window


def _drawn(window) -> None:
    """Let the plots' last draw happen (they are paced) and its paint."""
    window.runner.refresh_now()
    deadline = time.perf_counter() + 5
    while window.plots.pending() and time.perf_counter() < deadline:
        window.plots.draw_one()
    for _ in range(3):
        QApplication.processEvents()


def test_a_fast_run_shows_every_iteration_and_paces_its_refreshes(qtbot, fast_window):
    window = fast_window
    frames, draws = [0], [0]
    window.state.progress.events.images.connect(
        lambda images, _k: frames.__setitem__(0, frames[0] + bool(images))
    )
    _counting(window.plots, "_draw_all", draws)
    history_budget = 4 * 2**20  # 4 MiB: a 64² frame is 16 KiB, so 3000 of them must be thinned
    window.scrubber.set_budget_mb(history_budget // 2**20)
    window.solver_panel.set_limit(ITERATIONS)
    start = time.perf_counter()
    assert window.runner.start_run(running=True)
    qtbot.waitUntil(lambda: window.runner.run_state() == "limit", timeout=TIMEOUT_MS)
    elapsed = time.perf_counter() - start
    _drawn(window)

    # every iteration's numbers reached the window, and the last k shown is the run's
    run = window.runner.run
    assert run.worker.iterations == ITERATIONS
    assert window.runner.history.count("pg") == ITERATIONS
    assert window.runner.iterations == ITERATIONS
    assert window.status.iteration.text() == f"k = {ITERATIONS}"
    assert window.scrubber.latest() == ITERATIONS
    assert window.images.shown_key() == ("pg", ITERATIONS)
    objective = window.plots.column("pg", "objective")
    assert np.array_equal(window.plots.column("pg", "k"), np.arange(ITERATIONS))
    assert np.array_equal(objective, window.runner.history.column("pg", "objective"))

    # the plots hold every point and draw a bounded number, ending at the last k
    view = window.plots.plots["objective"].getViewBox()
    pixels = int(view.width())
    assert 50 < pixels < ITERATIONS // 3  # decimation must matter at this size
    for key in ("objective", "step", "psnr", "ssim"):
        data, drawn = window.plots.point_counts(key)["pg"]
        assert data == ITERATIONS, key
        assert drawn <= 2 * int(window.plots.plots[key].getViewBox().width()) + 2, key
    x, y = window.plots._curves["pg"].lines["objective"].getData()  # y: log10 (a log axis)
    assert x[-1] == ITERATIONS - 1 and 10 ** y[-1] == pytest.approx(objective[-1])
    assert 10 ** np.nanmin(y) == pytest.approx(np.nanmin(objective))  # peaks survive

    # refreshes are paced: never above their rates, never starved (generous bounds)
    assert frames[0] <= FRAME_RATE * 1.5 * elapsed + 5, (frames[0], elapsed)
    assert frames[0] >= min(2 * elapsed, 10), (frames[0], elapsed)
    assert draws[0] <= MAX_DRAW_RATE * 1.5 * elapsed + 5, (draws[0], elapsed)
    assert draws[0] >= 2

    # the iterate history stayed inside its budget, thinned, and kept the newest iterate
    history = window.scrubber.iterates
    frame_bytes = history.get("pg", ITERATIONS)[1].nbytes
    assert history.stored_bytes <= history_budget + frame_bytes
    assert history.stride > 1
    assert history.get("pg", ITERATIONS)[0] == ITERATIONS


def test_a_paused_fast_run_shows_the_iteration_it_stopped_at(qtbot, fast_window):
    window = fast_window
    window.solver_panel.set_limit(10 * ITERATIONS)
    assert window.runner.start_run(running=True)
    qtbot.waitUntil(lambda: window.runner.history.count("pg") >= 500, timeout=TIMEOUT_MS)
    window.runner.pause_run()
    worker = window.runner.run.worker
    qtbot.waitUntil(worker.is_idle, timeout=TIMEOUT_MS)
    qtbot.waitUntil(
        lambda: window.runner.history.count("pg") == worker.iterations, timeout=TIMEOUT_MS
    )
    _drawn(window)
    k = worker.iterations
    assert window.runner.iterations == k
    assert window.status.iteration.text() == f"k = {k}"
    assert window.scrubber.latest() == k
    assert window.images.shown_key() == ("pg", k)
    x, _ = window.plots._curves["pg"].lines["objective"].getData()
    assert x[-1] == k - 1


# ---- the plots' decimation ---------------------------------------------------------------------
def _rows(n: int) -> list[dict]:
    k = np.arange(n)
    objective = 1.0 + 1.0 / (k + 1) + 0.01 * np.sin(k)
    return [
        {
            "k": int(i),
            "objective": float(objective[i]),
            "step": 1e-3 / (i + 1),
            "residual": 1e-2 / (i + 1),
            "tolerance": 2e-2 / (i + 1),
            "accepted": float(i % 3 != 0),
            "psnr": 20.0 + i / n,
            "ssim": 0.5,
        }
        for i in range(n)
    ]


@pytest.fixture
def big_panel(qtbot):
    widget = PlotPanel()
    qtbot.addWidget(widget)
    widget.resize(1200, 600)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_variants(["fima"])
    history = RunHistory()
    history.extend("fima", _rows(50_000))
    widget.update_curves(history)
    widget.flush()
    QApplication.processEvents()
    return widget


def test_fifty_thousand_points_are_drawn_as_a_few_per_pixel(big_panel):
    panel = big_panel
    for key in ("objective", "residual", "acceptance"):
        pixels = int(panel.plots[key].getViewBox().width())
        data, drawn = panel.point_counts(key)["fima"]
        assert data == 50_000
        assert 0 < drawn <= 2 * pixels + 2, key
    curves = panel._curves["fima"]
    accepted, _ = curves.accepted.getData()
    rejected, _ = curves.rejected.getData()
    pixels = int(panel.plots["residual"].getViewBox().width())
    assert len(accepted) <= pixels + 2 and len(rejected) <= pixels + 2
    assert accepted[-1] == 49_999 and rejected[-1] == 49_998


def test_a_zoom_redraws_every_point_of_its_range(qtbot, big_panel):
    panel = big_panel
    view = panel.plots["objective"].getViewBox()
    view.setXRange(1000, 1100, padding=0)  # as a mouse zoom does: auto-range off
    qtbot.waitUntil(lambda: panel.point_counts("objective")["fima"][1] < 200, timeout=5000)
    x, y = panel._curves["fima"].lines["objective"].getData()
    assert x[0] <= 1000 and x[-1] >= 1100 and len(x) <= 104  # every point, one beyond each side
    shown = panel.column("fima", "objective")[int(x[0]) : int(x[-1]) + 1]
    assert np.allclose(10**y, shown)  # a log axis: getData gives log10
    view.enableAutoRange(x=True)  # "A": the whole run again, decimated
    qtbot.waitUntil(
        lambda: panel._curves["fima"].lines["objective"].getData()[0][-1] == 49_999, timeout=5000
    )
    assert panel.point_counts("objective")["fima"][1] <= 2 * int(view.width()) + 2


def test_decimate_keeps_ends_peaks_and_gaps():
    x = np.arange(10_000, dtype=float)
    y = np.cos(x / 500)
    y[5000] = 7.0  # one spike
    y[2000:2400] = np.nan  # a long gap
    xs, ys = decimate(x, y, None, 100)
    assert len(xs) <= 202
    assert (xs[0], ys[0], xs[-1], ys[-1]) == (0.0, y[0], 9999.0, y[-1])
    assert np.nanmax(ys) == 7.0 and np.nanmin(ys) == pytest.approx(np.nanmin(y))
    assert np.isnan(ys).any()  # the gap stays a gap
    assert np.all(np.diff(xs) >= 0)
    small_x, small_y = decimate(x[:150], y[:150], None, 100)
    assert np.array_equal(small_x, x[:150])  # few points: untouched
    part_x, _ = decimate(x, y, (3000.5, 3010.5), 100)
    assert part_x[0] == 3000 and part_x[-1] == 3011


def test_decimate_markers_keeps_one_a_pixel_and_the_last():
    x = np.arange(0, 9000, 3, dtype=float)
    xs, _ = decimate_markers(x, x, None, 100)
    assert len(xs) <= 101 and xs[-1] == x[-1]
    assert len(np.unique(np.floor(xs[:-1] * 100 / x[-1]))) == len(xs) - 1


def test_plot_columns_convert_each_row_once_and_notice_a_new_history():
    history = RunHistory()
    columns = PlotColumns()
    history.extend("fima", _rows(10))
    columns.sync(history)
    first = columns.get("fima")
    history.extend("fima", _rows(15)[10:])
    columns.sync(history)
    assert columns.get("fima") is first and first.count == 15
    assert np.array_equal(first.column("k"), np.arange(15))
    assert first.acceptance_rate()[-1] == pytest.approx(np.mean([i % 3 != 0 for i in range(15)]))
    history.clear()
    history.extend("fima", _rows(20))  # a new run in the same history: rebuilt
    columns.sync(history)
    assert columns.get("fima").count == 20
    fresh = RunHistory()
    fresh.extend("fima", _rows(5))
    columns.sync(fresh)
    assert columns.get("fima").count == 5
