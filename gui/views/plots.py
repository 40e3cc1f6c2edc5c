"""Convergence plots, every variant overlaid in its own colour, with parameter-change markers.

Ψ(x^k) and the relative step on log axes; the residual ‖d‖ against the tolerance C‖ũ − x^k‖ with
accepted (●) and rejected (✕) iterations; the running acceptance rate; PSNR and SSIM when the
problem has a ground truth. Nothing here is ever touched off the GUI thread.

Curves get ``setData`` on whole arrays, every plot at once from one snapshot of the history, so
all plots always end at the same k. Axes and text are the expensive part of a pyqtgraph repaint, so
the plots are redrawn on one window refresh in as many as there are plots (see
:meth:`PlotPanel.draw_one`): the CPU the plots take stays that of one plot a refresh, and the
window's refresh budget paces the rest. pg takes no learned step, so it has no acceptance rate and
no curve in that plot. Reset (:meth:`PlotPanel.clear`) puts every plot back on auto-range.

A variant that diverged (and was stopped) gets a big red ✕ at its last finite Ψ and "diverged at
k = …" in the legend. While the history scrubber shows a past iterate x^j, a cursor line marks row
j − 1 of every plot (the row whose Ψ is Ψ(x^j)).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QVBoxLayout, QWidget

from core.fileio import WriteError, atomic_path

from ..state import ExplorerState
from ..state.run_history import RunHistory
from .plot_axes import IterationAxis, LogAxis, tick_labels
from .plot_markers import MARKED, ChangeMarkers, change_label, marked_changes
from .style import variant_color, variant_label

__all__ = ["MARKED", "PLOTS", "IterationAxis", "LogAxis", "PlotPanel", "change_label", "positive"]

PLOTS = {
    "objective": ("Ψ(x<sup>k+1</sup>)", True),
    "step": ("relative step ‖x<sup>k+1</sup> − x<sup>k</sup>‖ / ‖x<sup>k</sup>‖", True),
    "residual": ("residual ‖d‖ (—) vs tolerance C‖ũ − x<sup>k</sup>‖ (- -)", True),
    "acceptance": ("acceptance rate", False),
    "psnr": ("PSNR (dB)", False),
    "ssim": ("SSIM", False),
}
AXIS_WIDTH = 52  # fixed, so changing tick labels never re-lay out the grid of plots
CURSOR_PEN = pg.mkPen("#fbc02d", width=2)
DIVERGED_COLOR = "#d50000"
NO_ACCEPTANCE = frozenset({"pg"})  # no learned step, so no check and no acceptance rate


def positive(values: np.ndarray) -> np.ndarray:
    """Values fit for a log axis: non-positive and non-finite entries become NaN."""
    out = np.array(values, dtype=np.float64)
    out[~(np.isfinite(out) & (out > 0))] = np.nan
    return out


class _VariantCurves:
    """The items one variant owns across the plots."""

    def __init__(self, plots: dict[str, pg.PlotItem], variant: str, z: float) -> None:
        color = variant_color(variant)
        pen = pg.mkPen(color, width=2)
        name = variant_label(variant)
        self.lines: dict[str, pg.PlotDataItem] = {}
        for key in PLOTS:
            if key == "acceptance" and variant in NO_ACCEPTANCE:
                continue
            self.lines[key] = plots[key].plot(pen=pen, name=name, connect="finite")
        self.tolerance = plots["residual"].plot(
            pen=pg.mkPen(color, width=1, style=Qt.PenStyle.DashLine), connect="finite"
        )
        self.accepted = plots["residual"].plot(
            pen=None, symbol="o", symbolSize=6, symbolBrush=color, symbolPen=None
        )
        self.rejected = plots["residual"].plot(
            pen=None, symbol="x", symbolSize=9, symbolBrush=color, symbolPen=pg.mkPen(color)
        )
        self.diverged = plots["objective"].plot(
            pen=None,
            symbol="x",
            symbolSize=18,
            symbolBrush=DIVERGED_COLOR,
            symbolPen=pg.mkPen(DIVERGED_COLOR, width=2),
        )
        self.diverged_at: int | None = None
        self._items = [
            *self.lines.values(),
            self.tolerance,
            self.accepted,
            self.rejected,
            self.diverged,
        ]
        for item in self._items:
            item.setZValue(z)

    def items(self) -> list[pg.PlotDataItem]:
        """Every item, for removal."""
        return self._items


class PlotPanel(QWidget):
    """Six linked plots of a run's trace."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.graphics = pg.GraphicsLayoutWidget()
        self.plots: dict[str, pg.PlotItem] = {}
        for index, (key, (title, log_y)) in enumerate(PLOTS.items()):
            axes = {"bottom": IterationAxis(orientation="bottom")}
            if log_y:
                axes["left"] = LogAxis(orientation="left")
            plot = self.graphics.addPlot(row=index // 3, col=index % 3, axisItems=axes)
            plot.setTitle(title, size="9pt")
            plot.setLogMode(x=False, y=log_y)
            # no grid by default: alpha-blended grid lines cost ~5 ms a plot per repaint (the
            # plot's context menu can switch it on)
            plot.setClipToView(True)
            plot.setDownsampling(auto=True, mode="peak")
            if index // 3 == 1:
                plot.setLabel("bottom", "iteration k")
            plot.getAxis("left").setWidth(AXIS_WIDTH)
            self.plots[key] = plot
        self.plots["acceptance"].setYRange(0.0, 1.0, padding=0.05)
        self.legend = self.plots["objective"].addLegend(offset=(-10, 10))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.graphics)
        self._curves: dict[str, _VariantCurves] = {}
        self.markers = ChangeMarkers(self.plots, "objective")
        self._history: RunHistory | None = None
        self._dirty: set[str] = set()
        self._skipped = 0  # draw_one calls since the plots were last drawn
        self._drawn = False  # drawn since the last clear (the first draw is never deferred)
        self._cursors: dict[str, pg.InfiniteLine] = {}
        for key, plot in self.plots.items():
            cursor = pg.InfiniteLine(angle=90, pen=CURSOR_PEN, movable=False)
            cursor.setVisible(False)
            cursor.setZValue(100)
            plot.addItem(cursor, ignoreBounds=True)
            self._cursors[key] = cursor
        self._cursor_iterate: int | None = None

    # ---- public API -----------------------------------------------------------------------
    def set_variants(self, variants: list[str] | tuple[str, ...]) -> None:
        """Prepare curves for these variants (and drop others)."""
        for variant in list(self._curves):
            if variant not in variants:
                self._remove_variant(variant)
        for variant in variants:
            if variant not in self._curves:
                z = float(len(variants) - list(variants).index(variant))  # first on top
                self._curves[variant] = _VariantCurves(self.plots, variant, z)

    def clear(self) -> None:
        """Empty every curve and marker (a run was reset), and auto-range every plot again."""
        self._dirty.clear()
        self._skipped = 0
        self._drawn = False
        for variant, curves in self._curves.items():
            for item in curves.items():
                item.setData([], [])
            curves.diverged_at = None
            self._set_legend_text(variant, variant_label(variant))
        self.set_markers({})
        self.set_cursor(None)
        for key, plot in self.plots.items():
            plot.enableAutoRange(x=True, y=key != "acceptance")
        self.plots["acceptance"].setYRange(0.0, 1.0, padding=0.05)

    def set_cursor(self, iterate: int | None) -> None:
        """Mark the plots' row for iterate x^j (row j − 1, whose Ψ is Ψ(x^j)); None hides it."""
        self._cursor_iterate = iterate
        for cursor in self._cursors.values():
            cursor.setVisible(iterate is not None and iterate > 0)
            if iterate:
                cursor.setPos(iterate - 1)

    def cursor_row(self) -> int | None:
        """The row the cursor marks (None when hidden)."""
        k = self._cursor_iterate
        return k - 1 if k else None

    def diverged(self) -> dict[str, int]:
        """Variants marked as diverged, with the iteration where it happened."""
        return {v: c.diverged_at for v, c in self._curves.items() if c.diverged_at is not None}

    def legend_text(self, variant: str) -> str:
        """The legend entry of ``variant`` as shown."""
        curves = self._curves.get(variant)
        label = self.legend.getLabel(curves.lines["objective"]) if curves else None
        return label.text if label is not None else ""

    def render_image(self, width: int) -> QImage:
        """The plots drawn at ``width`` pixels (height in proportion), on the window's background."""
        scene = self.graphics.scene()
        source = self.graphics.ci.sceneBoundingRect()
        if source.width() < 1 or source.height() < 1:
            source = QRectF(0, 0, 1200, 600)
        height = max(1, round(width * source.height() / source.width()))
        image = QImage(int(width), int(height), QImage.Format.Format_ARGB32)
        image.fill(self.graphics.backgroundBrush().color())
        painter = QPainter(image)
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setRenderHint(QPainter.RenderHint.TextAntialiasing)
        try:
            scene.render(painter, QRectF(0, 0, width, height), source)
        finally:
            painter.end()
        return image

    def save_image(self, path: str | Path, width: int) -> None:
        """Write the plots as a PNG ``width`` pixels wide, atomically (WriteError on failure)."""
        self.flush()
        image = self.render_image(width)
        with atomic_path(path) as tmp:
            if not image.save(str(tmp), "PNG"):
                raise WriteError(f"cannot write {Path(path).name}: the PNG encoder failed")

    def show_problem(self, state: ExplorerState) -> None:
        """The state's problem: PSNR and SSIM are plotted when it has a ground truth."""
        self.set_has_truth(state.setup.problem.ground_truth is not None)

    def set_has_truth(self, has_truth: bool) -> None:
        """Show the PSNR and SSIM plots only when the problem has a ground truth."""
        for key in ("psnr", "ssim"):
            self.plots[key].setVisible(has_truth)

    def update_curves(self, history: RunHistory) -> None:
        """Mark every visible plot for a redraw from ``history`` (done by :meth:`draw_one`)."""
        self._history = history
        self._dirty.update(key for key, plot in self.plots.items() if plot.isVisible())

    def draw_one(self) -> bool:
        """A window refresh's share of plot drawing: every waiting plot at once, from one snapshot,
        on one call in as many as there are plots (the first after a clear at once); True if the
        plots were drawn."""
        if not self._dirty or self._history is None:
            self._dirty.clear()
            return False
        self._skipped += 1
        if self._drawn and self._skipped < self._cadence():
            return False
        self._draw_all()
        return True

    def flush(self) -> None:
        """Redraw every waiting plot now (before an export or a screenshot)."""
        if self._dirty and self._history is not None:
            self._draw_all()
        self._dirty.clear()

    def pending(self) -> bool:
        """True while some plot still waits for its redraw."""
        return bool(self._dirty)

    def y_tick_labels(self, key: str) -> list[str]:
        """The labels plot ``key`` shows on its y axis for its current range."""
        return tick_labels(self.plots[key].getAxis("left"))

    def _cadence(self) -> int:
        """One call in this many draws: the number of visible plots."""
        return max(1, sum(1 for plot in self.plots.values() if plot.isVisible()))

    def _draw_all(self) -> None:
        """Every waiting plot from the same history, so they all end at the same k."""
        history = self._history
        for key in [key for key in PLOTS if key in self._dirty]:
            self._draw(key, history)
        self._dirty.clear()
        self._skipped = 0
        self._drawn = True

    def _draw(self, key: str, history: RunHistory) -> None:
        """setData on whole arrays for one plot, every variant."""
        for variant, curves in self._curves.items():
            if history.count(variant) == 0:
                continue
            k = history.column(variant, "k")
            if key == "objective":
                self._mark_divergence(variant, curves, history)
            if key == "acceptance":
                if key in curves.lines:  # pg has none
                    curves.lines[key].setData(k, history.acceptance_rate(variant))
            elif key == "residual":
                residual = positive(history.column(variant, "residual"))
                curves.lines[key].setData(k, residual)
                curves.tolerance.setData(k, positive(history.column(variant, "tolerance")))
                accepted = history.column(variant, "accepted") > 0.5
                finite = np.isfinite(residual)
                curves.accepted.setData(k[accepted & finite], residual[accepted & finite])
                curves.rejected.setData(k[~accepted & finite], residual[~accepted & finite])
            elif PLOTS[key][1]:  # log axis
                curves.lines[key].setData(k, positive(history.column(variant, key)))
            else:
                curves.lines[key].setData(k, history.column(variant, key))

    def set_markers(self, changes: dict[int, dict[str, float]]) -> None:
        """Vertical lines at the iterations where parameter changes took effect, labelled on the
        Ψ plot without overlaps (nearby changes share one label)."""
        self.markers.set_changes(marked_changes(changes))

    def marker_positions(self) -> list[int]:
        """Iterations that carry a change marker."""
        return sorted(self.markers.changes())

    def marker_labels(self) -> list[pg.TextItem]:
        """The change labels now shown on the Ψ plot."""
        return self.markers.labels()

    # ---- helpers --------------------------------------------------------------------------
    def _mark_divergence(self, variant: str, curves: _VariantCurves, history: RunHistory) -> None:
        """A red ✕ at the last finite Ψ of a diverged variant, and the legend says when."""
        at = history.diverged_at(variant)
        if at is None or curves.diverged_at == at:
            return
        objective = positive(history.column(variant, "objective"))
        finite = np.flatnonzero(np.isfinite(objective))
        y = objective[finite[-1]] if finite.size else 1.0
        curves.diverged.setData([float(at)], [float(y)])
        curves.diverged_at = at
        text = f"{variant_label(variant)} ✕ diverged at k = {at}"
        self._set_legend_text(variant, text, DIVERGED_COLOR)

    def _set_legend_text(self, variant: str, text: str, color: str | None = None) -> None:
        curves = self._curves.get(variant)
        label = self.legend.getLabel(curves.lines["objective"]) if curves else None
        if label is not None and label.text != text:
            label.setText(text, color=color or self.legend.opts["labelTextColor"])
            self.legend.updateSize()

    def _remove_variant(self, variant: str) -> None:
        curves = self._curves.pop(variant)
        for item in curves.items():
            for plot in self.plots.values():
                if item in plot.items:
                    plot.removeItem(item)
        self.legend.removeItem(variant_label(variant))
