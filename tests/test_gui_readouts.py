"""Readouts a user reads: short numbers in the parameter boxes (exact values kept), a pixel readout
that fits beside the certificate and forgets an old problem, certificate sentences in words and in
the plots' notation (pg's speak only of γ < 1/L), and titles named by what the module is."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt
from PySide6.QtGui import QTextDocument
from PySide6.QtWidgets import QLabel

from core import Parameters
from core.certificate import certificate
from gui.state.run_history import RunHistory
from gui.views.certificate_panel import CertificatePanel, certificate_html
from gui.views.pixel_readout import MIN_WIDTH
from tests.conftest import run_to_limit
from tests.gui_actions import choose_module, choose_task


def _plain(rich: str) -> str:
    document = QTextDocument()
    document.setHtml(rich)
    return document.toPlainText()


# ---- B6a: significant digits, exact values ----------------------------------------------------
def test_boxes_show_four_significant_digits_but_keep_the_exact_value(qtbot, loaded):
    panel = loaded.parameter_panel
    exact = loaded.setup.parameters.with_changes(sigma_start=49 / 255, lam=0.04805843, gamma=1 / 3)
    panel.set_parameters(exact)
    assert panel.spin("sigma_start").text() == "0.1922"
    assert panel.spin("lam").text() == "0.04806"
    assert panel.spin("gamma").text() == "0.3333"
    edits = []
    panel.changed.connect(edits.append)
    for name in ("sigma_start", "lam", "gamma"):
        qtbot.keyClick(panel.spin(name), Qt.Key.Key_Return)  # Enter in an untouched box
    assert edits == []
    assert panel.parameters() == exact  # not the rounded display
    assert panel.parameters().sigma_start == 49 / 255
    panel.spin("lam").lineEdit().selectAll()
    qtbot.keyClicks(panel.spin("lam"), "0.0480584312")
    qtbot.keyClick(panel.spin("lam"), Qt.Key.Key_Return)
    assert edits == [{"lam": 0.0480584312}]  # typed: taken exactly as typed
    assert panel.parameters().lam == 0.0480584312
    assert panel.spin("lam").text() == "0.04806"


# ---- B6b, c: the pixel readout ----------------------------------------------------------------
@pytest.fixture
def colour_window(qtbot, window, tmp_path):
    """The window shown at its 1700-pixel width with a colour deblurring problem."""
    import imageio.v3 as iio

    from gui.state.problem_spec import ProblemSpec

    rng = np.random.default_rng(3)
    path = tmp_path / "colour.png"
    iio.imwrite(path, (rng.random((64, 64, 3)) * 255).astype(np.uint8))
    assert window.load_problem(ProblemSpec("deblur", str(path), {"module": "tv"}))
    window.show()
    qtbot.waitExposed(window)
    window.resize(1700, 950)
    qtbot.wait(50)
    assert window.images.image("observation").shape == (64, 64, 3)
    return window


def _hover(qtbot, images, row: int, col: int) -> None:
    view = images.views["x"]
    images.graphics.scene().sigMouseMoved.emit(view.mapViewToScene(QPointF(col + 0.5, row + 0.5)))
    qtbot.wait(20)


def test_colour_readout_fits_beside_the_certificate_panel(qtbot, colour_window):
    window, images = colour_window, colour_window.images
    _hover(qtbot, images, 40, 12)
    readout = images.readout
    text = readout.text()
    assert text.startswith("(40, 12)") and "y " in text and "truth " in text
    assert readout.fontMetrics().horizontalAdvance(text) <= readout.contentsRect().width()
    assert len(text.split()) == 2 + 3 * 4  # (row, col), then name + R G B for y, x, truth
    assert not readout.is_elided()
    assert readout.minimumSizeHint().width() <= MIN_WIDTH  # never forces the layout wider
    right = readout.mapTo(window, readout.rect().topRight()).x()
    assert right < window.certificate_dock.x()  # not under the certificate panel


def test_readout_is_cleared_by_a_task_switch(qtbot, colour_window):
    window, images = colour_window, colour_window.images
    _hover(qtbot, images, 10, 20)
    assert images.readout.text().startswith("(10, 20)")
    choose_task(window, "denoise")
    assert window.setup.settings["task"] == "denoise"
    assert images.readout.text().strip() == ""


# ---- B7: the certificate panel ----------------------------------------------------------------
def _rows(n: int, C: float, mu: float, gamma: float, holds: bool, reject_at=()) -> list[dict]:
    return [
        {
            "k": k,
            "objective": 10.0 - k,
            "accepted": k not in reject_at,
            "step": 10.0**-k,
            "residual": 10.0**-k,
            "C": C,
            "mu": mu,
            "gamma": gamma,
            "conditions_hold": holds,
            "reject_reason": "check" if k in reject_at else "",
            "diverged": False,
        }
        for k in range(n)
    ]


def _section(variant: str, rows: list[dict], lipschitz: float | None = None) -> str:
    history = RunHistory()
    history.extend(variant, rows)
    cert = certificate(variant, history.rows(variant))
    if lipschitz is None:
        return certificate_html(cert, history)
    return certificate_html(cert, history, lipschitz)


def test_pg_speaks_only_of_gamma_and_the_descent_of_psi(qtbot, loaded):
    window = loaded
    run_to_limit(qtbot, window, 5)
    window.runner.update_certificate()
    history = window.runner.history
    pg = certificate_html(window.certificate_panel.certificates["pg"], history)
    text = _plain(pg)
    assert "2C" not in text and "μ" not in text and "C‖" not in text
    assert "γ < 1/L held at all 5 iterations" in text and "Ψ" in text
    assert "x<sup>k+1</sup> − x<sup>k</sup>" in pg and "^" not in pg  # the plots' notation
    fima = certificate_html(window.certificate_panel.certificates["fima"], history)
    assert "2C < μ" in _plain(fima) and "x<sup>k+1</sup>" in fima and "^" not in fima


def test_pg_outside_2c_below_mu_still_judges_gamma():
    """The paper preset breaks 2C < μ, which pg does not use: its γ < 1/L is judged with L."""
    rows = _rows(4, C=0.08, mu=1e-3, gamma=0.5, holds=False)
    assert "γ < 1/L held at all 4 iterations" in _plain(_section("pg", rows, lipschitz=1.0))
    assert "γ < 1/L failed from iteration 0" in _plain(_section("pg", rows, lipschitz=3.0))
    assert "not known" in _plain(_section("pg", rows))  # no L given, and the trace cannot tell
    inside = _rows(4, C=0.1, mu=1.0, gamma=0.5, holds=False)  # 2C < μ: the flag is γ's alone
    assert "failed from iteration 0" in _plain(_section("pg", inside))
    panel = CertificatePanel()
    panel.set_lipschitz(1.0)
    history = RunHistory()
    history.extend("pg", rows)
    assert panel.update_from(history, ["pg"], force=True)
    assert "γ < 1/L held at all 4 iterations" in panel.text() and "2C" not in panel.text()


def test_last_rejection_is_said_in_words():
    rows = _rows(25, C=0.1, mu=1.0, gamma=0.5, holds=True, reject_at=(3, 20))
    section = _section("fima", rows)
    text = _plain(section)
    assert "Latest at" not in text and ": check" not in text
    assert "Last rejected at k = 20: the optimality-error check failed (‖d‖ > C‖ũ − xk‖" in text
    assert "so the proximal-gradient step from xk was taken instead" in text
    assert "x<sup>k</sup>" in section
    assert "2 failed the check ‖d‖ ≤ C‖ũ − xk‖" in text


# ---- B8: titles by what the module is, superscripts in combo boxes ----------------------------
def test_lowlight_titles_name_the_closed_form_step_and_show_t_to_the_gamma(qtbot, window):
    from gui.state.problem_spec import ProblemSpec

    assert window.load_problem(ProblemSpec("deblur"))
    choose_task(window, "lowlight")
    images = window.images
    assert window.setup.settings["module"] == "none"
    picture = images.render_combo.itemText(images.render_combo.findData("picture"))
    assert picture == "enhanced (y / tᵞ)" and "^" not in picture
    title = images.labels["proposal"].text
    assert "learned" not in title and "closed-form step u<sup>k</sup>" in title
    assert "learned" not in images.proposal_combo.itemText(0)
    images.proposal_combo.setCurrentIndex(images.proposal_combo.findData("u_tilde"))
    assert "proximal ũ<sup>k</sup>" in images.labels["proposal"].text


def test_proposal_title_follows_the_module(loaded):
    images = loaded.images
    assert "tv step u<sup>k</sup>" in images.labels["proposal"].text
    choose_module(loaded, "wavelet")
    assert loaded.setup.settings["module"] == "wavelet"
    assert "wavelet step u<sup>k</sup>" in images.labels["proposal"].text


def test_parameters_default_round_trip_is_exact(loaded):
    """set_parameters → parameters() gives back the very same floats (no display rounding)."""
    panel = loaded.parameter_panel
    odd = Parameters().with_changes(C=math.pi / 100, mu=math.e / 10, sigma_end=1 / 255)
    panel.set_parameters(odd)
    assert panel.parameters() == odd


def test_the_status_bar_says_what_one_iteration_of_each_variant_costs(qtbot, loaded):
    loaded.solver_panel.set_variants(["fima", "pg"])
    run_to_limit(qtbot, loaded, 4)
    text = loaded.status.costs.text()
    parts = text.split(" · ")  # e.g. "FIMA 85 ms/it · PG 12 ms/it"
    assert len(parts) == 2 and all(p.endswith("/it") for p in parts), text
    assert parts[0].lower().startswith("fima") and parts[1].lower().startswith("pg"), text
    loaded.runner.reset_run()
    assert loaded.status.costs.text() == ""


def test_a_readout_too_long_for_its_width_is_cut_on_screen_and_whole_in_the_tooltip(qtbot):
    from gui.views.pixel_readout import PixelReadout

    readout = PixelReadout()
    qtbot.addWidget(readout)
    readout.setFixedWidth(MIN_WIDTH)
    readout.show()
    long = "(40, 12)  y 0.54 0.44 0.53  x 0.51 0.43 0.52  truth 0.50 0.42 0.51  |d| 0.012 (3.1 %)"
    readout.set_readout(long)
    assert readout.text() == long and readout.is_elided()
    assert long in readout.toolTip()
    shown = QLabel.text(readout)  # what the label paints: cut, ending in the ellipsis
    assert shown.endswith("…") and len(shown) < len(long)
    assert readout.minimumSizeHint().width() <= MIN_WIDTH
