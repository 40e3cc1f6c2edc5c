"""Where the explorer window's panels sit: the settings on the left (scrolling, never clipped), the
images with the history bar above the plots in the middle, the certificate in a dock on the right.
The splitters are named so that their positions are remembered (:mod:`gui.settings`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDockWidget,
    QMainWindow,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

SIDE_MIN_WIDTH = 370
WINDOW_SIZE = (1700, 950)


@dataclass(frozen=True)
class WindowLayout:
    """The pieces of the layout a window keeps: its splitters and the certificate dock."""

    splitter: QSplitter
    views_splitter: QSplitter
    certificate_dock: QDockWidget

    def splitters(self) -> dict[str, QSplitter]:
        """The splitters whose positions are remembered, by name."""
        return {"splitter": self.splitter, "viewsSplitter": self.views_splitter}


def lay_out(
    window: QMainWindow,
    side: Sequence[QWidget],
    images: QWidget,
    history_bar: QWidget,
    plots: QWidget,
    certificate: QWidget,
) -> WindowLayout:
    """Arrange ``window``: the ``side`` panels stacked on the left, ``images`` over
    ``history_bar`` over ``plots`` in the middle, ``certificate`` docked on the right."""
    panel = QWidget()
    side_layout = QVBoxLayout(panel)
    for widget in side:
        side_layout.addWidget(widget)
    side_layout.addStretch(1)
    scroll = QScrollArea()
    scroll.setWidget(panel)
    scroll.setWidgetResizable(True)
    bar = scroll.verticalScrollBar().sizeHint().width()
    scroll.setMinimumWidth(max(SIDE_MIN_WIDTH, panel.minimumSizeHint().width() + bar + 4))
    scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    image_area = QWidget()
    image_layout = QVBoxLayout(image_area)
    image_layout.setContentsMargins(0, 0, 0, 0)
    image_layout.addWidget(images, 1)
    image_layout.addWidget(history_bar)
    views_splitter = QSplitter(Qt.Orientation.Vertical)
    views_splitter.setObjectName("viewsSplitter")
    views_splitter.addWidget(image_area)
    views_splitter.addWidget(plots)
    views_splitter.setStretchFactor(0, 2)
    views_splitter.setStretchFactor(1, 3)
    splitter = QSplitter(Qt.Orientation.Horizontal)
    splitter.setObjectName("mainSplitter")
    splitter.addWidget(scroll)
    splitter.addWidget(views_splitter)
    splitter.setStretchFactor(1, 1)
    window.setCentralWidget(splitter)
    dock = QDockWidget("Convergence certificate", window)
    dock.setObjectName("certificateDock")
    dock.setWidget(certificate)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    window.resize(*WINDOW_SIZE)
    return WindowLayout(splitter, views_splitter, dock)
