"""Parameter-change markers: a dashed vertical line on every plot at each iteration k where a live
change (C, μ, γ …) took effect, and labels on one plot laid out so that no two of them overlap.

Labels are placed left to right in pixels from the foot of the plot up: a label that would run into
the previous one of its row (changes a few iterations apart) goes one row up; when every row is
taken it joins the last label, which then reads ``C=0.25 · k=13: μ=0.8``. The layout is redone
whenever the view's range or size changes, so labels restack as the run grows or the user zooms.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGraphicsTextItem

MARKER_PEN = pg.mkPen("#9e9e9e", width=1, style=Qt.PenStyle.DashLine)
LABEL_COLOR = "#9e9e9e"
LABEL_FILL = (0, 0, 0, 150)  # keeps a label readable over a curve
MARKED = ("C", "mu", "gamma", "lam", "rho", "sigma_start", "sigma_end", "sigma_steps")
SYMBOLS = {"mu": "μ", "gamma": "γ", "lam": "λ", "rho": "ρ"}
PAD = 3.0  # pixels between a line and its label
GAP = 6.0  # pixels kept free between two labels
FOOT = 0.04  # labels stand this fraction of the plot's height above its bottom
STACK_HEIGHT = 0.6  # rows of labels fill at most this fraction of it (the legend is at the top)
LABEL_Z = 50
MARGIN = 1.0  # pixels of text margin inside a label (Qt's default is 4)


def change_label(change: dict[str, float]) -> str:
    """A short marker label such as ``C=0.2 μ=1``."""
    return " ".join(f"{SYMBOLS.get(name, name)}={value:g}" for name, value in change.items())


def marked_changes(changes: dict[int, dict[str, float]]) -> dict[int, dict[str, float]]:
    """Only the changes of marked parameters, and only iterations that keep some."""
    kept = {k: {n: v for n, v in c.items() if n in MARKED} for k, c in changes.items()}
    return {int(k): c for k, c in kept.items() if c}


@dataclass
class _Label:
    """One label: a change, or several that had no room of their own, on one line."""

    left: float  # pixels from the view's left
    row: int  # 0 at the foot of the plot, counting up
    members: list[tuple[int, dict[str, float]]] = field(default_factory=list)
    width: float = 0.0

    def text(self) -> str:
        """``C=0.25``, then `` · k=13: μ=0.8`` for each change merged in."""
        first, *others = self.members
        return " · ".join(
            [change_label(first[1]), *(f"k={k}: {change_label(c)}" for k, c in others)]
        )


class ChangeMarkers:
    """Marker lines on every plot, non-overlapping labels on ``labelled``."""

    def __init__(self, plots: dict[str, pg.PlotItem], labelled: str) -> None:
        self._plots = plots
        self._labelled = plots[labelled]
        self._lines: list[tuple[pg.PlotItem, pg.InfiniteLine]] = []
        self._labels: list[pg.TextItem] = []
        self._changes: dict[int, dict[str, float]] = {}
        self._ruler = QGraphicsTextItem()  # measures label text exactly as a TextItem shows it
        self._ruler.document().setDocumentMargin(MARGIN)
        self._sizes: dict[str, tuple[float, float]] = {}
        view = self._labelled.getViewBox()
        view.sigRangeChanged.connect(self.layout)
        view.sigResized.connect(self.layout)

    def changes(self) -> dict[int, dict[str, float]]:
        """The marked changes shown, by iteration."""
        return dict(self._changes)

    def set_changes(self, changes: dict[int, dict[str, float]]) -> bool:
        """Show these changes (already filtered by :func:`marked_changes`); False if unchanged."""
        if changes == self._changes:
            return False
        for plot, line in self._lines:
            plot.removeItem(line)
        self._lines.clear()
        for k, change in sorted(changes.items()):
            for plot in self._plots.values():
                line = pg.InfiniteLine(pos=k, angle=90, pen=MARKER_PEN, movable=False)
                line.setToolTip(f"k = {k}: {change_label(change)}")
                plot.addItem(line, ignoreBounds=True)
                self._lines.append((plot, line))
        self._changes = dict(changes)
        self.layout()
        return True

    def labels(self) -> list[pg.TextItem]:
        """The label items now shown."""
        return [label for label in self._labels if label.isVisible()]

    def layout(self, *_args) -> None:
        """Place the labels for the current view, stacked where they would touch."""
        view = self._labelled.getViewBox()
        rect = view.boundingRect()
        (x0, x1), (y0, y1) = view.viewRange()
        placed = self._place(rect.width(), rect.height(), x0, x1) if self._changes else []
        while len(self._labels) < len(placed):
            label = pg.TextItem(color=LABEL_COLOR, anchor=(0, 1), fill=pg.mkBrush(*LABEL_FILL))
            label.textItem.document().setDocumentMargin(MARGIN)
            label.setZValue(LABEL_Z)
            self._labelled.addItem(label, ignoreBounds=True)
            self._labels.append(label)
        step = self._row_step()
        for label, spot in zip(self._labels, placed, strict=False):
            text = spot.text()
            if label.toPlainText() != text:
                label.setText(text, color=LABEL_COLOR)
            foot = rect.height() * FOOT + spot.row * step  # pixels above the bottom
            label.setPos(
                x0 + spot.left / rect.width() * (x1 - x0), y0 + foot / rect.height() * (y1 - y0)
            )
            label.setToolTip("\n".join(f"k = {k}: {change_label(c)}" for k, c in spot.members))
            label.setVisible(True)
        for label in self._labels[len(placed) :]:
            label.setVisible(False)

    # ---- helpers --------------------------------------------------------------------------
    def _place(self, width: float, height: float, x0: float, x1: float) -> list[_Label]:
        """Labels of the visible changes, left to right, each on the lowest row where it does not
        touch the previous label of that row; with every row taken, merged into the last label."""
        if width < 1 or height < 1 or x1 <= x0:
            return []
        rows = max(1, int(height * STACK_HEIGHT / self._row_step()))
        ends = [-GAP] * rows  # right edge of each row's last label
        placed: list[_Label] = []
        for k, change in sorted(self._changes.items()):
            if not x0 <= k <= x1:
                continue
            wide = self._width(change_label(change))
            left = (k - x0) / (x1 - x0) * width + PAD
            if left + wide > width:  # the newest change, at the right edge while running
                left = max(0.0, width - wide)  # right-aligned to the plot's edge
            row = next((r for r in range(rows) if ends[r] + GAP <= left), None)
            if row is None and placed:  # no room anywhere: join the last label (its row's end)
                spot = placed[-1]
                spot.members.append((k, change))
                spot.width = self._width(spot.text())
                ends[spot.row] = spot.left + spot.width
                continue
            spot = _Label(left, row or 0, [(k, change)], wide)
            placed.append(spot)
            ends[spot.row] = left + wide
        return placed

    def _row_step(self) -> float:
        """Pixels from one row of labels to the next (a label's height, and one free)."""
        return self._size("Cμγ")[1] + 1.0

    def _width(self, text: str) -> float:
        """A label's width in pixels."""
        return self._size(text)[0]

    def _size(self, text: str) -> tuple[float, float]:
        """A label's size in pixels (cached)."""
        size = self._sizes.get(text)
        if size is None:
            self._ruler.setPlainText(text)
            rect = self._ruler.boundingRect()
            size = (rect.width(), rect.height())
            if len(self._sizes) > 512:
                self._sizes.clear()
            self._sizes[text] = size
        return size
