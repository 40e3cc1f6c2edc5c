"""Sessions saved by the window replay exactly (headless with ``fima run --session``, and in the
window); sessions whose image changed or moved, newer-format and malformed ones are refused."""

from __future__ import annotations

import math

import imageio.v3 as iio
import numpy as np
import pytest

from core.cli import main as fima
from core.session import load_session
from core.trace import COLUMNS, read_trace_csv
from tests.conftest import GUI_TIMEOUT_MS, run_to_limit

COMPARED = [c for c in COLUMNS if c != "seconds"]


def _same_rows(a: list[dict], b: list[dict]) -> bool:
    def same(x, y) -> bool:
        if isinstance(x, float) and isinstance(y, float):
            return (math.isnan(x) and math.isnan(y)) or x == y
        return x == y

    return len(a) == len(b) and all(
        same(r[c], s[c]) for r, s in zip(a, b, strict=True) for c in COMPARED
    )


def _step(qtbot, window, rows: int) -> None:
    window.runner.step_run()
    worker = window.runner.run.worker
    qtbot.waitUntil(lambda: worker.row_count("fima") == rows and worker.is_idle(), timeout=30_000)


def test_three_live_changes_replay_headless_to_the_same_trace(qtbot, loaded, tmp_path):
    window = loaded
    window.solver_panel.set_variants(["fima"])
    window.solver_panel.set_limit(10_000)
    panel = window.parameter_panel
    _step(qtbot, window, 1)
    panel.spin("C").setValue(0.3)  # 1st change: takes effect at k = 1
    _step(qtbot, window, 2)
    _step(qtbot, window, 3)
    panel.spin("mu").setValue(0.8)  # 2nd: k = 3
    panel.spin("gamma").setValue(0.7)
    _step(qtbot, window, 4)
    window.runner.toggle_run()  # 3rd, while running free: lands wherever the worker is
    panel.spin("lam").setValue(0.002)
    worker = window.runner.run.worker
    qtbot.waitUntil(lambda: worker.rows("fima")[-1]["lam"] == 0.002, timeout=GUI_TIMEOUT_MS)
    window.runner.pause_run()
    qtbot.waitUntil(worker.is_idle, timeout=GUI_TIMEOUT_MS)
    window.runner.refresh_now()
    rows = worker.rows("fima")
    changes = window.state.timeline.changes
    k_lam = next(r["k"] for r in rows if r["lam"] == 0.002)
    assert changes == {1: {"C": 0.3}, 3: {"mu": 0.8, "gamma": 0.7}, k_lam: {"lam": 0.002}}
    assert k_lam >= 4 and rows[k_lam - 1]["lam"] == window.setup.parameters.lam
    path = tmp_path / "live.toml"
    assert window.files.save_session_file(path)
    out = tmp_path / "replay"
    assert fima(["run", "--session", str(path), "--out", str(out)]) == 0
    assert _same_rows(read_trace_csv(out / "trace.csv"), rows)
    # opening it in a window restores everything, and running it gives the same trace again
    window.runner.reset_run()
    panel.spin("C").setValue(0.1)
    assert window.files.load_session_file(path)
    assert window.solver_panel.variants() == ["fima"]
    assert window.solver_panel.limit() == len(rows)
    assert panel.parameters() == window.setup.parameters  # the initial ones
    run_to_limit(qtbot, window, len(rows))
    assert _same_rows(window.runner.run.worker.rows("fima"), rows)


def test_a_session_whose_image_changed_or_moved_is_refused(loaded, image_file, tmp_path, dialogs):
    window = loaded
    path = tmp_path / "s.toml"
    assert window.files.save_session_file(path)
    setup, spec = window.setup, window.spec
    iio.imwrite(image_file, np.zeros((64, 64), dtype=np.uint8))
    assert not window.files.load_session_file(path)
    assert "has changed since it was saved" in window.last_error
    assert window.setup is setup and window.spec is spec
    assert fima(["run", "--session", str(path), "--out", str(tmp_path / "o")]) == 2
    image_file.rename(tmp_path / "elsewhere.png")
    assert not window.files.load_session_file(path)
    assert "has moved or is gone" in window.last_error
    assert len(dialogs) == 2 and window.setup is setup


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("format_version = 99\n[task]\ntask = 'deblur'\n", "newer FIMA Explorer"),
        ("format_version = 1\n[task\n", "not valid TOML"),
        ("format_version = 1\n[task]\ntask = 'deblur'\n[parameters]\nC = nan\n", "finite"),
        ("format_version = 1\n[task]\ntask = 'deblur'\n[parameters]\nmu = -1.0\n", "positive"),
        ("format_version = 1\n[task]\ntask = 'deblur'\n[parameters]\ngamma = 1e300\n", "absurd"),
        ("format_version = 1\n[task]\ntask = 'deblur'\n[[changes]]\nk = 3\nC = 0.0\n", "positive"),
    ],
)
def test_bad_sessions_are_refused(loaded, tmp_path, dialogs, text, expected):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    setup, parameters = loaded.setup, loaded.parameter_panel.parameters()
    assert not loaded.files.load_session_file(path)
    assert expected in loaded.last_error and "\n" not in loaded.last_error
    assert dialogs == [loaded.last_error]
    assert loaded.setup is setup and loaded.parameter_panel.parameters() == parameters


def test_the_proposal_policy_is_run_saved_and_reloaded(qtbot, loaded, tmp_path):
    window, panel = loaded, loaded.solver_panel
    assert panel.proposal_policy() == "adaptive"  # the default
    panel.set_variants(["fima"])
    panel.set_proposal_policy("always")
    panel.set_limit(10_000)
    for rows in (1, 2, 3):
        _step(qtbot, window, rows)
    assert window.runner.run.propose == "always"
    path = tmp_path / "always.toml"
    assert window.files.save_session_file(path)
    assert load_session(path).propose == "always"
    panel.set_proposal_policy("adaptive:patience=3,max_gap=8")  # a policy with its own settings
    assert panel.proposal_policy() == "adaptive:patience=3,max_gap=8"
    window.runner.reset_run()
    assert window.files.load_session_file(path)
    assert panel.proposal_policy() == "always"
    out = tmp_path / "replay"
    assert fima(["run", "--session", str(path), "--out", str(out)]) == 0
    assert not any(r["skipped"] for r in read_trace_csv(out / "trace.csv"))
