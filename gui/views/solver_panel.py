"""The solver side: module A, prior g, device, which variants run, and the iteration limit.

Beside the variant boxes, "A/B" adds runs with their own parameters (:mod:`core.run_spec`:
``fima:C=0.3`` runs fima once more from C = 0.3, side by side and in lockstep); "Edits go to" picks
the run the parameter panel's live changes reach (every run, or one of them).

The module list is the task's own modules first (smooth: ``l0``, ``guided``), then the general
ones, then the TorchScript files the user loaded (any task takes them), then "Your own…". The prior
list is the task's default first, then its own priors (derain: ``streaks:p=1``), then the general
ones (:mod:`gui.state.prior_choices`); the window shows the prior the engine built."""

from __future__ import annotations

from pathlib import Path

import torch
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from core import VARIANTS
from core.proposal import DEFAULT_POLICY, POLICIES, parse_policy
from core.run_spec import RunSpec, check_unique, parse_run_spec, parse_run_specs

from ..state import ExplorerState
from ..state.module_choices import is_module_file, module_label, module_tip, offered_modules
from ..state.prior_choices import (
    default_prior_key,
    describe_text,
    offered_priors,
    prior_key,
    prior_tip,
)
from ..state.solver_settings import DEFAULT_LIMIT, DEFAULT_VARIANTS, SolverSettings
from .field_keys import install_field_keys
from .style import variant_color, variant_label

OWN_FILE = "__torchscript_file__"
TIP_ROLE = Qt.ItemDataRole.ToolTipRole
PRIOR_TIP = "g, the prior of Ψ = f + g (the task's default is first)"
VARIANT_TIPS = {
    "fima": "Algorithm 1: the module's proposal, checked",
    "unchecked": "Algorithm 1 without the check (v = ũ always)",
    "naive": "x^{k+1} = A(x^k): the module alone, no safeguard",
    "pg": "Plain proximal gradient (no module)",
}


AB_TIP = (
    "More runs with their own parameters, side by side with the ticked variants: "
    "VARIANT:key=value, e.g. fima:C=0.3 or fima:mu=2,C=0.2; several separated by commas"
)
EVERY_RUN = "every run"
TARGET_TIP = (
    "Which run the parameter panel's live changes reach during a run: every run (at the same "
    "iteration), or one of them. Without a run, edits set where every run starts."
)

POLICY_TIPS = {
    "adaptive": "Propose at every iteration until 2 straight rejections, then at growing intervals "
    "(2, 4, … 32 iterations) until a proposal is accepted: the module is paid for only while it "
    "helps",
    "always": "Ask the module at every iteration, as Algorithm 1 is written",
}


class SolverPanel(QGroupBox):
    """Solver choices; module/prior/device edits ask for a rebuild, the limit applies live."""

    moduleChosen = Signal(str)
    torchscriptRequested = Signal()
    priorChosen = Signal(str)
    deviceChosen = Signal(str)
    variantsChanged = Signal(list)
    limitChanged = Signal(int)
    runsRefused = Signal(str)  # the A/B field holds something that is not a run spec
    liveTargetChosen = Signal(object)  # a run label, or None: every run

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Solver", parent)
        self.module_combo = QComboBox()
        self._task: str | None = None
        self._files: list[str] = []  # TorchScript files the user loaded, kept across tasks
        self._module: str | None = None
        self._fill_modules(None)
        self.module_combo.setToolTip("Module A = A_g ∘ A_f: the denoiser A_g after the data step")
        self.prior_combo = QComboBox()
        self._prior_task: str | None = None
        self._prior: str | None = None
        self._fill_priors(None)
        self.prior_combo.setToolTip(PRIOR_TIP)
        self.device_combo = QComboBox()
        self.device_combo.addItem("auto", "auto")
        self.device_combo.addItem("cpu", "cpu")
        if torch.cuda.is_available():
            self.device_combo.addItem("cuda", "cuda")
        self.variant_boxes: dict[str, QCheckBox] = {}
        variants_grid = QGridLayout()
        for index, variant in enumerate(VARIANTS):
            box = QCheckBox(variant)
            box.setChecked(variant in DEFAULT_VARIANTS)
            box.setToolTip(VARIANT_TIPS.get(variant, variant))
            box.setStyleSheet(f"QCheckBox {{ color: {variant_color(variant)}; }}")
            box.toggled.connect(self._on_variant_toggled)
            variants_grid.addWidget(box, index // 2, index % 2)
            self.variant_boxes[variant] = box
        self.ab_edit = QLineEdit()
        self.ab_edit.setPlaceholderText("e.g. fima:C=0.3")
        self.ab_edit.setToolTip(AB_TIP)
        self.ab_edit.setClearButtonEnabled(True)
        self._extra: list[RunSpec] = []
        self._refused: str | None = None  # the A/B text last refused (told once)
        self.target_combo = QComboBox()
        self.target_combo.setToolTip(TARGET_TIP)
        self.show_runs([])
        self.propose_combo = QComboBox()
        for name in POLICIES:
            self.propose_combo.addItem(name, name)
            self.propose_combo.setItemData(
                self.propose_combo.count() - 1, POLICY_TIPS[name], TIP_ROLE
            )
        self.propose_combo.setCurrentIndex(POLICIES.index(DEFAULT_POLICY))
        self.propose_combo.setToolTip(
            "When fima asks the module for a proposal (applies from the next run). A skipped "
            "proposal is the check's rejection branch, so the guarantee is the same."
        )
        self.limit_spin = QSpinBox()
        self.limit_spin.setRange(1, 1_000_000)
        self.limit_spin.setValue(DEFAULT_LIMIT)
        self.limit_spin.setKeyboardTracking(False)
        self.limit_spin.setToolTip("Stop after this many iterations (can be raised while paused)")
        install_field_keys(self.limit_spin)

        form = QFormLayout(self)
        form.addRow("Module", self.module_combo)
        form.addRow("Prior", self.prior_combo)
        form.addRow("Device", self.device_combo)
        form.addRow("Variants", variants_grid)
        form.addRow("A/B", self.ab_edit)
        form.addRow("Edits go to", self.target_combo)
        form.addRow("Proposals", self.propose_combo)
        form.addRow("Iterations", self.limit_spin)

        self.module_combo.activated.connect(self._on_module)
        self.prior_combo.activated.connect(self._on_prior)
        self.device_combo.activated.connect(
            lambda _i: self.deviceChosen.emit(self.device_combo.currentData())
        )
        self.limit_spin.valueChanged.connect(self.limitChanged)
        self.ab_edit.editingFinished.connect(self._on_ab_edited)
        self.target_combo.activated.connect(self._on_target)
        self.settings: SolverSettings | None = None
        self._state: ExplorerState | None = None

    def bind(self, state: ExplorerState) -> None:
        """Show ``state.solver`` and write the user's limit and policy into it (runs: the window
        confirms first, :attr:`variantsChanged`); offer the current run's labels as edit targets."""
        self._state, self.settings = state, state.solver
        events = state.solver.events
        events.runs.connect(self._follow_runs)
        events.limit.connect(self._follow_limit)
        events.policy.connect(self._follow_policy)
        self._follow_runs(state.solver.runs)
        self._follow_limit(state.solver.limit)
        self._follow_policy(state.solver.policy)
        self.limit_spin.valueChanged.connect(self._write_limit)
        self.propose_combo.currentIndexChanged.connect(self._write_policy)
        state.progress.events.started.connect(self._on_run_started)
        state.progress.events.cleared.connect(self._on_run_cleared)

    def _follow_runs(self, runs: tuple[RunSpec, ...]) -> None:
        if [spec.label for spec in runs] != self.variants():
            self.set_runs(runs)

    def _follow_limit(self, limit: int) -> None:
        if self.limit_spin.value() != limit:
            self.limit_spin.setValue(int(limit))

    def _follow_policy(self, policy: str) -> None:
        if self.proposal_policy() != policy:
            self.set_proposal_policy(policy)

    def _write_limit(self, limit: int) -> None:
        self.settings.limit = int(limit)

    def _write_policy(self, _index: int) -> None:
        self.settings.policy = self.proposal_policy()

    def _on_run_started(self, labels: tuple[str, ...]) -> None:
        self.show_runs(labels, self._state.live_target if self._state else None)

    def _on_run_cleared(self) -> None:
        self.show_runs([])

    def publish_runs(self) -> None:
        """The runs shown become the settings' (the window does it once the user's change may
        discard a run)."""
        if self.settings is not None:
            self.settings.runs = tuple(self.runs())

    def show_problem(self, state: ExplorerState) -> None:
        """Show the state's problem: the task's modules and priors, the module and the prior the
        engine built (else the chosen ones, else the task's default prior), the device."""
        spec, setup = state.spec, state.setup
        if spec is None:
            return
        self.show_task_modules(spec.task)
        module = setup.settings.get("module") if setup else spec.value("module")
        if module:
            self.show_module(str(module))
        self.show_task_priors(spec.task)
        built = setup.settings.get("prior") if setup else None
        key = prior_key(built) or prior_key(spec.value("prior")) or default_prior_key(spec.task)
        if key:
            self.show_prior(key, describe_text(built))
        self.show_device(spec.value("device"))

    # ---- values ---------------------------------------------------------------------------
    def module(self) -> str:
        """The module shown (a name, or a TorchScript file path)."""
        return self._module

    def show_module(self, name: str) -> None:
        """Show module ``name`` (a file path gets its own entry); no signal."""
        index = self.module_combo.findData(name)
        if index < 0:
            if is_module_file(name):
                self._files.append(name)
            index = self.module_combo.count() - 1  # before "Your own TorchScript file…"
            self._add_module(index, name)
        self.module_combo.setCurrentIndex(index)
        self._module = name

    def show_task_modules(self, task: str) -> None:
        """Offer task ``task``'s modules (its own first, then the general ones); no signal."""
        if task != self._task:
            self._fill_modules(task)

    def module_names(self) -> list[str]:
        """The modules offered, in order (names and file paths; not "Your own…")."""
        names = [self.module_combo.itemData(i) for i in range(self.module_combo.count())]
        return [n for n in names if n != OWN_FILE]

    def prior(self) -> str | None:
        """The key of the prior shown (``wavelet``, ``wavelet:p=0.5``, ``tv``, ``streaks`` …)."""
        return self._prior

    def prior_names(self) -> list[str]:
        """The prior keys offered, in order."""
        return [self.prior_combo.itemData(i) for i in range(self.prior_combo.count())]

    def show_task_priors(self, task: str) -> None:
        """Offer task ``task``'s priors (its default first); no signal."""
        if task != self._prior_task:
            self._fill_priors(task)

    def show_prior(self, key: str, details: str = "") -> None:
        """Show prior ``key`` (one not on offer gets its own entry), ``details`` in the tooltip;
        no signal."""
        combo = self.prior_combo
        index = combo.findData(key)
        if index < 0:
            index = combo.count()
            combo.addItem(key, key)
            combo.setItemData(index, prior_tip(self._prior_task or "", key), TIP_ROLE)
        combo.setCurrentIndex(index)
        self._prior = key
        combo.setToolTip(f"{PRIOR_TIP}\nNow: {details}" if details else PRIOR_TIP)

    def show_device(self, device: str | None) -> None:
        """Show the device choice (no signal)."""
        index = self.device_combo.findData(device or "auto")
        self.device_combo.setCurrentIndex(max(index, 0))

    def variants(self) -> list[str]:
        """The runs' labels: the checked variants (canonical order), then the A/B runs."""
        return [spec.label for spec in self.runs()]

    def runs(self) -> list[RunSpec]:
        """The runs to make: each checked variant once, then the A/B field's runs."""
        plain = [RunSpec(v) for v, box in self.variant_boxes.items() if box.isChecked()]
        labels = {spec.label for spec in plain}
        return plain + [spec for spec in self._extra if spec.label not in labels]

    def set_variants(self, variants: list[str] | tuple[str, ...]) -> None:
        """Show exactly these runs (variant names or run labels; no signal; at least one box
        stays checked)."""
        specs = []
        for text in variants:
            try:
                specs.append(parse_run_spec(text))
            except ValueError:
                continue
        self.set_runs(specs)

    def set_runs(self, runs: list[RunSpec] | tuple[RunSpec, ...]) -> None:
        """Tick the plain runs' variants, put the others in the A/B field (no signal)."""
        plain = [spec.variant for spec in runs if not spec.overrides]
        chosen = [v for v in plain if v in self.variant_boxes] or list(DEFAULT_VARIANTS)
        for variant, box in self.variant_boxes.items():
            box.blockSignals(True)
            box.setChecked(variant in chosen)
            box.blockSignals(False)
        self._extra = [spec for spec in runs if spec.overrides]
        self.ab_edit.setText(", ".join(spec.text for spec in self._extra))
        self.ab_edit.setStyleSheet("")
        self.publish_runs()

    def show_runs(self, labels: list[str] | tuple[str, ...], target: str | None = None) -> None:
        """Offer "every run" and each of ``labels`` as where edits go (no signal); the picker is
        enabled when there is more than one run."""
        combo = self.target_combo
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(EVERY_RUN, None)
        for label in labels:
            combo.addItem(variant_label(label), label)
        combo.setCurrentIndex(max(combo.findData(target), 0) if target else 0)
        combo.setEnabled(len(labels) > 1)
        combo.blockSignals(False)

    def live_target(self) -> str | None:
        """The run label edits go to (None: every run)."""
        return self.target_combo.currentData()

    def set_live_target(self, label: str | None) -> None:
        """Pick where edits go (emits ``liveTargetChosen`` when it changes)."""
        index = self.target_combo.findData(label) if label else 0
        if index >= 0 and index != self.target_combo.currentIndex():
            self.target_combo.setCurrentIndex(index)
            self._on_target(index)

    def proposal_policy(self) -> str:
        """fima's proposal policy: ``always`` or ``adaptive`` (core/proposal.py)."""
        return self.propose_combo.currentData()

    def set_proposal_policy(self, text: str) -> None:
        """Choose the policy of ``text`` (a session's); one with its own settings gets its entry."""
        policy = parse_policy(text).describe()
        index = self.propose_combo.findData(policy)
        if index < 0:
            self.propose_combo.addItem(policy, policy)
            index = self.propose_combo.count() - 1
        self.propose_combo.setCurrentIndex(index)

    def limit(self) -> int:
        """The iteration limit."""
        return self.limit_spin.value()

    def set_limit(self, limit: int) -> None:
        """Set the iteration limit (emits ``limitChanged`` if it changes)."""
        self.limit_spin.setValue(int(limit))

    # ---- internals ------------------------------------------------------------------------
    def _fill_modules(self, task: str | None) -> None:
        self._task = task
        combo = self.module_combo
        combo.blockSignals(True)
        combo.clear()
        for name in [*offered_modules(task or ""), *self._files]:
            self._add_module(combo.count(), name)
        combo.addItem("Your own TorchScript file…", OWN_FILE)
        combo.blockSignals(False)
        combo.setCurrentIndex(max(combo.findData(self._module), 0))
        self._module = combo.currentData()

    def _fill_priors(self, task: str | None) -> None:
        self._prior_task = task
        combo = self.prior_combo
        combo.blockSignals(True)
        combo.clear()
        for key in offered_priors(task or ""):
            combo.addItem(key, key)
            combo.setItemData(combo.count() - 1, prior_tip(task or "", key), TIP_ROLE)
        combo.blockSignals(False)
        combo.setCurrentIndex(max(combo.findData(self._prior), 0))
        self._prior = combo.currentData()

    def _on_prior(self, _index: int) -> None:
        key = self.prior_combo.currentData()
        if key != self._prior:
            self._prior = key
            self.priorChosen.emit(key)

    def _add_module(self, index: int, name: str) -> None:
        task = self._task or ""
        if is_module_file(name):
            label, tip = Path(name).name, name
        else:
            label, tip = module_label(task, name), module_tip(task, name)
        self.module_combo.insertItem(index, label, name)
        self.module_combo.setItemData(index, tip, TIP_ROLE)

    def _on_module(self, _index: int) -> None:
        data = self.module_combo.currentData()
        if data == OWN_FILE:
            self.show_module(self._module)  # the window opens a file picker, then shows the result
            self.torchscriptRequested.emit()
        elif data != self._module:
            self._module = data
            self.moduleChosen.emit(data)

    def _on_ab_edited(self) -> None:
        text = self.ab_edit.text().strip()
        try:
            extra = check_unique(parse_run_specs(text)) if text else []
        except ValueError as exc:
            self.ab_edit.setStyleSheet("QLineEdit { border: 1px solid #c62828; }")
            if (
                text != self._refused
            ):  # once per text: focus leaving for the dialog ends editing too
                self._refused = text
                self.runsRefused.emit(f"A/B runs: {exc}")
            return
        self._refused = None
        self.ab_edit.setStyleSheet("")
        if [s.label for s in extra] != [s.label for s in self._extra]:
            self._extra = extra
            self.variantsChanged.emit(self.variants())

    def _on_target(self, _index: int) -> None:
        self.liveTargetChosen.emit(self.target_combo.currentData())

    def _on_variant_toggled(self, _checked: bool) -> None:
        if not self.variants():
            box = self.sender()
            box.blockSignals(True)
            box.setChecked(True)
            box.blockSignals(False)
            return
        self.variantsChanged.emit(self.variants())
