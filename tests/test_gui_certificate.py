"""The convergence certificate panel, the parameter presets, and Help → About the guarantee."""

from __future__ import annotations

from core.certificate import PAPER
from tests.conftest import run_to_limit


def test_certificate_of_a_run_inside_the_guarantee(qtbot, loaded):
    window = loaded
    run_to_limit(qtbot, window, 5)
    window.runner.update_certificate()
    certificates = window.certificate_panel.certificates
    assert set(certificates) == {"fima", "pg"}
    assert certificates["fima"].guaranteed and certificates["fima"].iterations == 5
    text = window.certificate_panel.text()
    assert "the guarantee applies" in text
    assert "held at all 5 iterations" in text and "never increased" in text
    assert "passed the check" in text and "Optimality error ‖d‖" in text
    assert "What does the theorem say?" in text


def test_paper_preset_leaves_the_guarantee_visibly(qtbot, loaded):
    window = loaded
    panel = window.parameter_panel
    assert panel.preset() == "guaranteed"
    run_to_limit(qtbot, window, 2)
    index = panel.preset_combo.findData("paper")
    panel.preset_combo.setCurrentIndex(index)
    panel.preset_combo.activated.emit(index)  # as a user's pick
    parameters = panel.parameters()
    assert (parameters.C, parameters.mu) == (0.08, 1e-3)
    assert panel.preset() == "paper" and panel.mu_condition.property("violated")
    window.solver_panel.set_limit(4)
    window.runner.toggle_run()  # the preset applies live, from the next iteration
    qtbot.waitUntil(lambda: window.runner.run_state() == "limit", timeout=30_000)
    window.runner.refresh_now()
    rows = window.runner.history.rows("fima")
    assert [r["conditions_hold"] for r in rows] == [True, True, False, False]
    assert (rows[2]["C"], rows[2]["mu"]) == (0.08, 1e-3)
    window.runner.update_certificate()
    assert not window.certificate_panel.certificates["fima"].guaranteed
    text = window.certificate_panel.text()
    assert "outside the guarantee" in text and "failed from iteration 2" in text
    assert panel.apply_preset("guaranteed")
    assert panel.parameters() == window.setup.parameters
    assert not panel.mu_condition.property("violated")


def test_help_explains_the_guarantee_and_the_shortcuts(loaded):
    window = loaded
    window.actions.about_guarantee.trigger()
    about = window.show_about_guarantee()
    assert about.isVisible() and not about.isModal()
    text = about.text()
    assert PAPER in text and "2C" in text and "1/L" in text and "critical point" in text
    shortcuts = window.show_shortcuts().text()
    for key in ("Space", "Ctrl+E", "←", "→", "F1"):
        assert key in shortcuts
    about.close()
    window.certificate_panel.aboutRequested.emit()  # the panel's link
    assert about.isVisible()
