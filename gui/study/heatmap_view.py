"""The Study window's heatmap: a :class:`~core.study.plot.Heatmap` drawn with pyqtgraph.

Cells are drawn in cell-index coordinates (numeric axes sorted, as ``fima study plot`` sorts them;
tick labels are the values) by one ImageItem with fixed levels (float32, C-contiguous; NaN —no
finished cell— is transparent), with a colour bar and, when the axes are C and μ, the line 2C = μ
placed between the cells' edges (geometric midpoints on log-spaced axes, as in plot.py).
"""

from __future__ import annotations

import math

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt, Signal, Slot

from core.study.plot import Heatmap, _edges, _is_log, _label, _numeric

BOUNDED = ("accept_rate", "monotone")  # metrics coloured on [0, 1]


def fixed_levels(values: np.ndarray, metric: str) -> tuple[float, float]:
    """Colour levels: [0, 1] for rates, else the finite range (widened when flat)."""
    if metric in BOUNDED:
        return 0.0, 1.0
    finite = values[np.isfinite(values)]
    if not finite.size:
        return 0.0, 1.0
    lo, hi = float(finite.min()), float(finite.max())
    if hi - lo <= 1e-12 * max(1.0, abs(hi)):
        lo, hi = lo - 0.5, hi + 0.5
    return lo, hi


def index_mapping(values: list, log: bool):
    """(value → fractional cell index on a sorted numeric axis, NaN outside; the cells' edges)."""
    edges = _edges(values, log)
    knots = np.array([edges[0], *map(float, values), edges[-1]], dtype=float)
    places = np.array([-0.5, *range(len(values)), len(values) - 0.5])
    space = np.log if log else np.asarray

    def index(v: np.ndarray) -> np.ndarray:
        out = np.interp(space(v), space(knots), places)
        out[(v < knots[0]) | (v > knots[-1])] = np.nan
        return out

    return index, edges


def describe_pixel(heat: Heatmap, i: int, j: int) -> str:
    """The hover readout of ``heat.values[i, j]``: its axis values, the value, how many cells."""
    where = f"{heat.x} = {_label(heat.xs[j], heat.x)}, {heat.y} = {_label(heat.ys[i], heat.y)}"
    count, value = int(heat.counts[i, j]), float(heat.values[i, j])
    if not count or not math.isfinite(value):
        return f"{where}: no finished cell"
    mean = f" (mean of {count} cells)" if count > 1 else ""
    return f"{where}: {heat.metric} = {value:.6g}{mean}"


class HeatmapView(pg.GraphicsLayoutWidget):
    """One heatmap with a colour bar; reports the cell under the mouse and double-clicks."""

    hovered = Signal(int, int)  # (i, j) of heat.values under the mouse; (-1, -1) off the map
    doubleClicked = Signal(int, int)  # (i, j) of heat.values

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.heat: Heatmap | None = None
        self.order: tuple[np.ndarray, np.ndarray] = (np.arange(0), np.arange(0))
        self.plot = self.addPlot()
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.plot.addItem(self.image)
        self.colour_bar = pg.ColorBarItem(colorMap="viridis", interactive=False, values=(0, 1))
        self.colour_bar.setImageItem(self.image, insert_in=self.plot)
        dash = pg.mkPen("crimson", width=2, style=Qt.PenStyle.DashLine)
        self.guarantee = pg.PlotDataItem(pen=dash, connect="finite")
        self.guarantee.setVisible(False)
        self.plot.addItem(self.guarantee)
        self.plot.scene().sigMouseMoved.connect(self._moved)
        self.plot.scene().sigMouseClicked.connect(self._clicked)

    def image_array(self) -> np.ndarray | None:
        """What the ImageItem shows: ``heat.values`` with its rows and columns sorted."""
        return self.image.image

    def draw(self, heat: Heatmap) -> None:
        """Show ``heat`` (GUI thread only)."""
        self.heat = heat
        coords = []
        for name, values in ((heat.x, heat.xs), (heat.y, heat.ys)):
            numeric = bool(values) and _numeric(values)
            order = np.argsort(values, kind="stable") if numeric else np.arange(len(values))
            coords.append((numeric, numeric and _is_log(values, heat.scales.get(name)), order))
        (xnum, xlog, xorder), (ynum, ylog, yorder) = coords
        self.order = (yorder, xorder)
        values = np.ascontiguousarray(heat.values[np.ix_(yorder, xorder)], dtype=np.float32)
        levels = fixed_levels(values, heat.metric)
        if values.size:
            self.image.setImage(values, autoLevels=False, levels=levels)
        else:
            self.image.clear()
        self.image.setRect(-0.5, -0.5, max(len(heat.xs), 1), max(len(heat.ys), 1))
        self.colour_bar.setLevels(levels)
        xs = [heat.xs[i] for i in xorder]
        ys = [heat.ys[i] for i in yorder]
        for side, name, shown in (("bottom", heat.x, xs), ("left", heat.y, ys)):
            axis = self.plot.getAxis(side)
            axis.setTicks([[(k, _label(v, name)) for k, v in enumerate(shown)]])
            axis.setLabel("μ" if name == "mu" else name)
        self.plot.setTitle(f"{heat.metric}" + (f" — {heat.task}" if heat.task else ""))
        line = {heat.x, heat.y} == {"C", "mu"} and xnum and ynum
        if line:
            self._draw_guarantee(heat.x, xs, ys, xlog, ylog)
        self.guarantee.setVisible(bool(line))
        self.plot.setRange(
            xRange=(-0.5, max(len(xs), 1) - 0.5), yRange=(-0.5, max(len(ys), 1) - 0.5), padding=0
        )

    def _draw_guarantee(self, x: str, xs: list, ys: list, xlog: bool, ylog: bool) -> None:
        """The line 2C = μ, in cell-index coordinates."""
        x_index, xedges = index_mapping(xs, xlog)
        y_index, _ = index_mapping(ys, ylog)
        lo, hi = float(xedges[0]), float(xedges[-1])
        along = np.geomspace(lo, hi, 200) if xlog and lo > 0 else np.linspace(lo, hi, 200)
        up = 2 * along if x == "C" else along / 2
        self.guarantee.setData(x_index(along), y_index(up))

    def pixel_at(self, scene_pos) -> tuple[int, int] | None:
        """(i, j) of ``heat.values`` under a scene position, or None off the heatmap."""
        if self.heat is None or not self.plot.vb.sceneBoundingRect().contains(scene_pos):
            return None
        point = self.plot.vb.mapSceneToView(scene_pos)
        row, col = round(point.y()), round(point.x())
        yorder, xorder = self.order
        if not (0 <= row < len(yorder) and 0 <= col < len(xorder)):
            return None
        return int(yorder[row]), int(xorder[col])

    def scene_pos_of(self, i: int, j: int):
        """The scene position of the centre of ``heat.values[i, j]``."""
        yorder, xorder = self.order
        row, col = int(np.flatnonzero(yorder == i)[0]), int(np.flatnonzero(xorder == j)[0])
        return self.plot.vb.mapViewToScene(pg.Point(col, row))

    @Slot(object)
    def _moved(self, scene_pos) -> None:
        pixel = self.pixel_at(scene_pos)
        self.hovered.emit(*(pixel or (-1, -1)))

    @Slot(object)
    def _clicked(self, event) -> None:
        if event.double():
            pixel = self.pixel_at(event.scenePos())
            if pixel is not None:
                event.accept()
                self.doubleClicked.emit(*pixel)
