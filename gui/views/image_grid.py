"""The image panels' grid: as many columns as make each picture largest in the space there is.

Six panels side by side suit a wide window; in a narrow one (a laptop, the certificate docked
beside) each picture would be a thumbnail with titles running into each other, so the grid
re-flows to 3 × 2 or 2 × 3 when that shows every picture larger.
"""

from __future__ import annotations

import math

import pyqtgraph as pg
from PySide6.QtCore import QTimer, Signal

TITLE_HEIGHT = 22.0  # px a panel's title takes above its picture
SPACING = 6.0  # px between cells


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


class AdaptiveGrid(pg.GraphicsLayoutWidget):
    """A GraphicsLayoutWidget whose cells (added with :meth:`add_cell`) re-flow on resize."""

    resized = Signal()  # the cells moved or changed size: views fitted to their content refit

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
