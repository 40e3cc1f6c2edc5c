"""The Study window: a real study run from the window (real runs, real SQLite), live heatmap,
pickers, cancel and resume, bad input, double-click → the cell's Session, and its replay."""

from __future__ import annotations

import csv
import math
import sqlite3
import threading

import imageio.v3 as iio
import numpy as np
import pytest
from PySide6.QtCore import Qt

from core.cli import main
from core.io import InputError
from core.session import Session, save_session
from core.study import SerialBackend, StudyStore, load_spec, run_study
from core.study.replay import cell_session
from gui.study import StudyWindow
from gui.study.heatmap_view import index_mapping
from gui.study.study_runner import StudyWorker, detached_runners

from .conftest import synthetic_image

STUDY_TIMEOUT_MS = 180_000
C_VALUES, MU_VALUES = (0.1, 0.4), (0.3, 1.0)
CELLS = 2 * 2 * 2  # variants × C × mu


def write_spec(folder, iterations: int = 3, grid: str = "") -> str:
    """A 32×32 deblur spec: module tv, prior tv, fima and pg over C × mu (2 × 2)."""
    folder.mkdir(parents=True, exist_ok=True)
    iio.imwrite(folder / "shapes.png", np.round(synthetic_image(32) * 255).astype(np.uint8))
    grid = grid or f"C = {list(C_VALUES)}\nmu = {list(MU_VALUES)}"
    path = folder / "study.toml"
    path.write_text(
        'task = "deblur"\nimages = ["shapes.png"]\nvariants = ["fima", "pg"]\n'
        f'iterations = {iterations}\n[fixed]\nkernel = "gauss:1.2"\nnoise = 0.01\n'
        f'module = "tv"\nprior = "tv"\n[grid]\n{grid}\n'
    )
    return str(path)


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished study (run headless, serially): its folder."""
    base = tmp_path_factory.mktemp("finished")
    out = base / "out"
    run_study(load_spec(write_spec(base)), out, SerialBackend(), progress=False)
    return out


@pytest.fixture
def study_window(qtbot):
    """A real Study window; at the end no study may still run, no thread be left behind."""
    win = StudyWindow()
    qtbot.addWidget(win)
    yield win
    win.close()
    assert not win.is_running()
    assert not any(r.is_running() for r in detached_runners())


def cells(folder) -> list[dict]:
    """Every cell row, read with a separate connection."""
    con = sqlite3.connect(str(folder / "study.db"), timeout=30)
    con.row_factory = sqlite3.Row
    try:
        return [dict(r) for r in con.execute("SELECT * FROM cells ORDER BY id")]
    finally:
        con.close()


def iteration_counts(folder) -> dict[int, int]:
    """cell id → number of stored iterations."""
    con = sqlite3.connect(str(folder / "study.db"), timeout=30)
    try:
        return dict(con.execute("SELECT cell_id, COUNT(*) FROM iterations GROUP BY cell_id"))
    finally:
        con.close()


def mean_by(rows, metric: str, **where) -> dict[tuple, float]:
    """(mu, C) → mean of ``metric`` over the done rows matching ``where``."""
    found: dict[tuple, list[float]] = {}
    for r in rows:
        if r["status"] == "done" and all(r[k] == v for k, v in where.items()):
            found.setdefault((r["mu"], r["C"]), []).append(r[metric])
    return {key: sum(v) / len(v) for key, v in found.items()}


def one_line(message: str) -> bool:
    """A non-empty message of one line."""
    return bool(message) and "\n" not in message


def gate_after_first_cell(monkeypatch) -> threading.Event:
    """Hold the study's driver after its first stored cell until the returned event is set.

    A 32×32 study can end in less than the window's reload period on a fast machine; holding
    it makes "the heatmap fills in live" an observation rather than a race (the runs stay real).
    """
    gate, original = threading.Event(), StudyWorker._on_result

    def on_result(self, result: dict) -> None:
        original(self, result)
        with self._lock:
            stored = self._progress.done + self._progress.failed
        if stored == 1:
            assert gate.wait(STUDY_TIMEOUT_MS / 1000)

    monkeypatch.setattr(StudyWorker, "_on_result", on_result)
    return gate


def test_a_study_run_from_the_window_fills_in_live_and_matches_the_store(
    study_window, qtbot, tmp_path, monkeypatch
):
    spec, out = write_spec(tmp_path), tmp_path / "out"
    gate = gate_after_first_cell(monkeypatch)
    with qtbot.waitSignal(study_window.studyFinished, timeout=STUDY_TIMEOUT_MS) as ended:
        assert study_window.new_study(spec, out, workers=0)
        assert study_window.is_running() and study_window.cancel_button.isEnabled()
        # live: the heatmap shows some finished cells before the study ends
        qtbot.waitUntil(
            lambda: study_window.heat is not None and 0 < study_window.heat.counts.sum() < CELLS,
            timeout=STUDY_TIMEOUT_MS,
        )
        gate.set()
    assert ended.args[0].startswith(f"Study finished: {CELLS} done, 0 failed")
    assert study_window.last_message == ended.args[0] and study_window.last_error is None
    assert not study_window.is_running() and not study_window.cancel_button.isEnabled()
    assert not study_window.resume_button.isEnabled()

    heat = study_window.heat
    assert (heat.x, heat.y, heat.metric) == ("C", "mu", "psnr")
    assert heat.values.shape == (2, 2) and np.isfinite(heat.values).all()
    assert heat.counts.tolist() == [[2, 2], [2, 2]]  # fima and pg averaged
    expected = mean_by(cells(out), "psnr")
    for i, mu in enumerate(heat.ys):
        for j, c in enumerate(heat.xs):
            assert heat.values[i, j] == pytest.approx(expected[(mu, c)], abs=1e-9)
    shown = study_window.heatmap.image_array()
    assert shown.dtype == np.float32 and shown.flags.c_contiguous
    np.testing.assert_allclose(shown, heat.values, rtol=1e-6)  # the values are sorted already
    assert study_window.summary.text().startswith(f"8 done · 0 failed · 0 pending of {CELLS}")
    assert "mean over variant" in study_window.summary.text()
    assert (study_window.progress.value(), study_window.progress.maximum()) == (CELLS, CELLS)
    assert study_window.heatmap.guarantee.isVisible()  # axes C and μ: the line 2C = μ
    # reloads during the run were throttled to ≤ 2 Hz (the last one is the final re-read)
    gaps = np.diff(study_window.reload_times[:-1])
    assert len(study_window.reload_times) >= 3 and (gaps >= 0.45).all()


def test_accept_rate_picks_fima_rather_than_the_average(study_window, finished):
    """Issue 30: averaged with pg (no proposals), fima's acceptance rate was halved."""
    assert study_window.open_study(finished)
    study_window.set_picks(x="C", y="mu", metric="psnr", variant=None)
    combo = study_window._where["variant"]
    study_window.metric_combo.setCurrentText("accept_rate")
    assert combo.currentData() == "fima" and study_window.heat.where == {"variant": "fima"}
    assert "mean over variant" not in study_window.summary.text()
    study_window.metric_combo.setCurrentText("psnr")
    assert combo.currentData() is None  # the metric chose fima: back to the average
    study_window.metric_combo.setCurrentText("accept_rate")
    combo.setCurrentIndex(combo.findData("pg"))  # the user's own pick is kept
    study_window.metric_combo.setCurrentText("seconds")
    assert combo.currentData() == "pg"
    study_window.set_picks(metric="accept_rate", variant=None)  # average asked for: fima still
    assert study_window.heat.where == {"variant": "fima"}
    assert "accept_rate of fima's cells only" in study_window.summary.text()


def test_metric_axes_and_where_pickers(study_window, finished):
    assert study_window.open_study(finished)
    assert list(study_window._where) == ["variant"]  # image has one value: no picker
    rows = cells(finished)

    study_window.set_picks(metric="accept_rate", variant="pg")
    heat = study_window.heat
    assert heat.metric == "accept_rate" and heat.where == {"variant": "pg"}
    assert np.isnan(heat.values).all()  # pg makes no proposal: no acceptance rate
    assert study_window.heatmap.colour_bar.levels() == (0.0, 1.0)
    study_window.set_picks(variant="fima")
    expected = mean_by(rows, "accept_rate", variant="fima")
    assert study_window.heat.values[1, 0] == pytest.approx(expected[(MU_VALUES[1], C_VALUES[0])])
    assert 0.0 <= np.nanmin(study_window.heat.values) <= np.nanmax(study_window.heat.values) <= 1

    # variant as the y axis: its picker goes, and so does the line 2C = μ
    study_window.set_picks(x="mu", y="variant", metric="seconds")
    heat = study_window.heat
    assert (heat.x, heat.y, heat.values.shape) == ("mu", "variant", (2, 2))
    assert heat.ys == ["fima", "pg"] and "C" in study_window._where
    assert not study_window.heatmap.guarantee.isVisible()
    assert (heat.values > 0).all() and heat.averaged == ["C"]

    # picking y's axis as x swaps the two
    study_window.set_picks(x="C", y="mu", metric="psnr")
    study_window.x_combo.setCurrentText("mu")
    assert (study_window.heat.x, study_window.heat.y) == ("mu", "C")
    assert study_window.heatmap.guarantee.isVisible()
    x, y = study_window.heatmap.guarantee.getData()
    finite = np.isfinite(x) & np.isfinite(y)
    assert finite.any() and (np.abs(x[finite]) <= 1.5).all() and (np.abs(y[finite]) <= 1.5).all()


def test_the_line_is_placed_geometrically_on_log_axes():
    index, edges = index_mapping([0.01, 0.1, 1.0], log=True)
    got = index(np.array([0.01, 0.1, 1.0, math.sqrt(0.1), 1e-4, 100.0]))
    np.testing.assert_allclose(got[:4], [0, 1, 2, 1.5])
    assert np.isnan(got[4:]).all() and edges[0] == pytest.approx(10**-2.5)
    index, _ = index_mapping([0.3, 1.0], log=False)
    np.testing.assert_allclose(index(np.array([0.3, 0.65, 1.0])), [0, 0.5, 1])


def test_cancel_leaves_every_cell_done_or_pending_and_resume_finishes(
    study_window, qtbot, tmp_path
):
    spec, out = write_spec(tmp_path), tmp_path / "out"
    with qtbot.waitSignal(study_window.studyFinished, timeout=STUDY_TIMEOUT_MS) as ended:
        assert study_window.new_study(spec, out, workers=0)
        study_window.cancel()  # stops after the cell in progress
        assert not study_window.open_study(out)  # refused while running, window unharmed
        assert one_line(study_window.last_error) and "running" in study_window.last_error
    assert ended.args[0].startswith("Study cancelled: 1 done, 0 failed")
    assert "7 cell(s) left" in ended.args[0]
    rows = cells(out)
    assert len(rows) == CELLS and {r["status"] for r in rows} == {"done", "pending"}
    done = [r["id"] for r in rows if r["status"] == "done"]
    assert len(done) == 1 and iteration_counts(out) == {done[0]: 3}
    assert all(r["psnr"] is None for r in rows if r["status"] == "pending")
    assert study_window.summary.text().startswith("1 done · 0 failed · 7 pending")
    assert study_window.resume_button.isEnabled()

    with qtbot.waitSignal(study_window.studyFinished, timeout=STUDY_TIMEOUT_MS) as ended:
        assert study_window.resume()
    assert ended.args[0].startswith("Study finished: 7 done, 0 failed")
    assert {r["status"] for r in cells(out)} == {"done"}
    assert iteration_counts(out) == {i: 3 for i in range(1, CELLS + 1)}
    assert np.isfinite(study_window.heat.values).all()


def test_closing_the_window_during_a_run_cancels_it(qtbot, tmp_path):
    spec, out = write_spec(tmp_path), tmp_path / "out"
    win = StudyWindow()
    qtbot.addWidget(win)
    assert win.new_study(spec, out, workers=0)
    win.close()
    assert not win.is_running() and not detached_runners()
    assert {r["status"] for r in cells(out)} <= {"done", "pending"}


def test_a_local_run_on_two_worker_processes(study_window, qtbot, tmp_path):
    spec, out = write_spec(tmp_path, grid="C = [0.1, 0.4]\nmu = [1.0]"), tmp_path / "out"
    with qtbot.waitSignal(study_window.studyFinished, timeout=STUDY_TIMEOUT_MS) as ended:
        assert study_window.new_study(spec, out, workers=2)
    assert ended.args[0].startswith("Study finished: 4 done, 0 failed"), ended.args[0]
    store = StudyStore.read(out)
    try:
        runs = store.meta("runs")
    finally:
        store.close()
    assert '"backend": "local"' in runs and '"workers": 2' in runs
    assert study_window.heat.values.shape == (1, 2)


def test_a_folder_another_driver_is_writing_is_one_line_after_the_start(
    study_window, qtbot, dialogs, tmp_path
):
    fcntl = pytest.importorskip("fcntl")
    spec, out = write_spec(tmp_path), tmp_path / "out"
    StudyStore.open(out, load_spec(spec)).close()
    with open(out / "study.lock", "a+") as held:  # as a `fima study run` on this folder holds it
        fcntl.flock(held, fcntl.LOCK_EX | fcntl.LOCK_NB)
        with qtbot.waitSignal(study_window.studyFinished, timeout=STUDY_TIMEOUT_MS) as ended:
            assert study_window.new_study(spec, out, workers=0)
    assert ended.args[0].startswith("The study stopped: another study run is writing")
    assert len(dialogs) == 1 and one_line(dialogs[0]) and "another study run" in dialogs[0]
    assert not study_window.is_running() and study_window.resume_button.isEnabled()
    assert {r["status"] for r in cells(out)} == {"pending"}


def test_open_an_existing_study(study_window, finished):
    assert study_window.open_study(finished)
    assert study_window.heat.counts.sum() == CELLS and not study_window.is_running()
    assert study_window.summary.text().startswith(f"8 done · 0 failed · 0 pending of {CELLS}")
    assert not study_window.resume_button.isEnabled()
    assert "out" in study_window.windowTitle() and "deblur" in study_window.windowTitle()


def test_bad_input_gives_one_line_and_the_window_stays_usable(
    study_window, dialogs, tmp_path, finished
):
    assert not study_window.open_study(tmp_path / "nothing")
    assert dialogs == [study_window.last_error] and "no study" in dialogs[-1]
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "study.db").write_bytes(b"not a database at all" * 100)
    assert not study_window.open_study(tmp_path / "junk")
    assert "not a study database" in dialogs[-1]
    bad = tmp_path / "bad.toml"
    bad.write_text('task = "deblur"\n[grid]\nC = [-1.0]\n')
    assert not study_window.new_study(bad, tmp_path / "bad_out")
    assert dialogs[-1].startswith("spec:") and "C" in dialogs[-1]
    assert not study_window.new_study(tmp_path / "missing.toml", tmp_path / "o")
    assert "not found" in dialogs[-1]
    other = write_spec(tmp_path / "other", grid="C = [0.2]\nmu = [1.0]")
    assert not study_window.new_study(other, finished)  # the folder holds another study
    assert "different study" in dialogs[-1]
    assert len(dialogs) == 5 and all(one_line(m) for m in dialogs)
    assert not study_window.is_running()
    assert study_window.open_study(finished) and study_window.heat.counts.sum() == CELLS


def double_click(qtbot, widget, point) -> None:
    """Press, release, double-click, release: the events of a real double-click."""
    left = Qt.MouseButton.LeftButton
    qtbot.mousePress(widget, left, pos=point)
    qtbot.mouseRelease(widget, left, pos=point)
    qtbot.mouseDClick(widget, left, pos=point)
    qtbot.mouseRelease(widget, left, pos=point)


def test_double_click_opens_the_first_done_cell_of_the_pixel(study_window, qtbot, finished):
    assert study_window.open_study(finished)
    study_window.show()
    qtbot.waitExposed(study_window)
    rows = cells(finished)
    view = study_window.heatmap
    i, j = 1, 0  # mu = 1.0, C = 0.1
    c, mu = study_window.heat.xs[j], study_window.heat.ys[i]
    point = view.mapFromScene(view.scene_pos_of(i, j))
    assert view.pixel_at(view.scene_pos_of(i, j)) == (i, j)
    qtbot.mouseMove(view.viewport(), point)  # the hover readout
    qtbot.waitUntil(lambda: "psnr = " in study_window.readout.text(), timeout=5_000)
    assert "mean of 2 cells" in study_window.readout.text()
    assert study_window.readout.text().startswith("C = 0.1, mu = 1:")
    sessions: list[Session] = []
    study_window.cellOpened.connect(sessions.append)
    double_click(qtbot, view.viewport(), point)  # what a user's double-click sends
    qtbot.waitUntil(lambda: len(sessions) == 1, timeout=30_000)
    session = sessions[0]
    first = min(r["id"] for r in rows if r["C"] == c and r["mu"] == mu)
    assert isinstance(session, Session)
    assert (session.parameters.C, session.parameters.mu) == (c, mu)
    assert session.variants == [next(r for r in rows if r["id"] == first)["variant"]]
    message = study_window.statusBar().currentMessage()
    assert f"cell #{first}" in message and "first of the 2" in message

    assert len(sessions) == 1  # the single click of the double-click opened nothing
    study_window.set_picks(variant="pg")  # one cell per pixel now
    with qtbot.waitSignal(study_window.cellOpened, timeout=30_000) as opened:
        assert study_window.open_pixel(0, 1)
    session = opened.args[0]
    assert session.variants == ["pg"] and session.parameters.C == C_VALUES[1]
    assert session.iterations == 3 and session.task["module"] == "tv"


@pytest.mark.parametrize("variant", ["fima", "pg"])
def test_a_cell_session_replays_to_the_cell_psnr(finished, tmp_path, variant):
    row = next(r for r in cells(finished) if r["variant"] == variant and r["C"] == C_VALUES[1])
    session = cell_session(finished, row["id"])
    assert session.variants == [variant] and session.changes == {}
    assert session.task["image"].endswith("shapes.png") and session.task["prior"]["name"] == "tv"
    path = tmp_path / "cell.toml"
    save_session(path, session)
    assert main(["run", "--session", str(path), "--out", str(tmp_path / "run"), "--quiet"]) == 0
    with open(tmp_path / "run" / "trace.csv", newline="") as fh:
        trace = list(csv.DictReader(fh))
    assert len(trace) == 3
    assert float(trace[-1]["psnr"]) == pytest.approx(row["psnr"], abs=1e-6)


@pytest.mark.parametrize(
    ("cell", "message"),
    [(0, "no cell #0"), (99, "no cell #99 (its cells are #1 to #8)"), ("x", "whole number")],
)
def test_a_bad_cell_id_is_one_clear_line(finished, cell, message):
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")) as err:
        cell_session(finished, cell)
    assert one_line(str(err.value))


def test_a_missing_study_is_one_clear_line(tmp_path):
    with pytest.raises(InputError, match="no study in"):
        cell_session(tmp_path, 1)


def test_a_cell_opens_in_the_explorer_and_runs_to_the_cells_result(qtbot, window, finished):
    """File → Open study's window is the main window's; a cell it opens loads there and replays."""
    from tests.conftest import run_to_limit

    study = window.study_window()
    assert window.study_window() is study  # one Study window per explorer
    assert study.open_study(finished)
    row = next(r for r in cells(finished) if r["variant"] == "pg" and r["status"] == "done")
    with qtbot.waitSignal(study.cellOpened, timeout=30_000):
        study.set_picks(variant="pg")
        i = study.heat.ys.index(row["mu"])
        j = study.heat.xs.index(row["C"])
        assert study.open_pixel(i, j)
    assert window.setup is not None and window.last_error is None
    assert window.solver_panel.variants() == ["pg"]
    assert (window.state.initial.C, window.state.initial.mu) == (row["C"], row["mu"])
    run_to_limit(qtbot, window, window.solver_panel.limit())
    assert window.runner.history.count("pg") == 3
    psnr = window.runner.run.worker.rows("pg")[-1]["psnr"]
    assert psnr == pytest.approx(row["psnr"], abs=1e-6)


def test_changing_the_picks_leaves_no_stray_pickers_on_the_window(study_window, finished):
    """The pickers of the other axes are rebuilt on every pick: the old ones must go at once
    (a stray one was drawn over the heatmap in the README's picture)."""
    from PySide6.QtWidgets import QApplication, QComboBox

    assert study_window.open_study(finished)
    study_window.show()
    for _ in range(3):
        study_window.set_picks(x="C", y="mu", metric="psnr", variant="fima")
        study_window.set_picks(x="mu", y="C")
    QApplication.processEvents()
    shown = [c for c in study_window.findChildren(QComboBox) if c.isVisible()]
    assert len(shown) == 3 + len(study_window._where)  # x, y, metric + one per other axis
