"""Bad input never breaks the window: unreadable images and kernels give one error dialog and keep
the previous problem; bad typed parameters are refused with a message, while values that only
leave the guarantee are accepted and flagged."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import Qt

from tests.conftest import run_to_limit


def _bad_files(folder, good_png) -> dict[str, tuple[str, object]]:
    """name → (how to open it, what the message must say)."""
    empty = folder / "empty.png"
    empty.write_bytes(b"")
    truncated = folder / "truncated.png"
    truncated.write_bytes(good_png.read_bytes()[:120])
    text = folder / "notes.png"
    text.write_text("this is a text file, not a picture")
    nan = folder / "nan.npy"
    np.save(nan, np.full((16, 16), np.nan, dtype=np.float32))
    kernel = folder / "kernel.npy"
    np.save(kernel, np.array([[0.5, -0.2, 0.5], [0.1, 0.2, 0.1], [0.0, 0.3, 0.0]]))
    return {
        "empty": (str(empty), "empty"),
        "truncated": (str(truncated), "truncated.png"),
        "text": (str(text), "notes.png"),
        "nan": (str(nan), "NaN"),
        "kernel": (str(kernel), "negative entries"),
    }


def test_bad_inputs_keep_the_previous_state(qtbot, loaded, image_file, tmp_path, dialogs):
    window = loaded
    setup, spec = window.setup, window.spec
    observation = window.images.image("observation").copy()
    for name, (path, expected) in _bad_files(tmp_path, image_file).items():
        opened = (
            window.set_option("kernel", path) if name == "kernel" else window.files.open_file(path)
        )
        assert not opened, name
        assert expected in window.last_error and "\n" not in window.last_error, name
        assert dialogs[-1] == window.last_error
        assert window.setup is setup and window.spec is spec, name
    assert len(dialogs) == 5
    np.testing.assert_array_equal(window.images.image("observation"), observation)
    assert window.problem_panel.kernel_combo.currentText() == "levin:4"
    run_to_limit(qtbot, window, 2)  # still usable
    assert window.runner.history.count("fima") == 2


def test_a_bad_file_during_a_run_leaves_the_run_going(qtbot, loaded, tmp_path):
    window = loaded
    window.solver_panel.set_limit(10_000)
    window.runner.start_run()
    bad = tmp_path / "bad.png"
    bad.write_text("nope")
    run = window.runner.run
    assert not window.open_image(bad)
    assert window.runner.run is run and run.is_running()
    seen = run.worker.row_count("fima")
    qtbot.waitUntil(lambda: run.worker.row_count("fima") > seen, timeout=30_000)


def _type(qtbot, spin, text: str) -> None:
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, text)
    qtbot.keyClick(spin, Qt.Key.Key_Return)


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("C", "nan", "not a finite number"),
        ("mu", "inf", "not a finite number"),
        ("mu", "0", "must be positive"),
        ("gamma", "-1", "must be positive"),
        ("C", "1e9", "absurdly large"),
        ("lam", "-0.1", "≥ 0"),
        ("sigma_start", "2", "[0, 1] intensity scale"),
        ("sigma_steps", "2.5", "not a whole number"),
    ],
)
def test_typed_bad_parameters_are_refused(qtbot, loaded, dialogs, name, text, expected):
    panel = loaded.parameter_panel
    before = panel.parameters()
    spin = panel.spin(name)
    _type(qtbot, spin, text)
    qtbot.waitUntil(lambda: len(dialogs) == 1, timeout=5000)
    assert expected in dialogs[0] and "refused" in dialogs[0]
    assert panel.parameters() == before
    assert spin.value() == pytest.approx(getattr(before, name), rel=1e-12)


def test_values_outside_the_guarantee_are_accepted_and_flagged(qtbot, loaded, dialogs):
    panel = loaded.parameter_panel
    _type(qtbot, panel.spin("C"), "50")  # beyond the slider's end, and 2C ≥ μ
    assert panel.parameters().C == 50.0
    assert panel.sliders["C"].slider.value() == panel.sliders["C"].slider.maximum()
    assert panel.mu_condition.property("violated")
    typed = f"{1.000001 / panel.lipschitz():.7g}"  # γ ≥ 1/L
    _type(qtbot, panel.spin("gamma"), typed)
    assert panel.gamma_condition.property("violated")
    assert panel.parameters().gamma == float(typed)  # exactly as typed
    assert panel.preset() == "custom"
    qtbot.wait(10)
    assert dialogs == []


def test_enter_in_an_untouched_box_changes_nothing(qtbot, loaded):
    panel = loaded.parameter_panel
    edits = []
    panel.changed.connect(edits.append)
    before = panel.parameters()
    for name in ("sigma_start", "C", "sigma_steps"):
        spin = panel.spin(name)
        qtbot.keyClick(spin, Qt.Key.Key_Return)
        assert float(spin.lineEdit().text()) == pytest.approx(spin.value(), rel=1e-3)
        assert panel.parameters() == before  # the shown digits never round the value used
    assert edits == []
    _type(qtbot, panel.spin("sigma_start"), "0.1")
    assert edits == [{"sigma_start": 0.1}]


def test_sigma_boxes_show_the_0_255_scale(loaded):
    """σ is edited on [0, 1] but read beside it on the 0–255 scale users know (49/255 …)."""
    panel = loaded.parameter_panel
    start = loaded.setup.parameters.sigma_start
    assert panel.sigma_readouts["sigma_start"].text() == f"= {start * 255:.0f}/255"
    panel.spin("sigma_end").setValue(12.5 / 255)
    assert panel.sigma_readouts["sigma_end"].text() == "= 12.5/255"
    assert loaded.parameter_panel.parameters().sigma_end == pytest.approx(12.5 / 255)
