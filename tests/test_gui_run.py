"""Running in the explorer window: run, pause, step, live parameters, reset, variants, errors."""

from __future__ import annotations

import pytest

from core import VARIANTS

TIMEOUT_MS = 30_000


def _wait_rows(qtbot, window, n: int, variant: str = "fima") -> None:
    qtbot.waitUntil(lambda: window.runner.run.worker.row_count(variant) >= n, timeout=TIMEOUT_MS)


def _pause_and_settle(qtbot, window) -> None:
    window.runner.pause_run()
    qtbot.waitUntil(window.runner.run.worker.is_idle, timeout=TIMEOUT_MS)


def test_run_pause_and_step_exactly_one_iteration(qtbot, loaded):
    window = loaded
    window.solver_panel.set_limit(10_000)
    assert window.runner.start_run()
    assert window.runner.run_state() == "running"
    assert window.actions.run_pause.text() == "Pause"
    _wait_rows(qtbot, window, 2)
    _pause_and_settle(qtbot, window)
    assert window.runner.run_state() == "paused"
    worker = window.runner.run.worker
    counts = {v: worker.row_count(v) for v in window.runner.run.variants}
    assert counts["fima"] == counts["pg"]  # lockstep
    window.runner.step_run()
    qtbot.waitUntil(
        lambda: worker.row_count("fima") == counts["fima"] + 1 and worker.is_idle(),
        timeout=TIMEOUT_MS,
    )
    qtbot.wait(150)  # a stray second iteration would show up here
    for variant, count in counts.items():
        assert worker.row_count(variant) == count + 1
    window.runner.refresh_now()
    for variant, count in counts.items():
        assert window.runner.history.count(variant) == count + 1
    assert window.images.image("x") is not None
    assert window.status.iteration.text() == f"k = {counts['fima'] + 1}"
    # Space resumes
    window.runner.toggle_run()
    _wait_rows(qtbot, window, counts["fima"] + 3)


def test_step_before_any_run_starts_paused(qtbot, loaded):
    window = loaded
    window.runner.step_run()
    qtbot.waitUntil(
        lambda: (
            window.runner.run.worker.row_count("fima") == 1 and window.runner.run.worker.is_idle()
        ),
        timeout=TIMEOUT_MS,
    )
    assert window.runner.run_state() == "paused"
    window.actions.step.trigger()
    qtbot.waitUntil(lambda: window.runner.run.worker.row_count("pg") == 2, timeout=TIMEOUT_MS)
    qtbot.waitUntil(window.runner.run.worker.is_idle, timeout=TIMEOUT_MS)
    assert window.runner.run.worker.row_count("fima") == 2


def test_parameter_changes_reach_the_next_records(qtbot, loaded):
    window = loaded
    window.solver_panel.set_limit(10_000)
    window.runner.start_run()
    _wait_rows(qtbot, window, 2)
    _pause_and_settle(qtbot, window)
    worker = window.runner.run.worker
    k_change = worker.row_count("fima")
    panel = window.parameter_panel
    panel.spin("C").setValue(0.25)
    panel.spin("mu").setValue(0.8)
    panel.spin("gamma").setValue(0.5)
    window.runner.step_run()
    qtbot.waitUntil(lambda: worker.row_count("pg") == k_change + 1, timeout=TIMEOUT_MS)
    for variant in window.runner.run.variants:
        rows = worker.rows(variant)
        defaults = window.setup.parameters
        assert (rows[k_change - 1]["C"], rows[k_change - 1]["mu"]) == (defaults.C, defaults.mu)
        new = rows[k_change]
        assert (new["k"], new["C"], new["mu"], new["gamma"]) == (k_change, 0.25, 0.8, 0.5)
    window.runner.refresh_now()  # the window's timeline takes the engine's record at a pull
    assert window.state.timeline.changes[k_change] == {"C": 0.25, "mu": 0.8, "gamma": 0.5}
    assert window.plots.marker_positions() == [k_change]
    # a change while running free lands in a later record
    window.runner.toggle_run()
    panel.spin("C").setValue(0.3)
    qtbot.waitUntil(lambda: worker.rows("fima")[-1]["C"] == 0.3, timeout=TIMEOUT_MS)
    _pause_and_settle(qtbot, window)
    window.runner.refresh_now()
    assert len(window.plots.marker_positions()) == 2


def test_reset_goes_back_to_the_start(qtbot, loaded):
    window = loaded
    window.solver_panel.set_limit(3)
    window.runner.start_run()
    qtbot.waitUntil(lambda: window.runner.run_state() == "limit", timeout=TIMEOUT_MS)
    window.runner.refresh_now()
    assert window.runner.history.count("fima") == 3
    window.actions.reset.trigger()
    assert window.runner.run is None
    assert window.runner.run_state() == "idle"
    assert window.runner.history.total() == 0
    x0 = window.setup.problem.x0[0, 0].numpy()
    assert (window.images.image("x") == x0).all()
    assert window.status.iteration.text() == "k = 0"


def test_limit_can_be_raised_to_go_on(qtbot, loaded):
    window = loaded
    window.solver_panel.set_limit(2)
    window.runner.toggle_run()
    qtbot.waitUntil(lambda: window.runner.run_state() == "limit", timeout=TIMEOUT_MS)
    assert window.runner.run.worker.row_count("fima") == 2
    window.solver_panel.set_limit(4)
    window.runner.toggle_run()
    qtbot.waitUntil(lambda: window.runner.run_state() == "limit", timeout=TIMEOUT_MS)
    assert window.runner.run.worker.row_count("fima") == 4


def test_four_variants_at_once(qtbot, loaded):
    window = loaded
    window.solver_panel.set_variants(list(VARIANTS))
    window.solver_panel.set_limit(3)
    window.runner.start_run()
    qtbot.waitUntil(lambda: window.runner.run_state() in ("limit", "ended"), timeout=TIMEOUT_MS)
    window.runner.refresh_now()
    for variant in VARIANTS:
        assert window.runner.history.count(variant) >= 1, variant
    assert window.images.variant_combo.count() == 4
    window.images.variant_combo.setCurrentIndex(2)
    assert window.images.image("x") is not None


def test_variant_toggle_resets_the_run(qtbot, loaded):
    window = loaded
    window.solver_panel.set_limit(2)
    window.runner.start_run()
    qtbot.waitUntil(lambda: window.runner.run_state() == "limit", timeout=TIMEOUT_MS)
    window.solver_panel.variant_boxes["naive"].setChecked(True)
    assert window.runner.run is None
    assert window.solver_panel.variants() == ["fima", "naive", "pg"]


def test_engine_exception_in_the_worker_is_reported(qtbot, loaded, dialogs, monkeypatch):
    monkeypatch.setenv("FIMA_ENGINE", "thread")  # the failing prox is patched in this process
    window = loaded
    problem = window.setup.problem
    # the term Algorithm 1 proxes: the fidelity under the learned prior, else the prior
    owner, name = (
        (problem.fidelity, "prox") if problem.learned else (problem.prior, "prox_with_value")
    )
    original = getattr(owner, name)

    def failing(z, gamma):  # fails once a first iteration has been recorded
        if window.runner.run is not None and window.runner.run.worker.row_count("fima") >= 1:
            raise RuntimeError("prox failed\nwith details")
        return original(z, gamma)

    setattr(owner, name, failing)
    window.solver_panel.set_limit(1000)
    window.runner.start_run()
    qtbot.waitUntil(lambda: window.runner.run_state() == "error", timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: window.last_error is not None, timeout=TIMEOUT_MS)
    assert window.last_error == "The solver stopped: RuntimeError: prox failed"
    assert dialogs == [window.last_error]
    assert window.status.state.text() == "Stopped by an error"
    setattr(owner, name, original)
    # the window stays usable: a fresh run works once the fault is gone
    window.solver_panel.set_limit(2)
    window.runner.toggle_run()
    qtbot.waitUntil(lambda: window.runner.run_state() == "limit", timeout=TIMEOUT_MS)
    assert window.runner.run.worker.row_count("fima") == 2


def test_rebuilding_the_problem_stops_the_run(qtbot, loaded):
    window = loaded
    window.solver_panel.set_limit(10_000)
    window.runner.start_run()
    _wait_rows(qtbot, window, 1)
    run = window.runner.run
    assert window.set_option("noise", 0.02)
    assert window.runner.run is None and run.stopped  # without waiting for a slow iteration
    qtbot.waitUntil(lambda: not run.is_thread_running(), timeout=TIMEOUT_MS)


def test_close_while_running_joins_the_thread(qtbot, loaded):
    window = loaded
    window.solver_panel.set_limit(10_000)
    window.runner.start_run()
    _wait_rows(qtbot, window, 1)
    run = window.runner.run
    window.close()
    assert window.runner.run is None
    assert not run.is_thread_running()
    assert run.has_ended()


def test_export_after_a_run(qtbot, loaded, tmp_path):
    from core.trace import read_trace_csv

    window = loaded
    window.solver_panel.set_limit(3)
    window.runner.start_run()
    qtbot.waitUntil(lambda: window.runner.run_state() == "limit", timeout=TIMEOUT_MS)
    out = tmp_path / "out"
    assert window.files.export_to(out)
    rows = read_trace_csv(out / "trace.csv")
    assert [(r["variant"], r["k"]) for r in rows] == [
        ("fima", 0),
        ("fima", 1),
        ("fima", 2),
        ("pg", 0),
        ("pg", 1),
        ("pg", 2),
    ]
    for name in ("result.png", "result.npy", "observation.png", "ground_truth.png", "session.toml"):
        assert (out / name).is_file(), name


@pytest.mark.parametrize("name", ["psnr", "objective"])
def test_plots_receive_whole_arrays(qtbot, loaded, name):
    window = loaded
    window.solver_panel.set_limit(3)
    window.runner.start_run()
    # "limit" is the worker's state: the window has the last rows once it has pulled them
    qtbot.waitUntil(lambda: window.runner.history.count("fima") == 3, timeout=TIMEOUT_MS)
    qtbot.waitUntil(lambda: not window.plots.pending(), timeout=TIMEOUT_MS)
    curve = window.plots._curves["fima"].lines[name]
    x, y = curve.getData()
    assert list(x) == [0, 1, 2]


def test_keyboard_shortcuts(qtbot, loaded):
    from PySide6.QtCore import Qt

    window = loaded
    with qtbot.waitActive(window):
        window.show()
        window.activateWindow()
    window.images.graphics.setFocus()
    qtbot.keyClick(window.images.graphics, Qt.Key.Key_N)
    qtbot.waitUntil(
        lambda: window.runner.run is not None and window.runner.run.worker.is_idle(), timeout=5000
    )
    qtbot.waitUntil(lambda: window.runner.run.worker.row_count("fima") == 1, timeout=TIMEOUT_MS)
    qtbot.keyClick(window.images.graphics, Qt.Key.Key_Right)
    qtbot.waitUntil(lambda: window.runner.run.worker.row_count("fima") == 2, timeout=TIMEOUT_MS)
    qtbot.keyClick(window.images.graphics, Qt.Key.Key_Space)
    assert window.runner.run_state() in ("running", "limit")
    qtbot.keyClick(window.images.graphics, Qt.Key.Key_Space)
    assert window.runner.run_state() in ("paused", "limit")
    qtbot.keyClick(window.images.graphics, Qt.Key.Key_R)
    assert window.runner.run is None


def test_denoise_with_the_proximal_prior_runs_every_variant(qtbot, window, image_file, dialogs):
    """Ψ = f + λφ_σ: Ψ is +∞ at naive's iterates (not D_σ's outputs); the plots keep the finite."""
    import math

    from gui.state.problem_spec import ProblemSpec

    assert window.load_problem(ProblemSpec("denoise", str(image_file), {"module": "tv"}))
    window.solver_panel.set_variants(list(VARIANTS))
    window.solver_panel.set_limit(3)
    window.runner.start_run()
    qtbot.waitUntil(lambda: window.runner.run_state() in ("limit", "ended"), timeout=TIMEOUT_MS)
    window.runner.refresh_now()
    qtbot.waitUntil(lambda: not window.plots.pending(), timeout=TIMEOUT_MS)
    assert dialogs == []
    for variant in ("fima", "pg", "unchecked"):
        values = [r["objective"] for r in window.runner.history.rows(variant)]
        assert len(values) == 3 and all(math.isfinite(v) for v in values), variant
    naive = [r["objective"] for r in window.runner.history.rows("naive")]
    assert naive and all(v == math.inf for v in naive)
    x, y = window.plots._curves["fima"].lines["objective"].getData()
    assert list(x) == [0, 1, 2] and all(math.isfinite(v) for v in y)
    _, y_naive = window.plots._curves["naive"].lines["objective"].getData()
    assert y_naive is None or not any(math.isfinite(v) for v in y_naive)
    text = window.certificate_panel.text()
    assert "+∞ from iteration 0" in text and "DIVERGED" not in text
