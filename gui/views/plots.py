"""Convergence plots, every variant overlaid in its own colour, with parameter-change markers.

Ψ(x^k) and the relative step on log axes; the residual ‖d‖ against the tolerance C‖ũ − x^k‖ with
accepted (●) and rejected (✕) iterations; the running acceptance rate; PSNR and SSIM when the
problem has a ground truth. Nothing here is ever touched off the GUI thread.

Every plot is redrawn at once from one snapshot of the history, so all plots always end at the
same k. The whole columns (every iteration: :class:`gui.views.plot_data.PlotColumns`, which
converts each row once) are decimated to the plot's pixel width before ``setData``: the points in
the visible x range, and past two a pixel the min and max of each run of points, the first and last
kept exactly (so auto-range never depends on the decimation, and the curve ends at the last k);
accepted / rejected markers at most one a pixel column. A redraw thus costs a few numpy passes
at 200 or 200,000 iterations; a zoom or pan redraws the plot for its new range. (pyqtgraph's own
auto-downsampling drops the last points of a curve and, with auto-range, can feed back into the
range and repaint endlessly.) The plots are redrawn at most 30 times a second and within a CPU budget of their own
(:class:`gui.refresh_budget.DrawPacing`, measured on the redraw and its paint), so a long run's
costlier plots are redrawn less often while the images keep their rate. pg takes no learned step,
so it has no acceptance rate and no curve in that plot. Reset (:meth:`PlotPanel.clear`) puts every
plot back on auto-range.

A variant that diverged (and was stopped) gets a big red ✕ at its last finite Ψ and "diverged at
k = …" in the legend. While the history scrubber shows a past iterate x^j, a cursor line marks row
j − 1 of every plot (the row whose Ψ is Ψ(x^j)).
"""

from __future__ import annotations

import time
from functools import partial
from pathlib import Path

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt, QTimer
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QVBoxLayout, QWidget

from core.fileio import WriteError, atomic_path
from core.run_spec import variant_of

from ..refresh_budget import DrawPacing
from ..state import ExplorerState, RunProgress
from ..state.run_history import RunHistory
from .plot_axes import IterationAxis, LogAxis, tick_labels
from .plot_data import PlotColumns, VariantColumns, decimate, decimate_markers
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
DEFAULT_PIXELS = 800  # a plot's width before it is laid out
VIEW_REDRAW_MS = 40  # a zoom or pan redraws the plot for its new x range after this delay


class _TimedGraphics(pg.GraphicsLayoutWidget):
    """The plots' view, adding up the GUI-thread CPU its paints take (for the draw budget)."""

    def __init__(self) -> None:
        super().__init__()
        self.paint_cpu_s = 0.0

    def paintEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        """Paint, and count the CPU time it took."""
        start = time.thread_time()
        try:
            super().paintEvent(event)
        finally:
            self.paint_cpu_s += time.thread_time() - start


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
            if key == "acceptance" and variant_of(variant) in NO_ACCEPTANCE:
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
        self.graphics = _TimedGraphics()
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
            plot.getViewBox().sigXRangeChanged.connect(partial(self._view_changed, key))
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
        self._progress: RunProgress | None = None
        self._columns = PlotColumns()
        self._dirty: set[str] = set()
        self._pacing = DrawPacing()
        self._drawn = False  # drawn since the last clear (the first draw is never deferred)
        self._set_data_cpu_s = 0.0  # CPU of every setData pass so far (paints: self.graphics)
        self._cpu_at_draw = 0.0  # cpu_seconds() when the last draw started
        self.draw_count = 0  # draws so far (each redraws every waiting plot)
        self._sliced: set[str] = set()  # plots last drawn for a zoomed-in x range only
        self._view_dirty: set[str] = set()  # plots to redraw for their new x range
        self._view_timer = QTimer(self)
        self._view_timer.setSingleShot(True)
        self._view_timer.timeout.connect(self._redraw_views)
        self._cursors: dict[str, pg.InfiniteLine] = {}
        for key, plot in self.plots.items():
            cursor = pg.InfiniteLine(angle=90, pen=CURSOR_PEN, movable=False)
            cursor.setVisible(False)
            cursor.setZValue(100)
            plot.addItem(cursor, ignoreBounds=True)
            self._cursors[key] = cursor
        self._cursor_iterate: int | None = None

    # ---- public API -----------------------------------------------------------------------
    def bind_run(self, progress: RunProgress) -> None:
        """Draw the run ``progress`` holds: its runs, rows and parameter changes, a piece at each
        draw turn (asking for another while drawing is left)."""
        self._progress = progress
        progress.events.started.connect(self._on_run_started)
        progress.events.cleared.connect(self.clear)
        progress.events.rows.connect(self.update_curves)
        progress.events.markers.connect(self.set_markers)
        progress.events.frame.connect(self._on_frame)

    def _on_run_started(self, variants: tuple[str, ...]) -> None:
        self.clear()
        self.set_variants(variants)

    def _on_frame(self) -> None:
        self.draw_one()
        if self.pending() and self._progress is not None:
            self._progress.events.frame_wanted.emit()

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
        self._drawn = False
        self._columns.clear()
        self._pacing.reset()
        self._sliced.clear()
        self._view_dirty.clear()
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
        when the draw budget allows (the first after a clear at once); True if drawn."""
        if not self._dirty or self._history is None:
            self._dirty.clear()
            return False
        if self._drawn and self._pacing.due_in_s() > 0:
            return False
        self._draw_all()
        return True

    def cpu_seconds(self) -> float:
        """GUI-thread CPU the plots have taken so far: their setData passes and paints."""
        return self._set_data_cpu_s + self.graphics.paint_cpu_s

    def draw_interval_s(self) -> float:
        """Seconds the draw budget now puts between two draws."""
        return self._pacing.interval_s()

    def column(self, variant: str, name: str) -> np.ndarray:
        """Every value of one plotted column (``k``, ``objective`` …) as of the last draw."""
        columns = self._columns.get(variant)
        return columns.column(name) if columns is not None else np.empty(0)

    def point_counts(self, key: str) -> dict[str, tuple[int, int]]:
        """Plot ``key``'s main curve per variant: (iterations it plots, points it draws)."""
        counts = {}
        for variant, curves in self._curves.items():
            line, columns = curves.lines.get(key), self._columns.get(variant)
            if line is not None and columns is not None:
                counts[variant] = (columns.count, 0 if line.xData is None else len(line.xData))
        return counts

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

    def _draw_all(self) -> None:
        """Every waiting plot from the same history, so they all end at the same k."""
        start = time.thread_time()
        self._pacing.drawing(self.cpu_seconds() - self._cpu_at_draw)
        self._cpu_at_draw = self.cpu_seconds()
        history = self._history
        self._columns.sync(history)
        for key in [key for key in PLOTS if key in self._dirty]:
            self._draw(key, history)
        # auto-range and axes now, not in the paint: an update asked for while painting would
        # cost a second paint of the plots
        self.graphics.scene().prepareForPaint()
        self._dirty.clear()
        self._drawn = True
        self.draw_count += 1
        self._set_data_cpu_s += time.thread_time() - start

    def _draw(self, key: str, history: RunHistory) -> None:
        """setData for one plot, every variant: whole columns decimated to the plot's pixels."""
        view = self.plots[key].getViewBox()
        x_range = None if view.autoRangeEnabled()[0] else tuple(view.viewRange()[0])
        pixels = int(view.width()) if view.width() >= 1 else DEFAULT_PIXELS
        (self._sliced.add if x_range is not None else self._sliced.discard)(key)

        def line(item: pg.PlotDataItem, k: np.ndarray, y: np.ndarray) -> None:
            item.setData(*decimate(k, y, x_range, pixels))

        for variant, curves in self._curves.items():
            columns = self._columns.get(variant)
            if columns is None:
                continue
            k = columns.column("k")
            if key == "objective":
                self._mark_divergence(variant, curves, history, columns)
            if key == "acceptance":
                if key in curves.lines:  # pg has none
                    line(curves.lines[key], k, columns.acceptance_rate())
            elif key == "residual":
                residual = positive(columns.column("residual"))
                line(curves.lines[key], k, residual)
                line(curves.tolerance, k, positive(columns.column("tolerance")))
                accepted = columns.column("accepted") > 0.5
                finite = np.isfinite(residual)
                for item, chosen in ((curves.accepted, accepted), (curves.rejected, ~accepted)):
                    chosen = chosen & finite
                    item.setData(*decimate_markers(k[chosen], residual[chosen], x_range, pixels))
            elif PLOTS[key][1]:  # log axis
                line(curves.lines[key], k, positive(columns.column(key)))
            else:
                line(curves.lines[key], k, columns.column(key))

    def _view_changed(self, key: str, *_args) -> None:
        """Plot ``key``'s x range changed: a zoom or pan (or auto-range back on after one) is
        redrawn for the new range, shortly; following the run's growth needs nothing."""
        view = self.plots[key].getViewBox()
        if not self._drawn or (view.autoRangeEnabled()[0] and key not in self._sliced):
            return
        self._view_dirty.add(key)
        if not self._view_timer.isActive():
            self._view_timer.start(VIEW_REDRAW_MS)

    def _redraw_views(self) -> None:
        """Redraw the zoomed or panned plots from the columns of the last draw (same k)."""
        start = time.thread_time()
        keys, self._view_dirty = self._view_dirty, set()
        if self._history is not None:
            for key in [key for key in PLOTS if key in keys]:
                self._draw(key, self._history)
        self._set_data_cpu_s += time.thread_time() - start

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
    def _mark_divergence(
        self, variant: str, curves: _VariantCurves, history: RunHistory, columns: VariantColumns
    ) -> None:
        """A red ✕ at the last finite Ψ of a diverged variant, and the legend says when."""
        at = history.diverged_at(variant)
        if at is None or curves.diverged_at == at:
            return
        objective = positive(columns.column("objective"))
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
