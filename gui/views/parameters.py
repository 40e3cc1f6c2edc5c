"""The parameter panel: C, μ, γ (log sliders + exact spin boxes), λ, ρ and the σ schedule, a preset
chooser (guaranteed / paper), and a live readout of Theorem 1's conditions 2C < μ and γ < 1/L that
turns red when one is violated.

Typed values that are not numbers, not finite, zero or negative where that makes no sense, or
absurdly large are refused with a message (``refused``); values that merely leave the guarantee are
allowed and flagged by the readout.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from core import Parameters
from core.algorithm import proximal_weight
from core.params import MAX_VALUE, PRESETS

from .guarded_spin import GuardedSpinBox
from .log_slider import LogSliderSpin
from .style import CONDITION_BAD_STYLE, CONDITION_OK_STYLE

SMALLEST = 1e-15  # the spin boxes' floor for strictly positive values
LOG_RANGES = {  # name: (slider low, slider high, label, tooltip)
    "C": (1e-4, 10.0, "C", "Check constant C^k: accept ũ when ‖d‖ ≤ C‖ũ − x^k‖"),
    "mu": (1e-4, 100.0, "μ", "Proximal weight μ^k of Ψ + μ/2‖· − x^k‖²"),
    "gamma": (1e-4, 10.0, "γ", "Step size γ^k of the proximal steps"),
    "lam": (1e-7, 10.0, "λ", "Prior weight λ in g"),
    "rho": (1e-4, 100.0, "ρ", "Weight of the fidelity step A_f"),
}
SIGMA_FIELDS = {
    "sigma_start": ("σ start", "Denoiser noise level at k = 0 (on the [0, 1] intensity scale)"),
    "sigma_end": ("σ end", "Denoiser noise level after the schedule ([0, 1] scale)"),
    "sigma_g": (
        "σ of g_σ",
        "Noise level σ of the learned prior g_σ: part of Ψ itself, so a change re-evaluates Ψ "
        "and L = λL_g(σ) ([0, 1] scale; shown only with the learned prior)",
    ),
}
SIGMA_STEPS_MAX = 100_000
LABELS = {
    **{name: spec[2] for name, spec in LOG_RANGES.items()},
    **{name: spec[0] for name, spec in SIGMA_FIELDS.items()},
    "sigma_steps": "σ steps",
}
CUSTOM = "custom"
PRESET_TIPS = {
    "guaranteed": "The task's defaults: inside Theorem 1's conditions (2C < μ, γ < 1/L)",
    "paper": "The authors' public check code: C = 0.08, μ = 1e-3 — OUTSIDE 2C < μ, no guarantee",
    CUSTOM: "Edited by hand",
}


class ParameterPanel(QGroupBox):
    """Editable algorithm parameters; emits ``changed`` with the fields a user edited."""

    changed = Signal(dict)
    presetRequested = Signal(str)
    refused = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Parameters", parent)
        self._values = Parameters().as_dict()
        self._defaults: Parameters | None = None
        self._lipschitz = 1.0
        self._learned_lipschitz = None  # (λ, σ) → λ L_g(σ) when Ψ holds the learned prior
        self._proximal_lipschitz = None  # σ → L_g(σ) when Ψ holds Prox-PnP's λφ_σ
        self.preset_combo = QComboBox()
        for index, name in enumerate((*PRESETS, CUSTOM)):
            self.preset_combo.addItem(name, name)
            self.preset_combo.setItemData(
                index, PRESET_TIPS.get(name, name), Qt.ItemDataRole.ToolTipRole
            )
        self.preset_combo.setToolTip(
            "guaranteed: the task's defaults, inside the guarantee; paper: the authors' setting "
            "C = 0.08, μ = 1e-3, outside it"
        )
        self.preset_combo.activated.connect(self._on_preset)
        form = QFormLayout()
        form.addRow("Preset", self.preset_combo)
        self.sliders: dict[str, LogSliderSpin] = {}
        for name, (low, high, label, tip) in LOG_RANGES.items():
            floor = 0.0 if name == "lam" else SMALLEST
            slider = LogSliderSpin(
                low,
                high,
                lambda v, n=name: self.problem(n, v),
                limits=(floor, MAX_VALUE),
                label=label,
            )
            slider.setToolTip(tip)
            slider.valueChanged.connect(lambda value, n=name: self._edited(n, value))
            slider.refused.connect(self.refused)
            form.addRow(label, slider)
            self.sliders[name] = slider
        self.sigma_spins: dict[str, GuardedSpinBox] = {}
        self.sigma_readouts: dict[str, QLabel] = {}
        for name, (label, tip) in SIGMA_FIELDS.items():
            spin = GuardedSpinBox(lambda v, n=name: self.problem(n, v), 0.0, 1.0, label=label)
            spin.setSingleStep(1 / 255)
            spin.setToolTip(tip)
            spin.valueChanged.connect(lambda value, n=name: self._edited(n, value))
            spin.refused.connect(self.refused)
            readout = QLabel()
            readout.setToolTip("The same σ on the 0–255 scale of the denoising literature")
            row = QWidget()
            row_layout = QHBoxLayout(row)
            row_layout.setContentsMargins(0, 0, 0, 0)
            row_layout.addWidget(spin, 1)
            row_layout.addWidget(readout)
            form.addRow(label, row)
            self.sigma_rows = getattr(self, "sigma_rows", {})
            self.sigma_rows[name] = row
            self.sigma_spins[name] = spin
            self.sigma_readouts[name] = readout
        self.sigma_steps = GuardedSpinBox(
            lambda v: self.problem("sigma_steps", v),
            0,
            SIGMA_STEPS_MAX,
            True,
            LABELS["sigma_steps"],
        )
        self.sigma_steps.setToolTip("Iterations over which σ decreases geometrically (0: σ end)")
        self.sigma_steps.valueChanged.connect(lambda value: self._edited("sigma_steps", value))
        self.sigma_steps.refused.connect(self.refused)
        form.addRow("σ steps", self.sigma_steps)

        self.mu_condition = QLabel()
        self.gamma_condition = QLabel()
        for label in (self.mu_condition, self.gamma_condition):
            label.setWordWrap(True)  # the learned L's readout is long: wrap, never widen the panel
        for label in (self.mu_condition, self.gamma_condition):
            label.setToolTip("Theorem 1 needs 0 < 2C < μ and 0 < γ < 1/L for its guarantee")

        self.form = form
        form.setRowVisible(self.sigma_rows["sigma_g"], False)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.mu_condition)
        layout.addWidget(self.gamma_condition)
        self.set_parameters(Parameters())

    # ---- public API -----------------------------------------------------------------------
    def spin(self, name: str) -> GuardedSpinBox:
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
        self._update_sigma_readouts()
        self._update_conditions()

    def _update_sigma_readouts(self) -> None:
        for name, readout in self.sigma_readouts.items():
            readout.setText(sigma_255_text(self.sigma_spins[name].value()))

    def set_defaults(self, defaults: Parameters) -> None:
        """The task's default parameters, which the presets start from."""
        self._defaults = defaults
        self._update_conditions()

    def preset_parameters(self, name: str) -> Parameters:
        """The task's defaults with preset ``name`` applied (ValueError for an unknown name)."""
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}: choose {', '.join(PRESETS)}")
        return (self._defaults or Parameters()).with_changes(**PRESETS[name])

    def preset(self) -> str:
        """The preset the current values match, or ``custom``."""
        if self._defaults is not None:
            for name in PRESETS:
                if self.preset_parameters(name).as_dict() == self._values:
                    return name
        return CUSTOM

    def set_lipschitz(self, lipschitz: float, learned=None, proximal=None) -> None:
        """L, the Lipschitz constant of ∇s, for the γ < 1/L readout.

        ``learned``: a function (λ, σ) → λ L_g(σ) when Ψ holds the learned prior, so that the readout
        follows edits of λ and σ of g_σ (L_g is an estimate, and the readout says so).
        ``proximal``: a function σ → L_g(σ) when Ψ holds Prox-PnP's λφ_σ (L = L_f; D_σ is a prox
        when L_g < 1, shown beside the condition).
        """
        self._lipschitz = float(lipschitz)
        self._learned_lipschitz = learned
        self._proximal_lipschitz = proximal
        visible = learned is not None or proximal is not None
        self.form.setRowVisible(self.sigma_rows["sigma_g"], visible)
        lam = self.sliders["lam"]
        lam.setEnabled(proximal is None)  # gs-prox: λ = 1/γ follows the γ slider
        lam.setToolTip(
            "λ = 1/γ with the gs-prox prior: its proximal map is D_σ only at weight γλ = 1"
            if proximal is not None
            else ""
        )
        self._update_conditions()

    def lipschitz(self) -> float:
        """L for the current values (λ L_g(σ) with the learned prior)."""
        if self._learned_lipschitz is not None:
            try:
                return float(self._learned_lipschitz(self._values["lam"], self._values["sigma_g"]))
            except (ValueError, RuntimeError):
                return self._lipschitz
        return self._lipschitz

    def _denoiser_readout(self) -> str:
        """L_g of D_σ's potential, estimated, against the Prox-PnP condition L_g < 1."""
        try:
            lg = float(self._proximal_lipschitz(self._values["sigma_g"]))
        except (ValueError, RuntimeError):
            return "L_g unknown"
        return f"L_g ≈ {lg:.3g} estimated ({'<' if lg < 1 else '≥'} 1: D_σ {'is' if lg < 1 else 'may not be'} a prox)"

    def conditions(self) -> dict[str, bool]:
        """Which of Theorem 1's conditions hold now."""
        return self.parameters().conditions(self.lipschitz())

    def problem(self, name: str, value: float) -> str | None:
        """Why ``value`` cannot be used for parameter ``name`` (one line), or None if it can."""
        label = LABELS.get(name, name)
        if name in SIGMA_FIELDS and not 0.0 <= value <= 1.0:
            return f"{label} = {value:g} refused: σ is on the [0, 1] intensity scale"
        if name == "sigma_steps" and value > SIGMA_STEPS_MAX:
            return f"σ steps = {value:g} refused: at most {SIGMA_STEPS_MAX}"
        if name in LOG_RANGES and name != "lam" and 0 < value < SMALLEST:
            return f"{label} = {value:g} refused: too small (at least {SMALLEST:g})"
        try:
            self.parameters().with_changes(**{name: int(value) if name == "sigma_steps" else value})
        except ValueError as exc:
            return f"{label} = {value:g} refused: {exc}"
        return None

    # ---- internals ------------------------------------------------------------------------
    def _on_preset(self, _index: int) -> None:
        name = self.preset_combo.currentData()
        if name == CUSTOM:
            self._show_preset()
            return
        self.presetRequested.emit(name)

    def _edited(self, name: str, value: float) -> None:
        value = int(value) if name == "sigma_steps" else float(value)
        if self._values.get(name) == value:
            return
        self._values[name] = value
        changes = {name: value}
        if name == "gamma" and self._proximal_lipschitz is not None and value > 0:
            changes["lam"] = self._values["lam"] = proximal_weight(value)  # gs-prox: λ = 1/γ
            self.sliders["lam"].set_value(changes["lam"])
        self._update_sigma_readouts()
        self._update_conditions()
        self.changed.emit(changes)

    def _show_preset(self) -> None:
        index = self.preset_combo.findData(self.preset())
        self.preset_combo.blockSignals(True)
        self.preset_combo.setCurrentIndex(index)
        self.preset_combo.blockSignals(False)

    def _update_conditions(self) -> None:
        C, mu, gamma = self._values["C"], self._values["mu"], self._values["gamma"]
        L = self.lipschitz()
        held = self.parameters().conditions(L)  # Thm 1's conditions, from core (one place)
        ok_mu, ok_gamma = held["2C<mu"], held["gamma<1/L"]
        inverse = f"{1 / L:.4g}" if L > 0 else "∞"
        what = f"L = λL_g = {L:.4g}, L_g estimated" if self._learned_lipschitz else f"L = {L:.4g}"
        if self._proximal_lipschitz is not None:
            what = f"L = L_f = {L:.4g}; λ = 1/γ; {self._denoiser_readout()}"
        self.mu_condition.setText(
            f"2C = {2 * C:.4g} {'<' if ok_mu else '≥'} μ = {mu:.4g}  "
            + ("✓" if ok_mu else "✗ guarantee lost")
        )
        self.gamma_condition.setText(
            f"γ = {gamma:.4g} {'<' if ok_gamma else '≥'} 1/L = {inverse}  ({what})  "
            + ("✓" if ok_gamma else "✗ guarantee lost")
        )
        self.mu_condition.setStyleSheet(CONDITION_OK_STYLE if ok_mu else CONDITION_BAD_STYLE)
        self.gamma_condition.setStyleSheet(CONDITION_OK_STYLE if ok_gamma else CONDITION_BAD_STYLE)
        self.mu_condition.setProperty("violated", not ok_mu)
        self.gamma_condition.setProperty("violated", not ok_gamma)
        self._show_preset()


def sigma_255_text(sigma: float) -> str:
    """σ on the 0–255 scale, e.g. ``= 30/255`` (one decimal when it is not whole)."""
    scaled = sigma * 255
    return f"= {scaled:.0f}/255" if abs(scaled - round(scaled)) < 0.05 else f"= {scaled:.1f}/255"


def learned_lipschitz(problem):
    """(λ, σ) → λ L_g(σ) for a problem whose Ψ holds the learned prior, else None."""
    prior = problem.prior
    if not getattr(prior, "smooth", False):
        return None

    def lipschitz(lam: float, sigma: float) -> float:
        return lam * prior.lipschitz(sigma if sigma > 0 else None)

    return lipschitz


def proximal_lipschitz(problem):
    """σ → L_g(σ) for a problem whose Ψ holds Prox-PnP's λφ_σ (prox D_σ), else None."""
    prior = problem.prior
    if not getattr(prior, "weight_from_step", False):
        return None
    return lambda sigma: prior.lipschitz(sigma if sigma > 0 else None)


def objective_note(problem) -> str:
    """One sentence on what Ψ is made of, for the certificate ('' for a hand-made prior)."""
    prior = problem.prior
    if getattr(prior, "weight_from_step", False):
        return (
            f"Ψ holds a learned term: λφ_σ (Prox-PnP), whose proximal map is the gradient-step "
            f"denoiser D_σ = Id − ∇g_σ (σ = {prior.sigma * 255:.3g}/255), so λ = 1/γ and L = L_f. "
            f"D_σ is the prox of a weakly convex φ_σ when L_g < 1; L_g ≈ {prior.lipschitz():.3g} is "
            "ESTIMATED by power iteration at the start point, not certified. Ψ is +∞ at points D_σ "
            "did not produce (x⁰, naive's iterates)."
        )
    if not getattr(prior, "smooth", False):
        return ""
    return (
        f"Ψ holds a learned term: λ g_σ with g_σ(x) = ½‖x − N_σ(x)‖² (σ = {prior.sigma * 255:.3g}/255)."
        f" L = λL_g uses L_g ≈ {prior.lipschitz():.3g}, ESTIMATED by power iteration on "
        "Hessian-vector products at the start point — not a certified bound, so the guarantee "
        "holds as far as that estimate does."
    )
