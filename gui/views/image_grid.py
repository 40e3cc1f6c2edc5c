"""The image panels' grid: as many columns as make each picture largest in the space there is.

Six panels side by side suit a wide window; in a narrow one (a laptop, the certificate docked
beside) each picture would be a thumbnail with titles running into each other, so the grid
re-flows to 3 × 2 or 2 × 3 when that shows every picture larger.

The grid paints in C++ alone. pyqtgraph's views override ``paintEvent`` in Python only to tell the
scene a paint is coming (``prepareForPaint``: view boxes apply a changed range then); an override
in Python holds the GIL through the whole C++ paint that follows, and the solver's thread, which
needs the GIL between its small tensor operations, waits that long ~24 times a second (measured:
a Python ``paintEvent`` that only calls the base one slowed a torch loop by 7–8 % at 2 % GUI CPU;
the same view painting in C++ did not slow it). So the grid keeps Qt's own ``paintEvent``, and a
view box added with :meth:`AdaptiveGrid.add_view` applies its range the moment it changes
(its range, state and size signals call its ``prepareForPaint``). (Preparing on
``QGraphicsScene.changed`` instead measured worse: connecting that signal makes every view repaint
the scene's changed rectangles, 8.1 % GUI CPU against 6.4 %.)
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import QGraphicsView

TITLE_HEIGHT = 22.0  # px a panel's title takes above its picture
SPACING = 6.0  # px between cells


class PanelTitle(pg.LabelItem):
    """A title that never widens its column and re-lays out only when its height changes."""

    def updateMin(self) -> None:
        """Keep the text's height but claim no width."""
        height = self.itemRect().height()
        old = getattr(self, "_sizeHint", {}).get(Qt.SizeHint.PreferredSize)
        self._sizeHint = {
            Qt.SizeHint.MinimumSize: (0, height),
            Qt.SizeHint.PreferredSize: (0, height),
            Qt.SizeHint.MaximumSize: (-1, -1),
            Qt.SizeHint.MinimumDescent: (0, 0),
        }
        if old != (0, height):
            self.setMinimumHeight(height)
            self.updateGeometry()


def picture_side(count: int, columns: int, width: float, height: float, aspect: float) -> float:
    """Width in px of each picture when ``count`` panels of width/height ``aspect`` fill
    ``columns`` columns of a ``width`` × ``height`` area (titles above each)."""
    rows = math.ceil(count / columns)
    cell_w = (width - SPACING * (columns - 1)) / columns
    cell_h = (height - SPACING * (rows - 1)) / rows - TITLE_HEIGHT
    return max(0.0, min(cell_w, cell_h * aspect))


def grid_columns(count: int, width: float, height: float, aspect: float = 1.0) -> int:
    """The number of columns that shows each of ``count`` pictures largest; near-ties (within 3 %)
    go to the grid with fewest empty cells, then to more columns."""
    sides = {c: picture_side(count, c, width, height, aspect) for c in range(1, count + 1)}
    largest = max(sides.values())
    near = [c for c, side in sides.items() if side >= 0.97 * largest]
    return min(near, key=lambda c: (c * math.ceil(count / c) - count, -c))


def display_step(view: pg.ViewBox, device_ratio: float = 1.0) -> int:
    """How many image pixels (along the tighter axis, rounded down, ≥ 1) fall on one pixel of the
    screen in ``view``; ``device_ratio``: the screen's physical pixels per logical one."""
    if view.getViewWidget() is None:  # not in a window yet
        return 1
    try:
        width, height = view.viewPixelSize()
    except (TypeError, ZeroDivisionError, ValueError):  # no size yet
        return 1
    per_pixel = min(width, height) / max(device_ratio, 1.0)
    return int(per_pixel) if math.isfinite(per_pixel) and per_pixel >= 1 else 1


class AdaptiveGrid(pg.GraphicsLayoutWidget):
    """A GraphicsLayoutWidget whose cells (added with :meth:`add_cell`) re-flow on resize."""

    resized = Signal()  # the cells moved or changed size: views fitted to their content refit
    paintEvent = QGraphicsView.paintEvent  # noqa: N815 (Qt's name): Qt's own, not pyqtgraph's

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.cells: list[pg.GraphicsLayout] = []
        self.columns = 0
        self.aspect = 1.0  # the pictures' width / height
        self._settled = QTimer(self)  # one 'resized' after a burst of resizes, once laid out
        self._settled.setSingleShot(True)
        self._settled.setInterval(0)
        self._settled.timeout.connect(self.resized)

    def add_cell(self) -> pg.GraphicsLayout:
        """A new cell at the end of the grid."""
        cell = pg.GraphicsLayout()
        self.cells.append(cell)
        self.columns = 0  # placed on the next arrange
        self.arrange()
        return cell

    @staticmethod
    def add_view(cell: pg.GraphicsLayout, **options) -> pg.ViewBox:
        """A view box in ``cell`` (``options``: ViewBox's) that applies a new range at once
        (this grid paints without pyqtgraph's ``prepareForPaint`` turn)."""
        view = cell.addViewBox(**options)
        for signal in (view.sigRangeChanged, view.sigStateChanged, view.sigResized):
            signal.connect(view.prepareForPaint)
        return view

    def set_aspect(self, aspect: float) -> None:
        """The pictures' width / height (the grid re-flows for it)."""
        if aspect > 0 and not math.isclose(aspect, self.aspect):
            self.aspect = aspect
            self.arrange()

    def arrange(self) -> None:
        """Place the cells in the best number of columns for the current size."""
        if not getattr(self, "cells", None):
            return  # pyqtgraph resizes while constructing, before the cells exist
        size = self.size()
        columns = grid_columns(len(self.cells), size.width(), size.height(), self.aspect)
        if columns == self.columns:
            return
        self.columns = columns
        layout = self.ci.layout
        for cell in self.cells:
            if cell in self.ci.items:
                self.ci.removeItem(cell)
        for index, cell in enumerate(self.cells):
            self.ci.addItem(cell, row=index // columns, col=index % columns)
        rows = math.ceil(len(self.cells) / columns)
        for index in range(len(self.cells)):  # rows and columns left empty take no room
            layout.setColumnStretchFactor(index, 1 if index < columns else 0)
            layout.setColumnSpacing(index, SPACING if index < columns - 1 else 0)
            layout.setRowStretchFactor(index, 1 if index < rows else 0)
            layout.setRowSpacing(index, SPACING if index < rows - 1 else 0)

    def resizeEvent(self, event) -> None:  # noqa: N802 (Qt's name)
        """Re-flow, let pyqtgraph lay out, then say so (after the layout has settled)."""
        super().resizeEvent(event)
        self.arrange()
        if hasattr(self, "_settled"):
            self._settled.start()
