"""The live plots' reported defects: overlapping change labels, log axes without tick labels, plots
ending at different k, ranges kept after Reset, and pg drawn in the acceptance plot."""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
import pytest
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication

from gui.state.run_history import RunHistory
from gui.views.plots import PlotPanel
from tests.conftest import GUI_TIMEOUT_MS, run_to_limit

LINES = ("objective", "step", "residual", "acceptance", "psnr", "ssim")


def _rows(start: int, stop: int, scale: float = 1.0, psi=None, accepted: float = 1.0) -> list[dict]:
    """Trace rows k = start … stop − 1 with every plotted column."""
    psi = psi or (lambda k: scale * (1.0 + 1.0 / (k + 1)))
    return [
        {
            "k": k,
            "objective": psi(k),
            "step": scale * 0.1 / (k + 1),
            "residual": scale / (k + 1),
            "tolerance": 2 * scale / (k + 1),
            "accepted": accepted if k % 4 else 0.0,
            "psnr": 20.0 + scale * k / 10,
            "ssim": 0.5 + k / 1000,
        }
        for k in range(start, stop)
    ]


@pytest.fixture
def panel(qtbot):
    """A shown PlotPanel of a realistic size with fima and pg."""
    widget = PlotPanel()
    qtbot.addWidget(widget)
    widget.resize(1200, 600)
    widget.show()
    qtbot.waitExposed(widget)
    widget.set_variants(["fima", "pg"])
    return widget


def _settle() -> None:
    for _ in range(3):
        QApplication.processEvents()


def _draw(panel: PlotPanel, history: RunHistory) -> None:
    panel.update_curves(history)
    panel.flush()
    _settle()


def _history(stop: int, **kwargs) -> RunHistory:
    history = RunHistory()
    history.extend("fima", _rows(0, stop, **kwargs))
    history.extend("pg", _rows(0, stop, accepted=0.0, **kwargs))
    return history


def _labels(panel: PlotPanel) -> list[pg.TextItem]:
    """Every visible text item in the Ψ plot's view (marker labels, whatever draws them)."""
    view = panel.plots["objective"].getViewBox()
    return [
        item
        for item in view.allChildren()
        if isinstance(item, pg.TextItem) and item.isVisible() and item.toPlainText().strip()
    ]


def _last_x(item: pg.PlotDataItem) -> float | None:
    x, _y = item.getData()
    return None if x is None or len(x) == 0 else float(x[-1])


def _drawn_tick_labels(axis: pg.AxisItem) -> list[str]:
    """The labels the axis actually paints (pyqtgraph's own draw specs)."""
    image = QImage(8, 8, QImage.Format.Format_ARGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    return list(dict.fromkeys(text for _r, _f, text in (specs[2] if specs else []) if text))


def _tick_strings(axis: pg.AxisItem) -> list[str]:
    """Labels from tickValues / tickStrings for the axis's current range."""
    low, high = sorted(axis.range)
    size = axis.geometry().height()
    out: list[str] = []
    for spacing, values in axis.tickValues(low, high, size):
        inside = [v for v in values if low <= v <= high]
        if inside:
            out += [s for s in axis.tickStrings(inside, axis.scale, spacing) if s]
    return list(dict.fromkeys(out))


# ---- 1: change labels never overlap -----------------------------------------------------------
def _assert_disjoint(items: list[pg.TextItem]) -> None:
    rects = [item.sceneBoundingRect() for item in items]
    for i, a in enumerate(rects):
        for j in range(i + 1, len(rects)):
            assert not a.intersects(rects[j]), (items[i].toPlainText(), items[j].toPlainText())


def test_labels_of_nearby_changes_do_not_overlap(panel):
    _draw(panel, _history(60))
    panel.set_markers({10: {"C": 0.25}, 11: {"mu": 0.8}, 12: {"gamma": 0.5, "C": 0.3}})
    _settle()
    labels = _labels(panel)
    text = " ".join(item.toPlainText() for item in labels)
    for part in ("C=0.25", "μ=0.8", "γ=0.5 C=0.3"):
        assert part in text
    _assert_disjoint(labels)
    assert panel.marker_positions() == [10, 11, 12]


def test_many_changes_in_a_small_plot_keep_every_label_readable(panel):
    panel.resize(700, 300)
    _draw(panel, _history(60))
    changes = {k: {"C": round(0.1 + k / 100, 2)} for k in range(5, 50, 2)}
    panel.set_markers(changes)
    _settle()
    labels = _labels(panel)
    _assert_disjoint(labels)
    text = " ".join(item.toPlainText() for item in labels)
    for change in changes.values():
        assert f"C={change['C']:g}" in text
    # zooming in restacks them, still without overlap
    panel.plots["objective"].getViewBox().setXRange(8, 20, padding=0)
    _settle()
    _assert_disjoint(_labels(panel))


# ---- 2: at least two y tick labels whatever the range ----------------------------------------
@pytest.mark.parametrize(
    "psi",
    [
        lambda k: 3.20 + 0.05 / (k + 1),  # denoise: far less than a decade
        lambda k: 1234.0 + 2.5 / (k + 1),
        lambda k: 2.1e-5 + 0.2e-5 / (k + 1),
        lambda k: 0.5 + 0.4 / (k + 1),
        lambda k: 3.2,  # flat
        lambda k: 10.0 ** (3 - k / 5),  # many decades
    ],
)
def test_every_plot_shows_two_y_tick_labels(panel, psi):
    _draw(panel, _history(60, psi=psi))
    for key in ("objective", *LINES[1:]):
        axis = panel.plots[key].getAxis("left")
        assert len(_tick_strings(axis)) >= 2, (key, axis.range)
        assert len(_drawn_tick_labels(axis)) >= 2, (key, axis.range)


def test_narrow_objective_labels_are_distinct_values(panel):
    _draw(panel, _history(60, psi=lambda k: 3.20 + 0.05 / (k + 1)))
    axis = panel.plots["objective"].getAxis("left")
    labels = _drawn_tick_labels(axis)
    values = [float(label) for label in labels]
    assert len(set(values)) == len(values) >= 2
    assert all(3.19 <= v <= 3.26 for v in values)
    assert panel.y_tick_labels("objective") == labels


# ---- 3: every plot ends at the same k ---------------------------------------------------------
def _curve_ends(panel: PlotPanel) -> dict[str, set]:
    ends: dict[str, set] = {}
    for variant, curves in panel._curves.items():
        ends[variant] = {_last_x(curves.lines[key]) for key in LINES if key in curves.lines}
    return ends


def test_all_plots_end_at_the_same_k_at_any_moment(panel):
    history = RunHistory()
    drawn = []
    for stop in range(4, 64, 4):
        history.extend("fima", _rows(stop - 4, stop))
        history.extend("pg", _rows(stop - 4, stop, accepted=0.0))
        panel.update_curves(history)
        for _ in range(2):
            panel.draw_one()
            for variant, ends in _curve_ends(panel).items():
                assert len(ends) == 1, (variant, ends)  # all empty, or all at one k
            drawn.append(_curve_ends(panel)["fima"].pop())
    while panel.pending():
        panel.draw_one()
    assert _curve_ends(panel) == {"fima": {59.0}, "pg": {59.0}}
    assert drawn[0] == 3.0  # the first data are shown at once
    # the plots' CPU stays that of one plot a refresh: they are not redrawn on every call
    assert len(set(drawn)) <= len(drawn) // 6 + 2


# ---- 4: Reset brings auto-range back ----------------------------------------------------------
def _assert_frames(panel: PlotPanel, stop: int, scale: float) -> None:
    for key, plot in panel.plots.items():
        (x0, x1), (y0, y1) = plot.getViewBox().viewRange()
        assert -2 <= x0 and x1 <= stop + 2, (key, x0, x1)
    (_, _), (y0, y1) = panel.plots["objective"].getViewBox().viewRange()
    psi = [scale * (1 + 1 / (k + 1)) for k in range(stop)]
    assert y0 <= math.log10(min(psi)) and math.log10(max(psi)) <= y1
    assert y1 - y0 < 2 * (math.log10(max(psi)) - math.log10(min(psi)))  # fits, not kept wide
    (_, _), (a0, a1) = panel.plots["acceptance"].getViewBox().viewRange()
    assert a0 == pytest.approx(-0.05) and a1 == pytest.approx(1.05)


def test_clear_puts_every_plot_back_on_auto_range(panel):
    _draw(panel, _history(200, scale=1000.0))
    for plot in panel.plots.values():  # the user zooms and pans (as the mouse wheel does)
        plot.getViewBox().scaleBy((0.3, 0.3))
        plot.getViewBox().translateBy((40, 0))
    panel.clear()
    _draw(panel, _history(10))
    _assert_frames(panel, 10, 1.0)


# ---- 5: pg has no acceptance rate -------------------------------------------------------------
def _has_curve(plot: pg.PlotItem, name: str) -> bool:
    return any(item.name() == name and _last_x(item) is not None for item in plot.listDataItems())


def test_pg_is_left_out_of_the_acceptance_plot(panel):
    _draw(panel, _history(30))
    assert not _has_curve(panel.plots["acceptance"], "PG")
    assert _has_curve(panel.plots["acceptance"], "FIMA")
    for key in ("objective", "step", "residual", "psnr", "ssim"):
        assert _has_curve(panel.plots[key], "PG"), key


# ---- the same through the real window ---------------------------------------------------------
def test_window_run_reset_and_rerun(qtbot, loaded):
    window = loaded
    plots = window.plots
    run_to_limit(qtbot, window, 30)
    qtbot.waitUntil(lambda: not plots.pending(), timeout=GUI_TIMEOUT_MS)
    assert _curve_ends(plots)["fima"] == {29.0}
    assert not _has_curve(plots.plots["acceptance"], "PG")
    assert _has_curve(plots.plots["objective"], "PG")
    for key, plot in plots.plots.items():
        assert len(_drawn_tick_labels(plot.getAxis("left"))) >= 2, key
    plots.plots["objective"].getViewBox().scaleBy((0.5, 0.5))
    window.actions.reset.trigger()
    run_to_limit(qtbot, window, 3)
    qtbot.waitUntil(lambda: not plots.pending(), timeout=GUI_TIMEOUT_MS)
    _settle()
    assert {v: e for v, e in _curve_ends(plots).items()} == {"fima": {2.0}, "pg": {2.0}}
    (x0, x1), _ = plots.plots["objective"].getViewBox().viewRange()
    assert -1 <= x0 and x1 <= 4
    assert np.isfinite([x0, x1]).all()


def test_the_iteration_axis_never_shows_an_si_scale(qtbot):
    """At k = 1 the x range is a single point: pyqtgraph's SI prefix printed "(x0.001)" there."""
    panel = PlotPanel()
    qtbot.addWidget(panel)
    panel.resize(900, 500)
    panel.show()
    plot = next(iter(panel.graphics.ci.items))
    plot.plot([0.0, 1e-4], [1.0, 2.0])
    for item in panel.graphics.ci.items:
        axis = item.getAxis("bottom")
        axis.setRange(0.0, 1e-4)
        assert "(x" not in axis.labelString() and axis.autoSIPrefixScale == 1.0
