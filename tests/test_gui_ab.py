"""Two settings side by side in the explorer (issue 31): A/B runs typed beside the variants run in
lockstep with their own parameters, colour, certificate entry, picker entry and trace rows; a live
change goes to the run picked (or to every run); the session replays it exactly; bad input is one
dialog that leaves the window usable."""

from __future__ import annotations

import math

import numpy as np
import pytest

from core.cli import main
from core.session import load_session
from core.trace import read_trace_csv
from gui.views.style import variant_color

from .conftest import GUI_TIMEOUT_MS, run_to_limit

AB = "fima · C=0.3"


def type_ab(window, text: str) -> None:
    """Type ``text`` into the A/B field and finish editing (Return)."""
    window.solver_panel.ab_edit.setText(text)
    window.solver_panel.ab_edit.editingFinished.emit()


def column(window, label: str, name: str) -> np.ndarray:
    """One column of one run's rows in the window's history."""
    return np.array([row[name] for row in window.runner.history.rows(label)], dtype=float)


def monotone(values: np.ndarray) -> bool:
    """Ψ never rose by more than float round-off."""
    return bool(np.all(np.diff(values) <= 1e-6 * np.abs(values[:-1])))


def test_an_ab_run_runs_beside_the_variants_with_its_own_parameters(qtbot, loaded):
    type_ab(loaded, "fima:C=0.3")
    assert loaded.solver_panel.variants() == ["fima", "pg", AB]
    run_to_limit(qtbot, loaded, 6)
    history = loaded.runner.history
    assert history.variants == ["fima", "pg", AB]
    assert all(history.count(label) == 6 for label in history.variants)  # lockstep
    assert set(column(loaded, AB, "C")) == {0.3} and 0.3 not in set(column(loaded, "fima", "C"))
    assert {row["label"] for row in history.rows(AB)} == {AB}
    assert {row["variant"] for row in history.rows(AB)} == {"fima"}
    for label in ("fima", AB):  # the guarantee holds for both settings
        assert monotone(column(loaded, label, "objective"))
    # its own colour, its own curve, certificate entry and Show entry
    colours = {variant_color(label) for label in history.variants}
    assert len(colours) == 3
    assert "FIMA · C=0.3" in loaded.plots.legend_text(AB)
    assert AB in loaded.certificate_panel.certificates
    assert loaded.certificate_panel.certificates[AB].variant == "fima"
    assert "FIMA · C=0.3" in loaded.certificate_panel.text()
    combo = loaded.images.variant_combo
    assert [combo.itemData(i) for i in range(combo.count())] == ["fima", "pg", AB]
    shown = loaded.status.acceptance.text()  # each fima run's acceptance rate
    assert shown.startswith("accepted: FIMA ") and "FIMA · C=0.3 " in shown
    # the picker of where edits go offers every run
    target = loaded.solver_panel.target_combo
    assert target.isEnabled()
    assert [target.itemData(i) for i in range(target.count())] == [None, "fima", "pg", AB]


def test_a_live_change_reaches_only_the_run_picked_and_the_session_replays_it(
    qtbot, loaded, tmp_path
):
    type_ab(loaded, "fima:C=0.3")
    run_to_limit(qtbot, loaded, 3)
    loaded.solver_panel.set_live_target(AB)
    assert loaded.state.live_target == AB
    assert loaded.parameter_panel.parameters().C == pytest.approx(0.3)  # the picked run's values
    loaded.state.edit(C=0.2)
    loaded.solver_panel.set_live_target(None)
    loaded.state.edit(mu=1.5)  # to every run
    loaded.solver_panel.set_limit(6)
    loaded.runner.toggle_run()
    qtbot.waitUntil(lambda: loaded.runner.run_state() == "limit", timeout=GUI_TIMEOUT_MS)
    loaded.runner.refresh_now()
    assert column(loaded, AB, "C").tolist() == [0.3] * 3 + [0.2] * 3
    fima_c = column(loaded, "fima", "C")
    assert len(set(fima_c)) == 1 and fima_c[0] != 0.2  # fima kept its C
    for label in ("fima", "pg", AB):  # the change to every run came at the same k in each
        assert column(loaded, label, "mu")[3:].tolist() == [1.5] * 3
        assert column(loaded, label, "mu")[2] != 1.5

    session_path = tmp_path / "ab.toml"
    assert loaded.files.save_session_file(session_path)
    session = load_session(session_path)
    assert [spec.label for spec in session.run_specs()] == ["fima", "pg", AB]
    assert session.changes == {3: {"mu": 1.5}} and session.run_changes == {AB: {3: {"C": 0.2}}}
    out = tmp_path / "replayed"
    assert main(["run", "--session", str(session_path), "--quiet", "--out", str(out)]) == 0
    replayed = read_trace_csv(out / "trace.csv")
    for label in ("fima", "pg", AB):
        mine = column(loaded, label, "objective")
        theirs = [r["objective"] for r in replayed if r["label"] == label]
        np.testing.assert_allclose(theirs, mine, rtol=1e-6)


def test_a_session_with_ab_runs_opens_with_them(qtbot, loaded, tmp_path):
    type_ab(loaded, "fima:C=0.3, fima:mu=2")
    path = tmp_path / "next.toml"
    assert loaded.files.save_session_file(path)  # no run yet: what the next run would be
    type_ab(loaded, "")
    assert loaded.solver_panel.variants() == ["fima", "pg"]
    assert loaded.files.load_session_file(path)
    assert loaded.solver_panel.variants() == ["fima", "pg", AB, "fima · mu=2"]
    assert loaded.solver_panel.ab_edit.text() == "fima:C=0.3, fima:mu=2"


def test_bad_ab_text_is_one_message_and_the_window_goes_on(qtbot, loaded, dialogs):
    for text in ("fima:C=oops", "nope:C=0.3", "fima:C=-1", "fima:C=0.3, fima:C=0.3"):
        type_ab(loaded, text)
    assert len(dialogs) == 4 and all("\n" not in message for message in dialogs)
    assert "oops" in dialogs[0] and "nope" in dialogs[1] and "same label" in dialogs[3]
    assert loaded.solver_panel.variants() == ["fima", "pg"]  # nothing was taken
    run_to_limit(qtbot, loaded, 2)
    assert loaded.runner.history.variants == ["fima", "pg"]
    assert math.isfinite(loaded.runner.history.last("fima")["objective"])
