"""The parameter panel: C, μ, γ (log sliders + exact spin boxes), λ, ρ and the σ schedule, with a
live readout of Theorem 1's conditions 2C < μ and γ < 1/L that turns red when one is violated."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QLabel,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from core import Parameters

from .log_slider import LogSliderSpin
from .style import CONDITION_BAD_STYLE, CONDITION_OK_STYLE

LOG_RANGES = {  # name: (low, high, label, tooltip)
    "C": (1e-4, 10.0, "C", "Check constant C^k: accept ũ when ‖d‖ ≤ C‖ũ − x^k‖"),
    "mu": (1e-4, 100.0, "μ", "Proximal weight μ^k of Ψ + μ/2‖· − x^k‖²"),
    "gamma": (1e-4, 10.0, "γ", "Step size γ^k of the proximal steps"),
    "lam": (1e-7, 10.0, "λ", "Prior weight λ in g"),
    "rho": (1e-4, 100.0, "ρ", "Weight of the fidelity step A_f"),
}
SIGMA_FIELDS = {
    "sigma_start": ("σ start", "Denoiser noise level at k = 0 (on the [0, 1] intensity scale)"),
    "sigma_end": ("σ end", "Denoiser noise level after the schedule ([0, 1] scale)"),
}


class ParameterPanel(QGroupBox):
    """Editable algorithm parameters; emits ``changed`` with the fields a user edited."""

    changed = Signal(dict)
    defaultsRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Parameters", parent)
        self._values = Parameters().as_dict()
        self._lipschitz = 1.0
        self.sliders: dict[str, LogSliderSpin] = {}
        form = QFormLayout()
        for name, (low, high, label, tip) in LOG_RANGES.items():
            slider = LogSliderSpin(low, high)
            slider.setToolTip(tip)
            slider.valueChanged.connect(lambda value, n=name: self._edited(n, value))
            form.addRow(label, slider)
            self.sliders[name] = slider
        self.sigma_spins: dict[str, QDoubleSpinBox] = {}
        for name, (label, tip) in SIGMA_FIELDS.items():
            spin = QDoubleSpinBox()
            spin.setRange(0.0, 1.0)
            spin.setDecimals(5)
            spin.setSingleStep(1 / 255)
            spin.setKeyboardTracking(False)
            spin.setToolTip(tip)
            spin.valueChanged.connect(lambda value, n=name: self._edited(n, value))
            form.addRow(label, spin)
            self.sigma_spins[name] = spin
        self.sigma_steps = QSpinBox()
        self.sigma_steps.setRange(0, 100_000)
        self.sigma_steps.setKeyboardTracking(False)
        self.sigma_steps.setToolTip("Iterations over which σ decreases geometrically (0: σ end)")
        self.sigma_steps.valueChanged.connect(lambda value: self._edited("sigma_steps", value))
        form.addRow("σ steps", self.sigma_steps)

        self.mu_condition = QLabel()
        self.gamma_condition = QLabel()
        for label in (self.mu_condition, self.gamma_condition):
            label.setToolTip("Theorem 1 needs 0 < 2C < μ and 0 < γ < 1/L for its guarantee")
        self.defaults_button = QPushButton("Task defaults")
        self.defaults_button.setToolTip("Restore the task's default parameters")
        self.defaults_button.clicked.connect(self.defaultsRequested)

        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.mu_condition)
        layout.addWidget(self.gamma_condition)
        layout.addWidget(self.defaults_button)
        self.set_parameters(Parameters())

    # ---- public API -----------------------------------------------------------------------
    def spin(self, name: str) -> QDoubleSpinBox | QSpinBox:
        """The spin box that edits parameter ``name``."""
        if name in self.sliders:
            return self.sliders[name].spin
        if name in self.sigma_spins:
            return self.sigma_spins[name]
        if name == "sigma_steps":
            return self.sigma_steps
        raise KeyError(name)

    def parameters(self) -> Parameters:
        """The parameters as edited (exact values; raises ValueError if invalid)."""
        values = dict(self._values)
        values["sigma_steps"] = int(values["sigma_steps"])
        return Parameters(**values)

    def set_parameters(self, parameters: Parameters) -> None:
        """Show ``parameters`` without emitting ``changed``."""
        self._values = parameters.as_dict()
        for name, slider in self.sliders.items():
            slider.set_value(self._values[name])
        for name, spin in self.sigma_spins.items():
            spin.blockSignals(True)
            spin.setValue(self._values[name])
            spin.blockSignals(False)
        self.sigma_steps.blockSignals(True)
        self.sigma_steps.setValue(int(self._values["sigma_steps"]))
        self.sigma_steps.blockSignals(False)
        self._update_conditions()

    def set_lipschitz(self, lipschitz: float) -> None:
        """L, the Lipschitz constant of ∇f, for the γ < 1/L readout."""
        self._lipschitz = float(lipschitz)
        self._update_conditions()

    def conditions(self) -> dict[str, bool]:
        """Which of Theorem 1's conditions hold now."""
        return self.parameters().conditions(self._lipschitz)

    # ---- internals ------------------------------------------------------------------------
    def _edited(self, name: str, value: float) -> None:
        value = int(value) if name == "sigma_steps" else float(value)
        if self._values.get(name) == value:
            return
        self._values[name] = value
        self._update_conditions()
        self.changed.emit({name: value})

    def _update_conditions(self) -> None:
        C, mu, gamma = self._values["C"], self._values["mu"], self._values["gamma"]
        L = self._lipschitz
        ok_mu = 2 * C < mu
        ok_gamma = gamma * L < 1.0
        inverse = f"{1 / L:.4g}" if L > 0 else "∞"
        self.mu_condition.setText(
            f"2C = {2 * C:.4g} {'<' if ok_mu else '≥'} μ = {mu:.4g}  "
            + ("✓" if ok_mu else "✗ guarantee lost")
        )
        self.gamma_condition.setText(
            f"γ = {gamma:.4g} {'<' if ok_gamma else '≥'} 1/L = {inverse}  (L = {L:.4g})  "
            + ("✓" if ok_gamma else "✗ guarantee lost")
        )
        self.mu_condition.setStyleSheet(CONDITION_OK_STYLE if ok_mu else CONDITION_BAD_STYLE)
        self.gamma_condition.setStyleSheet(CONDITION_OK_STYLE if ok_gamma else CONDITION_BAD_STYLE)
        self.mu_condition.setProperty("violated", not ok_mu)
        self.gamma_condition.setProperty("violated", not ok_gamma)
