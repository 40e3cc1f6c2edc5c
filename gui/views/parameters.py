"""The parameter panel: C, μ, γ (log sliders + exact spin boxes), λ, ρ and the σ schedule, a preset
chooser (guaranteed / paper), and a live readout of Theorem 1's conditions 2C < μ and γ < 1/L that
turns red when one is violated.

The panel binds to the :class:`ExplorerState`: it shows the state's parameters (its ``parameters``
event) and writes every edit through :meth:`ExplorerState.edit`, which validates it once; it keeps
no copy of the values. A box's own scale (σ on [0, 1], σ steps, the smallest positive number) is
checked by the box. Typed values that are not numbers, not finite, zero or negative where that makes
no sense, or absurdly large are refused with a message (``refused``); values that merely leave the
guarantee are allowed and flagged by the readout. What Ψ's prior means for L and λ is the engine's
(:mod:`core.objective_readouts`).
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
from core.objective_readouts import (
    denoiser_lipschitz,
    learned_lipschitz,
    linked_changes,
    lipschitz_at,
    proximal_lipschitz,
)
from core.params import MAX_VALUE, PRESETS

from ..state import ExplorerState
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
    """Editable algorithm parameters, bound to the explorer state.

    ``changed`` carries the fields a user edit changed (after the state took them), ``refused`` a
    one-line reason an edit was not taken, ``message`` a note for the status bar."""

    changed = Signal(dict)
    refused = Signal(str)
    message = Signal(str)

    def __init__(self, state: ExplorerState, parent: QWidget | None = None) -> None:
        super().__init__("Parameters", parent)
        self.state = state
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
                lambda v, n=name: self._scale_problem(n, v),
                limits=(floor, MAX_VALUE),
                label=label,
                commit=lambda v, n=name: self._commit(n, v),
            )
            slider.setToolTip(tip)
            slider.valueChanged.connect(lambda value, n=name: self._on_value(n, value))
            slider.refused.connect(self.refused)
            form.addRow(label, slider)
            self.sliders[name] = slider
        self.sigma_spins: dict[str, GuardedSpinBox] = {}
        self.sigma_readouts: dict[str, QLabel] = {}
        self.sigma_rows: dict[str, QWidget] = {}
        for name, (label, tip) in SIGMA_FIELDS.items():
            spin = self._box(name, 0.0, 1.0, label)
            spin.setSingleStep(1 / 255)
            spin.setToolTip(tip)
            readout = QLabel()
            readout.setToolTip("The same σ on the 0–255 scale of the denoising literature")
            row = QWidget()
            row_layout = QHBoxLayout(row)
            row_layout.setContentsMargins(0, 0, 0, 0)
            row_layout.addWidget(spin, 1)
            row_layout.addWidget(readout)
            form.addRow(label, row)
            self.sigma_rows[name] = row
            self.sigma_spins[name] = spin
            self.sigma_readouts[name] = readout
        self.sigma_steps = self._box("sigma_steps", 0, SIGMA_STEPS_MAX, LABELS["sigma_steps"], True)
        self.sigma_steps.setToolTip("Iterations over which σ decreases geometrically (0: σ end)")
        form.addRow("σ steps", self.sigma_steps)

        self.mu_condition = QLabel()
        self.gamma_condition = QLabel()
        for label in (self.mu_condition, self.gamma_condition):
            label.setWordWrap(True)  # the learned L's readout is long: wrap, never widen the panel
            label.setToolTip("Theorem 1 needs 0 < 2C < μ and 0 < γ < 1/L for its guarantee")

        self.form = form
        form.setRowVisible(self.sigma_rows["sigma_g"], False)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.mu_condition)
        layout.addWidget(self.gamma_condition)
        self._show(self.parameters())
        state.events.problem.connect(self._on_problem)
        state.events.parameters.connect(self._on_parameters)

    def _box(
        self, name: str, low: float, high: float, label: str, whole: bool = False
    ) -> GuardedSpinBox:
        spin = GuardedSpinBox(
            lambda v: self._scale_problem(name, v),
            low,
            high,
            whole,
            label,
            commit=lambda v: self._commit(name, v),
        )
        spin.valueChanged.connect(lambda value: self._on_value(name, value))
        spin.refused.connect(self.refused)
        return spin

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
        """The parameters shown: the state's (its defaults before a problem is loaded)."""
        return self.state.shown if self.state.shown is not None else Parameters()

    def set_parameters(self, parameters: Parameters) -> None:
        """Make ``parameters`` the ones in force: one edit through the state of the fields that
        differ, without ``changed`` (ValueError when no problem is loaded)."""
        self.state.edit(**parameters.as_dict())

    def preset_parameters(self, name: str) -> Parameters:
        """The task's defaults with preset ``name`` applied (ValueError for an unknown name)."""
        if name not in PRESETS:
            raise ValueError(f"unknown preset {name!r}: choose {', '.join(PRESETS)}")
        return (self.state.defaults or Parameters()).with_changes(**PRESETS[name])

    def preset(self) -> str:
        """The preset the current values match, or ``custom``."""
        if self.state.defaults is not None:
            for name in PRESETS:
                if self.preset_parameters(name) == self.parameters():
                    return name
        return CUSTOM

    def apply_preset(self, name: str) -> bool:
        """Apply a parameter preset (guaranteed / paper) on top of the task's defaults."""
        if not self.state.loaded:
            return False
        try:
            changed = self.state.edit(**self.preset_parameters(name).as_dict())
        except ValueError as exc:
            self.refused.emit(f"Preset {name} refused: {exc}")
            self._show_preset()
            return False
        if changed:
            self.changed.emit(changed)
        if not all(self.conditions().values()):
            self.message.emit(f"Preset {name}: outside Theorem 1's conditions — no guarantee")
        return True

    def lipschitz(self) -> float:
        """L for the current values (λ L_g(σ) with the learned prior)."""
        problem = self._problem()
        return lipschitz_at(problem, self.parameters()) if problem is not None else 1.0

    def conditions(self) -> dict[str, bool]:
        """Which of Theorem 1's conditions hold now."""
        return self.parameters().conditions(self.lipschitz())

    # ---- the state's events ---------------------------------------------------------------
    def _on_problem(self, state: ExplorerState) -> None:
        """A new problem: the σ of g_σ shows with a learned prior; λ = 1/γ follows γ (gs-prox)."""
        problem = self._problem()
        learned = problem is not None and learned_lipschitz(problem) is not None
        proximal = problem is not None and proximal_lipschitz(problem) is not None
        self.form.setRowVisible(self.sigma_rows["sigma_g"], learned or proximal)
        lam = self.sliders["lam"]
        lam.setEnabled(not proximal)
        lam.setToolTip(
            "λ = 1/γ with the gs-prox prior: its proximal map is D_σ only at weight γλ = 1"
            if proximal
            else ""
        )

    def _on_parameters(self, parameters: Parameters | None) -> None:
        if parameters is not None:
            self._show(parameters)

    # ---- edits ----------------------------------------------------------------------------
    def _problem(self):
        return self.state.setup.problem if self.state.setup is not None else None

    def _commit(self, name: str, value: float) -> str | None:
        """Write ``name = value`` through the state; why it was refused, or None."""
        value = int(value) if name == "sigma_steps" else float(value)
        try:
            changed = self.state.edit(**linked_changes(self._problem(), {name: value}))
        except ValueError as exc:
            return f"{LABELS.get(name, name)} = {value:g} refused: {exc}"
        if changed:
            self.changed.emit(changed)
        return None

    def _on_value(self, name: str, value: float) -> None:
        """A slider move or a value set on a box: one edit, or the state's values back."""
        problem = self._commit(name, value)
        if problem is not None:
            self._show(self.parameters())
            self.spin(name).refuse(problem)

    def _scale_problem(self, name: str, value: float) -> str | None:
        """Why ``value`` is outside the box's own scale for ``name`` (one line), or None; what a
        parameter may be is the state's to say."""
        label = LABELS.get(name, name)
        if name in SIGMA_FIELDS and not 0.0 <= value <= 1.0:
            return f"{label} = {value:g} refused: σ is on the [0, 1] intensity scale"
        if name == "sigma_steps" and value > SIGMA_STEPS_MAX:
            return f"σ steps = {value:g} refused: at most {SIGMA_STEPS_MAX}"
        if name in LOG_RANGES and name != "lam" and 0 < value < SMALLEST:
            return f"{label} = {value:g} refused: too small (at least {SMALLEST:g})"
        return None

    def _on_preset(self, _index: int) -> None:
        name = self.preset_combo.currentData()
        if name == CUSTOM:
            self._show_preset()
            return
        self.apply_preset(name)

    # ---- showing --------------------------------------------------------------------------
    def _show(self, parameters: Parameters) -> None:
        """Show ``parameters`` (no signals; a box already showing its value is left alone)."""
        for name, slider in self.sliders.items():
            slider.set_value(getattr(parameters, name))
        for name, spin in self.sigma_spins.items():
            spin.show_value(getattr(parameters, name))
            self.sigma_readouts[name].setText(sigma_255_text(getattr(parameters, name)))
        self.sigma_steps.show_value(int(parameters.sigma_steps))
        self._update_conditions(parameters)

    def _show_preset(self) -> None:
        index = self.preset_combo.findData(self.preset())
        self.preset_combo.blockSignals(True)
        self.preset_combo.setCurrentIndex(index)
        self.preset_combo.blockSignals(False)

    def _update_conditions(self, parameters: Parameters) -> None:
        problem = self._problem()
        C, mu, gamma = parameters.C, parameters.mu, parameters.gamma
        L = self.lipschitz()
        held = parameters.conditions(L)  # Thm 1's conditions, from core (one place)
        ok_mu, ok_gamma = held["2C<mu"], held["gamma<1/L"]
        inverse = f"{1 / L:.4g}" if L > 0 else "∞"
        learned = problem is not None and learned_lipschitz(problem) is not None
        what = f"L = λL_g = {L:.4g}, L_g estimated" if learned else f"L = {L:.4g}"
        if problem is not None and proximal_lipschitz(problem) is not None:
            what = f"L = L_f = {L:.4g}; λ = 1/γ; {denoiser_readout(problem, parameters)}"
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


def denoiser_readout(problem, parameters: Parameters) -> str:
    """L_g of D_σ's potential, estimated, against the Prox-PnP condition L_g < 1."""
    lg = denoiser_lipschitz(problem, parameters)
    if lg is None:
        return "L_g unknown"
    return f"L_g ≈ {lg:.3g} estimated ({'<' if lg < 1 else '≥'} 1: D_σ {'is' if lg < 1 else 'may not be'} a prox)"


def sigma_255_text(sigma: float) -> str:
    """σ on the 0–255 scale, e.g. ``= 30/255`` (one decimal when it is not whole)."""
    scaled = sigma * 255
    return f"= {scaled:.0f}/255" if abs(scaled - round(scaled)) < 0.05 else f"= {scaled:.1f}/255"
