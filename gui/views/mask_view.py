"""A small view of the MRI k-space sampling mask (DC at the centre), beside the observation."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QSizePolicy, QVBoxLayout, QWidget

MASK_WIDTH = 190
TITLE_STYLE = "QLabel { background: black; color: rgb(200, 200, 200); font-size: 9pt; }"


class MaskView(QWidget):
    """The mask as a black/white image with its title; hidden while there is no mask."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.title = QLabel()
        self.title.setWordWrap(True)
        self.title.setAlignment(Qt.AlignmentFlag.AlignHCenter)
        self.title.setToolTip("The k-space samples measured (white), DC at the centre")
        self.title.setStyleSheet(TITLE_STYLE)  # like the image panels' titles
        self.graphics = pg.GraphicsLayoutWidget()
        self.view = self.graphics.addViewBox(lockAspect=True, invertY=True, enableMenu=False)
        self.view.setDefaultPadding(0.0)
        self.item = pg.ImageItem(axisOrder="row-major")
        self.view.addItem(self.item)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.title)
        layout.addWidget(self.graphics, 1)
        self.setFixedWidth(MASK_WIDTH)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        self._mask: np.ndarray | None = None
        self.setVisible(False)

    def show_mask(self, mask: np.ndarray | None, title: str = "") -> None:
        """Show ``mask`` (H, W) in 0 … 1 under ``title``; None hides the view."""
        self._mask = None if mask is None else np.ascontiguousarray(mask, dtype=np.float32)
        if self._mask is None:
            self.item.clear()
            self.title.setText("")
            self.setVisible(False)
            return
        self.item.setImage(self._mask, autoLevels=False, levels=(0.0, 1.0))
        self.title.setText(title)
        self.view.autoRange(padding=0.0)
        self.setVisible(True)

    def mask(self) -> np.ndarray | None:
        """The mask shown (None while hidden)."""
        return self._mask

    def text(self) -> str:
        """The title shown."""
        return self.title.text()
