"""The explorer window's problem side: opening images (path, drop, recent), refusing bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication

from gui.state.problem_spec import ProblemSpec


def _mime(path: Path) -> QMimeData:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    return mime


def test_open_image_by_path(loaded, image_file):
    window = loaded
    assert window.setup is not None
    assert window.spec.image == str(image_file)
    assert window.images.image("observation").shape == (64, 64)
    assert window.images.image("x").dtype == np.float32
    assert window.images.image("x").flags["C_CONTIGUOUS"]
    assert window.images.image("truth") is not None
    assert "shapes.png" in window.windowTitle()
    assert str(image_file.resolve()) in window.dialogs.recent.paths()
    assert window.parameter_panel.conditions() == {"2C<mu": True, "gamma<1/L": True}


def test_drop_image_on_window(loaded, tmp_path):
    import imageio.v3 as iio

    other = tmp_path / "dropped.png"
    iio.imwrite(other, np.full((48, 40), 128, dtype=np.uint8))
    window = loaded
    mime = _mime(other)
    enter = QDragEnterEvent(
        QPointF(10, 10).toPoint(),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, enter)
    assert enter.isAccepted()
    drop = QDropEvent(
        QPointF(10, 10),
        Qt.DropAction.CopyAction,
        mime,
        Qt.MouseButton.LeftButton,
        Qt.KeyboardModifier.NoModifier,
    )
    QApplication.sendEvent(window, drop)
    assert window.spec.image == str(other)
    assert window.images.image("observation").shape == (48, 40)
    assert window.last_error is None


def test_unreadable_image_keeps_previous_problem(loaded, tmp_path, dialogs):
    window = loaded
    before_setup, before_spec = window.setup, window.spec
    bad = tmp_path / "broken.png"
    bad.write_text("this is not a picture")
    assert not window.open_image(bad)
    assert window.last_error and "broken.png" in window.last_error
    assert "\n" not in window.last_error
    assert dialogs == [window.last_error]
    assert window.setup is before_setup and window.spec is before_spec
    assert window.problem_panel.source_label.text() == "shapes.png"
    # still usable
    assert window.use_sample() is True or window.last_error


def test_bad_kernel_and_bad_module_are_refused(loaded, tmp_path, dialogs):
    window = loaded
    setup = window.setup
    assert not window.set_option("kernel", "levin:99")
    assert "levin" in window.last_error
    assert window.problem_panel.kernel_combo.currentText() == "levin:4"
    garbage = tmp_path / "net.pt"
    garbage.write_bytes(b"not torchscript")
    assert not window.set_module(str(garbage))
    assert "net.pt" in window.last_error
    assert window.setup is setup
    assert window.solver_panel.module() == "tv"
    assert len(dialogs) == 2


def test_build_exception_is_reported(loaded, monkeypatch):
    import gui.state.problem_spec

    def explode(*args, **kwargs):
        raise RuntimeError("engine exploded\nsecond line")

    setup = loaded.setup
    monkeypatch.setattr(gui.state.problem_spec, "build_task", explode)
    assert not loaded.set_option("noise", 0.02)
    assert loaded.last_error == "Could not set up the problem: RuntimeError: engine exploded"
    assert loaded.setup is setup
    assert loaded.problem_panel.noise_spin.value() == setup.settings["noise"]


def test_task_switch_shows_the_tasks_options(loaded):
    window = loaded
    assert window.set_task("denoise")
    assert window.setup.settings["task"] == "denoise"
    assert window.setup.settings["module"] == "tv"  # carried over
    assert not window.problem_panel.kernel_combo.isVisibleTo(window.problem_panel)
    assert window.problem_panel.noise_spin.value() > 0.05  # denoising's own default
    assert window.set_task("deblur")
    assert window.problem_panel.kernel_combo.isVisibleTo(window.problem_panel)


def test_degradation_edits_rebuild_the_observation(loaded):
    window = loaded
    before = window.images.image("observation").copy()
    window.problem_panel.seed_spin.setValue(7)
    assert window.setup.settings["seed"] == 7
    assert not np.array_equal(before, window.images.image("observation"))
    window.problem_panel.kernel_combo.setEditText("gauss:2")
    window.problem_panel.kernel_combo.lineEdit().editingFinished.emit()
    assert window.setup.settings["kernel"] == "gauss:2"


def test_conditions_readout_turns_red(loaded):
    panel = loaded.parameter_panel
    assert not panel.mu_condition.property("violated")
    panel.spin("C").setValue(0.8 * panel.parameters().mu)  # 2C ≥ μ
    assert panel.mu_condition.property("violated")
    assert "c62828" in panel.mu_condition.styleSheet()
    panel.spin("gamma").setValue(1.5 / panel.lipschitz())  # γ L ≥ 1
    assert panel.gamma_condition.property("violated")
    panel.spin("C").setValue(0.4 * panel.parameters().mu)
    assert not panel.mu_condition.property("violated")


def test_learned_objective_readout_follows_lambda_and_says_estimated(loaded):
    """Deblur's Ψ holds λ g_σ: L = λ L_g moves with λ, the readout and certificate say 'estimated'."""
    panel = loaded.parameter_panel
    assert loaded.setup.problem.learned
    L = panel.lipschitz()
    assert L == pytest.approx(loaded.setup.problem.lipschitz, rel=1e-6)
    assert "L_g estimated" in panel.gamma_condition.text()
    assert not panel.gamma_condition.property("violated")
    gamma, lam = panel.parameters().gamma, panel.parameters().lam
    panel.spin("lam").setValue(lam * 1.5 / (gamma * L))  # now γ λ' L_g ≥ 1
    assert panel.lipschitz() == pytest.approx(1.5 / gamma, rel=1e-3)
    assert panel.gamma_condition.property("violated")
    assert "learned term" in loaded.certificate_panel.text()
    assert "ESTIMATED" in loaded.certificate_panel.text()


def test_proximal_learned_prior_readout_says_lambda_follows_gamma(window, image_file, qtbot):
    """Denoise's Ψ holds Prox-PnP's λφ_σ: L = L_f, λ = 1/γ, the estimated L_g and a run to D_σ(y)."""
    assert window.load_problem(ProblemSpec("denoise", str(image_file), {"module": "tv"}))
    panel, problem = window.parameter_panel, window.setup.problem
    assert window.setup.settings["prior"]["name"] == "gs-prox"
    assert window.solver_panel.prior_combo.currentData() == "gs-prox"
    assert panel.lipschitz() == pytest.approx(problem.fidelity.lipschitz)
    text = panel.gamma_condition.text()
    assert "L = L_f" in text and "λ = 1/γ" in text and "L_g ≈" in text and "estimated" in text
    assert not panel.gamma_condition.property("violated")
    assert not panel.sliders["lam"].isEnabled()  # λ = 1/γ: it follows γ
    panel.spin("gamma").setValue(0.5)
    assert panel.parameters().lam == pytest.approx(2.0) and panel.spin("lam").value() == 2.0
    assert window.state.shown.lam == pytest.approx(2.0)
    panel.spin("gamma").setValue(1.2)  # γ ≥ 1/L_f: outside the guarantee
    assert panel.gamma_condition.property("violated")
    note = window.certificate_panel.text()
    assert "Prox-PnP" in note and "ESTIMATED" in note and "λ = 1/γ" in note


def test_slider_and_spin_box_stay_in_sync(loaded):
    slider = loaded.parameter_panel.sliders["mu"]
    slider.spin.setValue(10.0)
    position = slider.slider.value()
    slider.slider.setValue(position - 100)
    assert slider.spin.value() < 10.0
    assert loaded.parameter_panel.parameters().mu == slider.spin.value()


def test_sample_and_recent_menu(loaded, image_file):
    window = loaded
    assert window.use_sample()
    assert window.spec.image is None
    assert window.problem_panel.source_label.text() == "bundled sample"
    actions = [a for a in window.actions.recent_menu.actions() if a.data()]
    assert actions and actions[0].data() == str(image_file.resolve())
    actions[0].trigger()
    assert window.spec.image == str(image_file.resolve())


def _drawn(item) -> tuple[int, ...]:
    """The picture an image item draws, as its QImage's pixel colours (row-major)."""
    item.render()
    qimage = item.qimage
    return tuple(
        qimage.pixel(col, row) for row in range(qimage.height()) for col in range(qimage.width())
    )


def test_colormap_choice(loaded):
    item = loaded.images.items["x"]
    shown = loaded.images.image("x")
    gray = _drawn(item)  # gray: no lookup table, each value v drawn as 8-bit gray ≈ 255 v
    assert item.lut is None
    levels = np.array([g & 0xFF for g in gray])
    assert np.abs(levels - np.clip(shown, 0, 1).ravel() * 255.0).max() <= 1.0
    assert all((g >> 16) & 0xFF == (g >> 8) & 0xFF == g & 0xFF for g in gray)
    loaded.images.set_colormap("viridis")
    assert loaded.images.colormap_combo.currentText() == "viridis"
    assert item.lut is not None
    colours = _drawn(item)
    assert any((c >> 16) & 0xFF != c & 0xFF for c in colours)  # not gray any more
    loaded.images.set_colormap("gray")
    assert item.lut is None and _drawn(item) == gray


def test_bad_session_is_refused(loaded, tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("format_version = 1\n[task]\nnope = 1\n")
    setup = loaded.setup
    assert not loaded.files.load_session_file(bad)
    assert "task" in loaded.last_error
    assert loaded.setup is setup


def test_session_round_trip(loaded, tmp_path):
    window = loaded
    window.parameter_panel.spin("C").setValue(0.3)
    window.solver_panel.set_limit(7)
    path = tmp_path / "s.toml"
    assert window.files.save_session_file(path)
    window.parameter_panel.spin("C").setValue(0.1)
    assert window.files.load_session_file(path)
    assert window.parameter_panel.parameters().C == 0.3
    assert window.solver_panel.limit() == 7
    assert window.setup.settings["module"] == "tv"


def test_problem_spec_filters_options():
    spec = ProblemSpec("denoise", None, {"kernel": "levin:1", "noise": 0.05, "module": "tv"})
    assert spec.build_options() == {"noise": 0.05, "module": "tv"}
    assert spec.with_task("deblur").options == {"kernel": "levin:1", "module": "tv"}


def test_task_specific_options_get_editors(loaded):
    from PySide6.QtWidgets import QCheckBox

    window = loaded
    form = window.problem_panel.task_options
    grayscale = form.editor("grayscale")  # deblur's own option, from its description
    assert isinstance(grayscale, QCheckBox) and not grayscale.isChecked()  # colour stays colour
    assert "colour" in grayscale.toolTip() and "default no" in grayscale.toolTip()
    grayscale.setChecked(True)
    assert window.spec.options["grayscale"] is True
    assert window.setup is not None and window.last_error is None


def test_every_task_either_loads_or_is_refused_cleanly(loaded):
    from core import task_names

    window = loaded
    for task in task_names():
        before = window.setup
        if window.set_task(task):
            assert window.setup.settings["task"] == task
            assert window.images.image("observation") is not None
        else:
            assert window.last_error and "\n" not in window.last_error
            assert window.setup is before
        window.last_error = None


def test_text_options_are_parsed_like_their_defaults():
    import pytest

    from gui.views.task_options import parse_like

    assert parse_like(" 0.25 ", 0.1) == 0.25
    assert parse_like("7", 3) == 7
    assert parse_like("yes", False) is True
    assert parse_like("rician", "gaussian") == "rician"
    with pytest.raises(ValueError):
        parse_like("abc", 0.1)
