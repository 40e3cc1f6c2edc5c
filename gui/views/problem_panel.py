"""The problem side: task, image source, the degradation (kernel, mask, noise level, seed) and the
task's own options."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSpinBox,
    QToolButton,
    QWidget,
)

from core import task_names

from ..state import ExplorerState
from ..state.problem_spec import ProblemSpec
from .field_keys import install_field_keys
from .spec_combo import SpecCombo
from .task_options import TaskOptionsForm

KERNEL_PRESETS = (*(f"levin:{n}" for n in range(1, 9)), "gauss:1", "gauss:2", "gauss:3")
MASK_PRESETS = ("radial:20", "radial:30", "lines:25", "gauss2d:20", "poisson:20")
MAX_DOWNSCALE = 64  # core.build_task takes whole factors 1…64


class ProblemPanel(QGroupBox):
    """Controls for what is solved; every edit is reported, the window rebuilds the task."""

    taskChosen = Signal(str)
    openRequested = Signal()
    sampleRequested = Signal()
    fileOptionRequested = Signal(str)  # "kernel" or "mask": pick a file for it
    optionEdited = Signal(str, object)  # option name, new value
    invalidEntry = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Problem", parent)
        self.task_combo = QComboBox()
        self.task_combo.addItems(task_names())
        self.task_combo.setToolTip("The inverse problem to solve")
        self.source_label = QLabel("bundled sample")
        self.source_label.setWordWrap(True)
        self.open_button = QPushButton("Open…")
        self.open_button.setToolTip("Open an image file (Ctrl+O), or drop one on the window")
        self.sample_button = QPushButton("Sample")
        self.sample_button.setToolTip("Use the task's bundled sample image")
        self.recent_button = QToolButton()
        self.recent_button.setText("Recent")
        self.recent_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        source_row = QHBoxLayout()
        for widget in (self.open_button, self.sample_button, self.recent_button):
            source_row.addWidget(widget)

        self.kernel_combo = SpecCombo(KERNEL_PRESETS)
        self.kernel_combo.setToolTip("Blur kernel: levin:1…8, gauss:SIGMA (pixels), or a file")
        self.mask_combo = SpecCombo(MASK_PRESETS)
        self.mask_combo.setToolTip(
            "k-space mask: radial / lines / gauss2d / poisson :PCT, or a file"
        )
        self.noise_spin = QDoubleSpinBox()
        self.noise_spin.setRange(0.0, 1.0)
        self.noise_spin.setDecimals(4)
        self.noise_spin.setSingleStep(0.005)
        self.noise_spin.setKeyboardTracking(False)
        self.noise_spin.setToolTip("Noise standard deviation on the [0, 1] scale (0.01 = 1 %)")
        self.seed_spin = QSpinBox()
        self.seed_spin.setRange(0, 2_147_483_647)
        self.seed_spin.setKeyboardTracking(False)
        self.seed_spin.setToolTip("Seed of the noise (and mask) generator")
        self.downscale_spin = QSpinBox()
        self.downscale_spin.setRange(1, MAX_DOWNSCALE)
        self.downscale_spin.setPrefix("÷ ")
        self.downscale_spin.setSpecialValueText("off (full size)")
        self.downscale_spin.setKeyboardTracking(False)
        self.downscale_spin.setToolTip("area-average the image by this factor before solving")
        install_field_keys(self.noise_spin, self.seed_spin, self.downscale_spin)
        self.task_options = TaskOptionsForm()

        self._form = QFormLayout(self)
        self._form.addRow("Task", self.task_combo)
        self._form.addRow("Image", self.source_label)
        self._form.addRow("", source_row)
        self._form.addRow("Downscale", self.downscale_spin)
        self._form.addRow("Kernel", self.kernel_combo)
        self._form.addRow("Mask", self.mask_combo)
        self._form.addRow("Noise σ", self.noise_spin)
        self._form.addRow("Seed", self.seed_spin)
        self._form.addRow(self.task_options)
        self._option_widgets = {
            "kernel": self.kernel_combo,
            "mask": self.mask_combo,
            "noise": self.noise_spin,
            "seed": self.seed_spin,
        }

        self.task_combo.activated.connect(self._on_task)
        self.open_button.clicked.connect(self.openRequested)
        self.sample_button.clicked.connect(self.sampleRequested)
        for name in ("kernel", "mask"):
            combo = self._option_widgets[name]
            combo.committed.connect(lambda text, n=name: self.optionEdited.emit(n, text))
            combo.fileRequested.connect(lambda n=name: self.fileOptionRequested.emit(n))
        self.noise_spin.valueChanged.connect(lambda v: self.optionEdited.emit("noise", float(v)))
        self.seed_spin.valueChanged.connect(lambda v: self.optionEdited.emit("seed", int(v)))
        self.downscale_spin.valueChanged.connect(self._on_downscale)
        self.task_options.optionEdited.connect(self.optionEdited)
        self.task_options.invalidEntry.connect(self.invalidEntry)

    def show_problem(self, state: ExplorerState) -> None:
        """Show the state's problem as the user chose it (nothing before one is loaded)."""
        if state.spec is not None:
            self.show_spec(state.spec)

    def show_spec(self, spec: ProblemSpec) -> None:
        """Display ``spec`` (no signals); options the task does not take are hidden."""
        for widget in (self.task_combo, self.noise_spin, self.seed_spin, self.downscale_spin):
            widget.blockSignals(True)
        if self.task_combo.findText(spec.task) < 0:
            self.task_combo.addItem(spec.task)
        self.task_combo.setCurrentText(spec.task)
        self.source_label.setText(Path(spec.image).name if spec.image else "bundled sample")
        self.source_label.setToolTip(spec.image or "the task's bundled sample image")
        self.kernel_combo.show_spec(str(spec.value("kernel") or ""))
        self.mask_combo.show_spec(str(spec.value("mask") or ""))
        self.noise_spin.setValue(float(spec.value("noise") or 0.0))
        self.seed_spin.setValue(int(spec.value("seed") or 0))
        self.downscale_spin.setValue(int(spec.value("downscale") or 1))
        for name, widget in self._option_widgets.items():
            self._form.setRowVisible(widget, spec.accepts(name))
        for widget in (self.task_combo, self.noise_spin, self.seed_spin, self.downscale_spin):
            widget.blockSignals(False)
        self.task_options.show_spec(spec)

    def _on_downscale(self, factor: int) -> None:
        self.optionEdited.emit("downscale", int(factor) if factor > 1 else None)

    def _on_task(self, _index: int) -> None:
        self.taskChosen.emit(self.task_combo.currentText())
