"""What a task is, declared once: its options (kind, choices, default, scale, help), the modules and
priors it takes with their defaults, its parameters' defaults, its sample and how it is shown.

Each ``core/tasks/<task>.py`` exports ``DESCRIPTION``. :func:`core.tasks.build_task` validates the
options against it and fills in the defaults; ``fima run --task T --help`` and ``fima tasks T`` print
it; the explorer builds its task controls, module and prior lists from it. Nothing reads a builder's
signature.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from ..io import InputError
from ..modules import default_module_name as learned_module_name
from ..params import Parameters

KINDS = (bool, int, float, str)
TRUE_WORDS = ("1", "true", "yes", "on")
FALSE_WORDS = ("0", "false", "no", "off")
# the build options every task takes besides its own, declared once (build_task, the CLI, study
# specs and the explorer read them): ``module``, ``prior`` and ``device`` are names build_task
# resolves (None: the task's default, the fastest device), ``downscale`` area-averages the image first
COMMON_OPTIONS = ("module", "prior", "device")
DOWNSCALE = "downscale"
BUILD_OPTIONS: Mapping[str, object] = MappingProxyType(
    {**dict.fromkeys(COMMON_OPTIONS), DOWNSCALE: 1}
)
LEARNED = "the learned denoiser (cnn with its bundled weights, else tv)"


@dataclass(frozen=True)
class Choice:
    """A named choice (a module or a prior) and what it means for a task."""

    name: str
    help: str
    label: str = ""  # the text shown instead of the name, where the name needs explaining

    @property
    def shown(self) -> str:
        """The text a list shows for this choice."""
        return self.label or self.name


# the priors every task builds through core.tasks.base.make_task_prior (``--prior`` text)
GENERAL_PRIORS = (
    Choice(
        "wavelet", "ℓ1 on Haar wavelet details (soft thresholding; wavelet=db4, sym8, … for others)"
    ),
    Choice("wavelet:p=0.5", "ℓ0.5 on Haar wavelet details (nonconvex)"),
    Choice("wavelet:p=0", "ℓ0 on Haar wavelet details: their count (hard thresholding, nonconvex)"),
    Choice("wavelet:wavelet=db4", "ℓ1 on Daubechies-4 (db4) wavelet details (soft thresholding)"),
    Choice(
        "wavelet:p=0.5,wavelet=db4",
        "ℓ0.5 (ℓp, p = 0.5) on Daubechies-4 (db4) wavelet details (nonconvex)",
    ),
    Choice("wavelet:wavelet=sym8", "ℓ1 on Symlet-8 (sym8) wavelet details (soft thresholding)"),
    Choice(
        "wavelet:p=0.5,wavelet=sym8",
        "ℓ0.5 (ℓp, p = 0.5) on Symlet-8 (sym8) wavelet details (nonconvex)",
    ),
    Choice("tv", "Total variation (isotropic; prox by 30 FGP steps)"),
    Choice("box", "The box [0, 1]: g = 0 inside, +∞ outside"),
    Choice("none", "g = 0: no prior"),
)


# the learned gradient-step prior (core/learned_prior.py), offered where f has a closed-form prox
GS_PRIOR = Choice(
    "gs",
    "learned gradient-step prior λ g_σ(x) = λ/2‖x − N_σ(x)‖² (Hurault et al. 2022): smooth, "
    "enters Ψ through its gradient while f is proxed; L = λ L_g, L_g estimated",
    label="gs — learned gradient-step prior",
)
# the same potential averaged over 4 of the square's symmetries (the self-ensemble of D_σ)
GS_SYMMETRIC_PRIOR = Choice(
    "gs:symmetries=4",
    "learned gradient-step prior averaged over 4 flips and half turns of the image: "
    "g(x) = ¼ Σ_t g_σ(T_t x), still smooth with L ≤ L_g; its denoiser is D_σ's self-ensemble "
    "(a stronger denoiser than D_σ alone), at 4× the network cost per iteration",
    label="gs ×4 — learned prior, averaged over flips and turns (4× slower)",
)
# Prox-PnP's learned prior (core/learned_prox_prior.py): its proximal map IS the denoiser D_σ
GS_PROX_PRIOR = Choice(
    "gs-prox",
    "learned proximal prior λφ_σ (Prox-PnP, Hurault et al. 2022): prox φ_σ = D_σ, the gradient-step "
    "denoiser, so λ = 1/γ and L = L_f; a prox of a weakly convex φ_σ when L_g < 1 (estimated)",
    label="gs-prox — learned proximal prior (Prox-PnP)",
)
GS_PROX_SYMMETRIC_PRIOR = Choice(
    "gs-prox:symmetries=4",
    "learned proximal prior whose denoiser is D_σ's self-ensemble over 4 flips and half turns "
    "(a stronger denoiser than D_σ alone), at 4× the network cost per iteration",
    label="gs-prox ×4 — learned proximal prior, averaged over flips and turns (4× slower)",
)
LEARNED_PRIORS = (
    GS_PRIOR,
    GS_SYMMETRIC_PRIOR,
    GS_PROX_PRIOR,
    GS_PROX_SYMMETRIC_PRIOR,
    *GENERAL_PRIORS,
)


def prior_name(key: str) -> str:
    """The prior's name in a key (``wavelet:p=0.5`` → ``wavelet``)."""
    return key.partition(":")[0].strip()


GENERAL_PRIOR_NAMES = tuple(dict.fromkeys(prior_name(c.name) for c in GENERAL_PRIORS))


@dataclass(frozen=True)
class TaskOption:
    """One option of a task: its kind, default, meaning, scale, and the values it allows."""

    name: str
    kind: type
    default: object
    help: str
    scale: str = ""  # the unit or scale of a number ("std on the [0, 1] intensity scale")
    choices: tuple[str, ...] = ()
    bounds: tuple[float, float] | None = None  # inclusive, for numbers
    open_below: bool = False  # the lower bound itself is refused (smoothness > 0)
    metavar: str = ""  # how the command line names its value

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise TypeError(f"option {self.name}: kind must be one of bool, int, float, str")
        self.parse(self.default)  # a default the option itself refuses is a programming error

    @property
    def flag(self) -> str:
        """The command-line flag (``noise_model`` → ``--noise-model``)."""
        return "--" + self.name.replace("_", "-")

    def parse(self, value: object) -> object:
        """``value`` as this option's kind, checked (:class:`InputError`, one line, otherwise)."""
        value = self._coerce(value)
        if self.choices and value not in self.choices:
            raise InputError(f"{self.name} must be one of {', '.join(self.choices)}, got {value!r}")
        if self.bounds is not None and self.kind in (int, float):
            lo, hi = self.bounds
            low_ok = value > lo if self.open_below else value >= lo
            if not (low_ok and value <= hi):
                left = "(" if self.open_below else "["
                scale = f" ({self.scale})" if self.scale else ""
                raise InputError(
                    f"{self.name} must be in {left}{lo:g}, {hi:g}]{scale}, got {value:g}"
                )
        return value

    def _coerce(self, value: object) -> object:
        kind, name = self.kind, self.name
        if kind is bool:
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in TRUE_WORDS + FALSE_WORDS:
                return value.strip().lower() in TRUE_WORDS
            if isinstance(value, int) and value in (0, 1):
                return bool(value)
            raise InputError(f"{name} must be yes or no, got {value!r}")
        if kind is str:
            if not isinstance(value, str):
                raise InputError(f"{name} must be text, got {value!r}")
            return value.strip()
        if isinstance(value, bool):
            raise InputError(f"{name} must be a number, got {value!r}")
        try:
            number = float(value) if kind is float else _whole(value)
        except (TypeError, ValueError):
            what = "a number" if kind is float else "a whole number"
            raise InputError(f"{name} must be {what}, got {value!r}") from None
        if not math.isfinite(number):
            raise InputError(f"{name} must be finite, got {value!r}")
        return number

    def describe_default(self) -> str:
        """The default as the help shows it (``yes``/``no`` for a switch)."""
        if self.kind is bool:
            return "yes" if self.default else "no"
        if self.kind is float:
            return f"{self.default:.4g}"
        return str(self.default)


def _whole(value: object) -> int:
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError(value)
        return int(value)
    if isinstance(value, str):
        return int(value.strip())
    if isinstance(value, int):
        return value
    raise TypeError(value)


@dataclass(frozen=True)
class ViewHints:
    """How the explorer shows a task's problem (beyond its arrays)."""

    kspace_mask: bool = False  # problem.info["mask"] is a k-space mask worth showing
    renders_picture: bool = False  # the iterate is not the picture: problem.info["render"] makes it
    colour: bool = False  # the task works on colour pictures (grey ones are repeated)
    variable: str = "x"  # the iterate's symbol
    variable_name: str = ""  # what the iterate is when it is not the picture ("illumination")
    observation_title: str = "observation y"


@dataclass(frozen=True)
class TaskDescription:
    """Everything a task declares: read by :func:`core.tasks.build_task`, the CLI and the GUI."""

    name: str
    summary: str
    sample: str  # file name under resources/samples
    options: tuple[TaskOption, ...]
    # the task's default parameters C, μ, γ, λ, ρ, σ schedule, from its options' values
    parameters: Callable[[Mapping[str, object]], Parameters]
    default_prior: Mapping[str, object]  # make_task_prior settings, e.g. {"name": "tv", ...}
    priors: tuple[Choice, ...] = GENERAL_PRIORS  # every prior key it takes, in offer order
    default_module: str | None = None  # None: LEARNED
    modules: tuple[Choice, ...] = ()  # its own module names (valid for this task only)
    module_notes: tuple[Choice, ...] = ()  # what general modules mean for this task
    views: ViewHints = field(default_factory=ViewHints)
    # core.tasks.learned.LearnedDefaults when the default prior is the learned one: C, μ, γ, λ and
    # σ of g_σ then follow the noise level and the estimated L instead of ``parameters``
    learned: object = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "default_prior", MappingProxyType(dict(self.default_prior)))
        names = [o.name for o in self.options]
        if len(set(names)) != len(names) or set(names) & set(BUILD_OPTIONS):
            raise ValueError(f"task {self.name}: option names must be unique and not common ones")
        if self.default_prior.get("name") not in self.prior_names():
            raise ValueError(f"task {self.name}: its default prior is not among its priors")

    def learned_rule(self, name: str) -> str:
        """How parameter ``name`` is set under the learned default prior ('' when it is not)."""
        default = self.default_prior.get("name")
        tuned = self.learned if isinstance(self.learned, tuple) else (self.learned,)
        d = next((t for t in tuned if t is not None and t.prior == default), None)
        if d is None:
            return ""
        if default == GS_PROX_PRIOR.name:
            return {
                "C": f"{d.c_ratio:g}μ",
                "mu": f"{d.mu_gamma:g}/γ",
                "gamma": f"{d.step:g}/L, L = L_f",
                "lam": "1/γ (prox φ_σ = D_σ)",
                "sigma_g": f"{d.sigma_factor:g}ν",
            }.get(name, "")
        return {
            "C": f"{d.c_ratio:g}μ",
            "mu": f"{d.mu_gamma:g}/γ",
            "gamma": f"{d.step:g}/L, L = λL_g",
            "lam": f"{d.lam_factor:g}ν²/σ², σ = {d.sigma_factor:g}ν",
        }.get(name, "")

    def option(self, name: str) -> TaskOption | None:
        """The option called ``name`` (None when the task has none)."""
        return next((o for o in self.options if o.name == name), None)

    def option_names(self) -> tuple[str, ...]:
        """The task's own option names, in order."""
        return tuple(o.name for o in self.options)

    def defaults(self) -> dict[str, object]:
        """Every option's default."""
        return {o.name: o.default for o in self.options}

    def resolve(self, values: Mapping[str, object]) -> dict[str, object]:
        """Every option, checked: the given values (None: the default) over the defaults.

        A name the task does not take is refused with one line naming what it takes.
        """
        unknown = sorted(set(values) - set(self.option_names()))
        if unknown:
            takes = ", ".join(sorted((*self.option_names(), *BUILD_OPTIONS)))
            raise InputError(
                f"option(s) {', '.join(unknown)} do not apply to task {self.name} (it takes {takes})"
            )
        resolved = self.defaults()
        for name, value in values.items():
            if value is not None:
                resolved[name] = self.option(name).parse(value)
        return resolved

    def default_parameters(self, values: Mapping[str, object] | None = None) -> Parameters:
        """The parameters a run starts from, for these option values (None: the defaults)."""
        return self.parameters(self.resolve(values or {}))

    def default_module_name(self) -> str:
        """The module used when none is chosen (the learned one resolved to cnn or tv)."""
        if self.default_module is not None:
            return self.default_module
        return learned_module_name()

    def describe_default_module(self) -> str:
        """The default module as help text shows it."""
        return self.default_module or LEARNED

    def module_names(self) -> tuple[str, ...]:
        """The task's own module names, in order."""
        return tuple(c.name for c in self.modules)

    def module_choice(self, name: str) -> Choice | None:
        """What module ``name`` means for this task, when the task says (its own or a note)."""
        return next((c for c in (*self.modules, *self.module_notes) if c.name == name), None)

    def prior_keys(self) -> tuple[str, ...]:
        """The keys of the priors the task offers, in order."""
        return tuple(c.name for c in self.priors)

    def prior_names(self) -> tuple[str, ...]:
        """The names of the priors the task takes (``wavelet`` for ``wavelet:p=0.5`` too)."""
        return tuple(dict.fromkeys(prior_name(c.name) for c in self.priors))

    def prior_choice(self, key: str) -> Choice | None:
        """The entry for prior ``key`` (None when the task does not list it)."""
        return next((c for c in self.priors if c.name == key), None)


def noise_option(
    default: float, help: str = "standard deviation of the added Gaussian noise"
) -> TaskOption:
    """The ``noise`` option: a standard deviation on the [0, 1] intensity scale."""
    return TaskOption(
        "noise",
        float,
        default,
        help,
        scale="std on the [0, 1] intensity scale, 0.01 = 1 %",
        bounds=(0.0, 1.0),
        metavar="SIGMA",
    )


def seed_option(help: str = "seed of the random noise") -> TaskOption:
    """The ``seed`` option (every random thing of a task takes it)."""
    return TaskOption("seed", int, 0, help, bounds=(0, 2**63 - 1), metavar="S")


GRAYSCALE = TaskOption(
    "grayscale",
    bool,
    False,
    "convert a colour image to grey before solving (colour stays colour by default)",
)
