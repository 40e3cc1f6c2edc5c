"""Convergence plots, every variant overlaid in its own colour, with parameter-change markers.

Ψ(x^k) and the relative step on log axes; the residual ‖d‖ against the tolerance C‖ũ − x^k‖ with
accepted (●) and rejected (✕) iterations; the running acceptance rate; PSNR and SSIM when the
problem has a ground truth. Nothing here is ever touched off the GUI thread.

Curves get ``setData`` on whole arrays, one plot per window refresh (round robin, see
:meth:`PlotPanel.draw_one`), so a refresh never blocks the event loop for more than one plot's
redraw — axes and text are the expensive part of a pyqtgraph repaint.

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

from ..run_history import RunHistory
from .style import variant_color, variant_label

PLOTS = {
    "objective": ("Ψ(x<sup>k+1</sup>)", True),
    "step": ("relative step ‖x<sup>k+1</sup> − x<sup>k</sup>‖ / ‖x<sup>k</sup>‖", True),
    "residual": ("residual ‖d‖ (—) vs tolerance C‖ũ − x<sup>k</sup>‖ (- -)", True),
    "acceptance": ("acceptance rate", False),
    "psnr": ("PSNR (dB)", False),
    "ssim": ("SSIM", False),
}
AXIS_WIDTH = 52  # fixed, so changing tick labels never re-lay out the grid of plots
MARKER_PEN = pg.mkPen("#9e9e9e", width=1, style=Qt.PenStyle.DashLine)
CURSOR_PEN = pg.mkPen("#fbc02d", width=2)
DIVERGED_COLOR = "#d50000"
MARKED = ("C", "mu", "gamma", "lam", "rho", "sigma_start", "sigma_end", "sigma_steps")
SYMBOLS = {"mu": "μ", "gamma": "γ", "lam": "λ", "rho": "ρ"}


def positive(values: np.ndarray) -> np.ndarray:
    """Values fit for a log axis: non-positive and non-finite entries become NaN."""
    out = np.array(values, dtype=np.float64)
    out[~(np.isfinite(out) & (out > 0))] = np.nan
    return out


def change_label(change: dict[str, float]) -> str:
    """A short marker label such as ``C=0.2 μ=1``."""
    return " ".join(f"{SYMBOLS.get(name, name)}={value:g}" for name, value in change.items())


class LogAxis(pg.AxisItem):
    """A log axis that thins its labels to what fits (all, then 1·/2·/5·10ⁿ, then 10ⁿ) and never
    prints two labels closer than LABEL_PIXELS, so small plots show no overlapping labels."""

    LABEL_PIXELS = 16

    def logTickStrings(self, values, scale, spacing) -> list[str]:
        """pyqtgraph's labels, with crowded minor ones left blank."""
        strings = super().logTickStrings(values, scale, spacing)
        fit = max(2, int(self.geometry().height() / self.LABEL_PIXELS))
        mantissas = [round(10 ** (float(v) % 1.0), 3) for v in values]
        for keep in (None, (1, 2, 5), (1,)):
            out = [
                text if keep is None or any(abs(m - k) < 1e-2 for k in keep) else ""
                for text, m in zip(strings, mantissas, strict=False)
            ]
            if sum(1 for text in out if text) <= fit:
                break
        return self._spaced(values, mantissas, out)

    def _spaced(self, values, mantissas: list[float], labels: list[str]) -> list[str]:
        """Blank labels closer than LABEL_PIXELS to a kept one (decades are kept first)."""
        low, high = self.range
        height = self.geometry().height()
        if high == low or height <= 0:
            return labels
        order = sorted(range(len(labels)), key=lambda i: (abs(mantissas[i] - 1) > 1e-2, i))
        kept: list[float] = []
        out = list(labels)
        for i in order:
            if not out[i]:
                continue
            pixel = (float(values[i]) - low) / (high - low) * height
            if any(abs(pixel - other) < self.LABEL_PIXELS for other in kept):
                out[i] = ""
            else:
                kept.append(pixel)
        return out


class IterationAxis(pg.AxisItem):
    """An iteration axis: ticks on whole numbers only."""

    def tickValues(self, minVal, maxVal, size) -> list:  # noqa: N803 (pyqtgraph's names)
        """pyqtgraph's ticks without the fractional ones."""
        levels = super().tickValues(minVal, maxVal, size)
        return [
            (max(spacing, 1.0), [v for v in values if abs(v - round(v)) < 1e-9])
            for spacing, values in levels
        ]


class _VariantCurves:
    """The items one variant owns across the plots."""

    def __init__(self, plots: dict[str, pg.PlotItem], variant: str, z: float) -> None:
        color = variant_color(variant)
        pen = pg.mkPen(color, width=2)
        name = variant_label(variant)
        self.lines: dict[str, pg.PlotDataItem] = {}
        for key in PLOTS:
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
        self._markers: list[tuple[pg.PlotItem, pg.InfiniteLine]] = []
        self._marked: dict[int, dict[str, float]] = {}
        self._history: RunHistory | None = None
        self._dirty: set[str] = set()
        self._next = 0
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
        """Empty every curve and marker (a run was reset)."""
        self._dirty.clear()
        for variant, curves in self._curves.items():
            for item in curves.items():
                item.setData([], [])
            curves.diverged_at = None
            self._set_legend_text(variant, variant_label(variant))
        self.set_markers({})
        self.set_cursor(None)

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

    def set_has_truth(self, has_truth: bool) -> None:
        """Show the PSNR and SSIM plots only when the problem has a ground truth."""
        for key in ("psnr", "ssim"):
            self.plots[key].setVisible(has_truth)

    def update_curves(self, history: RunHistory) -> None:
        """Mark every visible plot for a redraw from ``history`` (done by :meth:`draw_one`)."""
        self._history = history
        self._dirty.update(key for key, plot in self.plots.items() if plot.isVisible())

    def draw_one(self) -> bool:
        """Redraw the next plot waiting for it (round robin); False if none was waiting."""
        if not self._dirty or self._history is None:
            self._dirty.clear()
            return False
        keys = list(PLOTS)
        for offset in range(len(keys)):
            key = keys[(self._next + offset) % len(keys)]
            if key in self._dirty:
                self._next = (keys.index(key) + 1) % len(keys)
                self._dirty.discard(key)
                self._draw(key, self._history)
                return True
        return False

    def flush(self) -> None:
        """Redraw every waiting plot now (before an export or a screenshot)."""
        while self.draw_one():
            pass

    def pending(self) -> bool:
        """True while some plot still waits for its redraw."""
        return bool(self._dirty)

    def _draw(self, key: str, history: RunHistory) -> None:
        """setData on whole arrays for one plot, every variant."""
        for variant, curves in self._curves.items():
            if history.count(variant) == 0:
                continue
            k = history.column(variant, "k")
            if key == "objective":
                self._mark_divergence(variant, curves, history)
            if key == "acceptance":
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
        """Vertical lines at the iterations where parameter changes took effect."""
        changes = {k: {n: v for n, v in c.items() if n in MARKED} for k, c in changes.items()}
        changes = {k: c for k, c in changes.items() if c}
        if changes == self._marked:
            return
        for plot, line in self._markers:
            plot.removeItem(line)
        self._markers.clear()
        for k, change in sorted(changes.items()):
            for key, plot in self.plots.items():
                label = change_label(change) if key == "objective" else None
                line = pg.InfiniteLine(
                    pos=k,
                    angle=90,
                    pen=MARKER_PEN,
                    movable=False,
                    label=label,
                    labelOpts={"position": 0.06, "color": "#9e9e9e"},
                )
                line.setToolTip(f"k = {k}: {change_label(change)}")
                plot.addItem(line, ignoreBounds=True)
                self._markers.append((plot, line))
        self._marked = changes

    def marker_positions(self) -> list[int]:
        """Iterations that carry a change marker."""
        return sorted(self._marked)

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
