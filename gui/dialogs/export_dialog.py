"""File → Export…: the folder, which files, the plots' width and the movie's length."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core.movie import mp4_available

from .. import settings
from ..export import ALL_ITEMS, ITEMS, ExportOptions


class ExportDialog(QDialog):
    """Choose what to export where; :meth:`options` and :meth:`folder` read the choice."""

    def __init__(self, folder: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Export")
        self.folder_edit = QLineEdit(folder)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        folder_row = QHBoxLayout()
        folder_row.addWidget(self.folder_edit, 1)
        folder_row.addWidget(browse)

        ticked = settings.export_items(ALL_ITEMS)
        self.boxes: dict[str, QCheckBox] = {}
        grid = QGridLayout()
        for index, (item, (names, label)) in enumerate(ITEMS.items()):
            box = QCheckBox(label)
            box.setToolTip(", ".join(names))
            box.setChecked(item in ticked)
            grid.addWidget(box, index // 2, index % 2)
            self.boxes[item] = box
        if not mp4_available():
            self.boxes["movie"].setToolTip("iterates.gif (MP4 needs the package imageio-ffmpeg)")

        self.width_spin = QSpinBox()
        self.width_spin.setRange(*settings.PLOT_WIDTH_RANGE)
        self.width_spin.setValue(settings.plot_width())
        self.width_spin.setSuffix(" px")
        self.frames_spin = QSpinBox()
        self.frames_spin.setRange(*settings.MOVIE_FRAMES_RANGE)
        self.frames_spin.setValue(settings.movie_frames())
        self.frames_spin.setToolTip("Stored iterates are spread evenly over at most this many")
        form = QFormLayout()
        form.addRow("Folder", folder_row)
        form.addRow("Plot width", self.width_spin)
        form.addRow("Movie frames", self.frames_spin)
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Export")
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addLayout(grid)
        layout.addWidget(buttons)

    def folder(self) -> str:
        """The chosen output folder."""
        return self.folder_edit.text().strip()

    def options(self, error_max: float = 0.2) -> ExportOptions:
        """The chosen items and sizes."""
        items = {item for item, box in self.boxes.items() if box.isChecked()}
        return ExportOptions(
            items=items,
            plot_width=self.width_spin.value(),
            movie_frames=self.frames_spin.value(),
            error_max=error_max,
        )

    def remember(self) -> None:
        """Keep the choices for next time (QSettings)."""
        options = self.options()
        settings.remember_export(options.items, options.plot_width, options.movie_frames)

    def _browse(self) -> None:
        start = Path(self.folder())  # a proposed new folder does not exist yet: start beside it
        start = start if start.is_dir() else start.parent
        folder = QFileDialog.getExistingDirectory(self, "Export into folder", str(start))
        if folder:
            self.folder_edit.setText(folder)
