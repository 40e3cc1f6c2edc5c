"""What the image panels' items draw: each array at its levels, a large one as an 8-bit picture
sampled to the screen pixels its view shows, placed over the whole image.

A zoomed-out view of a large image shows several image pixels on each screen pixel, and Qt draws
it by the nearest ones: the panel then makes its picture from every ``step``-th pixel
(:class:`gui.views.image_arrays.ItemData`, ``step`` from :func:`gui.views.image_grid.display_step`)
and scales the item by ``step``, so the screen shows the same for far less work (at 2048² in a
370-pixel view: 512² pixels made and drawn, not 4M). A zoom, pan or resize that changes a view's
step makes that panel's picture again (the array itself, read by the readout and the exports, keeps
every pixel).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QTimer

from .image_arrays import ItemData, is_large
from .image_grid import display_step


def make_colormap(name: str) -> pg.ColorMap | None:
    """A pyqtgraph colormap by name; None for ``gray`` (black → white, drawn as 8-bit gray)."""
    return None if name == "gray" else pg.colormap.get(name)


class PanelPictures(QObject):
    """Draws arrays into the panels' ImageItems, sampled to their views' screen pixels."""

    def __init__(
        self,
        views: Mapping[str, pg.ViewBox],
        device_ratio: Callable[[], float],
        parent: QObject | None = None,
    ) -> None:
        """``device_ratio()``: the screen's physical pixels per logical one."""
        super().__init__(parent)
        self._views = dict(views)
        self._device_ratio = device_ratio
        self._item_data = ItemData()  # large images: 8-bit pictures in shared scratch buffers
        self._steps: dict[str, int] = {}  # panel → image pixels one screen pixel shows (known)
        self._drawn: dict[str, tuple] = {}  # panel → (item, array, levels, lut, step) last drawn
        self._restep = QTimer(self)  # after a zoom, pan or resize (not inside Qt's paint turn)
        self._restep.setSingleShot(True)
        self._restep.timeout.connect(self._on_restep)
        for view in self._views.values():
            view.sigTransformChanged.connect(self._on_view_transform)

    def draw(
        self,
        panel: str,
        item: pg.ImageItem,
        arr: np.ndarray,
        levels: tuple[float, float],
        lut: bool,
    ) -> None:
        """Give ``item`` ``arr`` at ``levels`` (``lut``: drawn through a colormap's table)."""
        step = self._step(panel) if is_large(arr.shape) else 1
        data, item_levels, step = self._item_data(arr, levels, lut, step)
        item.setImage(data, autoLevels=False, levels=item_levels)
        last = self._drawn.get(panel)
        if last is None or (last[1].shape, last[4]) != (arr.shape, step):  # spans the image
            item.setRect(0, 0, data.shape[1] * step, data.shape[0] * step)
        self._drawn[panel] = (item, arr, levels, lut, step)

    def cleared(self, panel: str) -> None:
        """``panel``'s item was cleared."""
        self._drawn.pop(panel, None)

    def drawn_step(self, panel: str) -> int:
        """Every how many pixels ``panel``'s picture was sampled (1: every pixel)."""
        drawn = self._drawn.get(panel)
        return drawn[4] if drawn else 1

    def _step(self, panel: str) -> int:
        step = self._steps.get(panel)
        if step is None:
            step = self._steps[panel] = display_step(self._views[panel], self._device_ratio())
        return step

    def _on_view_transform(self, view: pg.ViewBox) -> None:
        """A view zoomed, panned or resized: its step is measured again when next needed."""
        for panel, shown in self._views.items():
            if shown is view:
                self._steps.pop(panel, None)
        if any(is_large(drawn[1].shape) for drawn in self._drawn.values()):
            self._restep.start(0)

    def _on_restep(self) -> None:
        """Draw again the large pictures whose view now shows another number of pixels."""
        for panel, (item, arr, levels, lut, step) in list(self._drawn.items()):
            if is_large(arr.shape) and step != self._step(panel):
                self.draw(panel, item, arr, levels, lut)
