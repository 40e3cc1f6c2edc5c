"""The learned objective Ψ = f + λ g_σ for a task: its prior, and parameters chosen for convergence.

A task that offers the gradient-step prior (``--prior gs``) declares a :class:`LearnedDefaults`: how
σ of g_σ and λ follow the noise level ν of the observation (σ = ``sigma_factor``·ν; λ = ``lam_factor``
·ν²/σ², the balance of a MAP estimate when g_σ ≈ −σ² log p), and where μ, C and γ sit inside Thm 1's
conditions: γ = ``step``/L with L = λ L_g (L_g estimated at the start point), μ = ``mu_gamma``/γ and
C = ``c_ratio``·μ < μ/2. The factors were chosen on train400 crops (never on Set12 or the brain
images the benchmarks report), with the PSNR of the converged iterate (300 iterations) as the aim.
A user's ``gs:sigma=…,weight=…`` wins over these defaults.

The Prox-PnP prior ``gs-prox`` (core/learned_prox_prior.py: Ψ = f + λφ_σ, prox φ_σ = D_σ) takes its
λ from γ (λ = 1/γ); its defaults set σ = ``sigma_factor``·ν, γ = ``step``/L_f (L = L_f, the smooth
part is f), μ = ``mu_gamma``/γ and C = ``c_ratio``·μ.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import torch

from ..algorithm import proximal_weight, weight_in_force
from ..fidelity import LeastSquares
from ..io import InputError
from ..params import Parameters
from ..priors import Prior
from ..problem import Problem
from .base import TaskSetup, make_task_prior, parse_prior_spec, task_setup
from .common import refined_module
from .description import TaskDescription

Tensor = torch.Tensor
NAME = "gs"
PROX_NAME = "gs-prox"
NAMES = (NAME, PROX_NAME)
SIGMA_RANGE = (2 / 255, 50 / 255)  # where N_σ was trained well (U[0, 55/255])
LIPSCHITZ_CROP = 96  # power iteration runs on a centre crop of the start point (an estimate)


@dataclass(frozen=True)
class LearnedDefaults:
    """How a task sets Ψ = f + λ g_σ and its parameters from the noise level ν."""

    sigma_factor: float
    lam_factor: float = 1.0
    range_weight: float = 1.0
    mu_gamma: float = 1.0
    c_ratio: float = 0.45
    step: float = 0.9
    refine_steps: int = 2
    prior: str = NAME  # which learned prior these defaults are for: gs or gs-prox
    # the module's denoiser schedule σ^k under this Ψ: (σ_start, steps), None keeps the task's own
    module_schedule: tuple[float, int] | None = None

    def sigma(self, noise: float) -> float:
        """σ of g_σ: ``sigma_factor``·ν, kept where the network was trained."""
        lo, hi = SIGMA_RANGE
        return min(max(self.sigma_factor * noise, lo), hi)

    def lam(self, noise: float, sigma: float) -> float:
        """λ = ``lam_factor``·ν²/σ² (ν below 1/255 counts as 1/255)."""
        nu = max(noise, 1 / 255)
        return self.lam_factor * nu * nu / (sigma * sigma)


# the Prox-PnP prior where a task has no defaults of its own for it: σ = ν, γ = 0.99/L_f
PROX_DEFAULTS = LearnedDefaults(
    sigma_factor=1.0, mu_gamma=0.1, step=0.99, refine_steps=0, prior=PROX_NAME
)


def learned_name(spec: str | dict | Prior | None, default: Mapping) -> str | None:
    """The learned prior asked for (or the task's default): ``gs``, ``gs-prox``, or None."""
    if spec is None:
        name = default.get("name")
    elif isinstance(spec, str):
        name = parse_prior_spec(spec).get("name")
    elif isinstance(spec, dict):
        name = spec.get("name")
    else:
        name = spec.name if spec.learned else None
    return name if name in NAMES else None


def wants_learned(spec, default: dict) -> bool:
    """True when the prior asked for (or the task's default) is a learned one (gs, gs-prox)."""
    return learned_name(spec, default) is not None


def proximal_objective(
    spec, noise: float, defaults: LearnedDefaults, start: Tensor, base: Parameters, data_l: float
) -> tuple[object, Parameters]:
    """(Prox-PnP's λφ_σ, parameters with γ = step/L_f, λ = 1/γ, 2C < μ) for ``data_l`` = L_f."""
    given = {} if spec is None or not isinstance(spec, str | dict) else _as_dict(spec)
    sigma = float(given.get("sigma", defaults.sigma(noise)))
    settings = {
        "name": PROX_NAME,
        "sigma": sigma,
        "symmetries": given.get("symmetries", 1),
        **_weight_file(given),
    }
    prior = make_task_prior(settings, {"name": PROX_NAME}, 1.0)
    prior.lipschitz_points = [_centre_crop(start, LIPSCHITZ_CROP)]
    gamma = defaults.step / data_l
    mu = defaults.mu_gamma / gamma
    params = base.with_changes(
        C=defaults.c_ratio * mu, mu=mu, gamma=gamma, lam=proximal_weight(gamma), sigma_g=sigma
    )
    prior.weight = weight_in_force(prior, params)  # λ = 1/γ: the engine's rule
    return prior, params


def learned_objective(
    spec, noise: float, defaults: LearnedDefaults, start: Tensor, base: Parameters
) -> tuple[object, Parameters]:
    """(the prior λ g_σ, parameters inside 2C < μ and γ < 1/L) for a problem starting at ``start``."""
    given = {} if spec is None or not isinstance(spec, str | dict) else _as_dict(spec)
    sigma = float(given.get("sigma", defaults.sigma(noise)))
    lam = float(given.get("weight", defaults.lam(noise, sigma)))
    settings = {
        "name": NAME,
        "sigma": sigma,
        "weight": lam,
        "range_weight": float(given.get("range_weight", defaults.range_weight)),
        "symmetries": given.get("symmetries", 1),
        **_weight_file(given),
    }
    prior = make_task_prior(settings, {"name": NAME}, lam)
    prior.lipschitz_points = [_centre_crop(start, LIPSCHITZ_CROP)]
    lipschitz = lam * prior.lipschitz()
    if not lipschitz > 0:
        raise InputError("the learned prior's Lipschitz estimate is not positive; check its weight")
    gamma = defaults.step / lipschitz
    mu = defaults.mu_gamma / gamma
    params = base.with_changes(C=defaults.c_ratio * mu, mu=mu, gamma=gamma, lam=lam, sigma_g=sigma)
    if defaults.module_schedule is not None:
        start, steps = defaults.module_schedule
        params = params.with_changes(sigma_start=max(start, params.sigma_end), sigma_steps=steps)
    return prior, params


@dataclass
class Observed:
    """A task's data: f, the start x⁰ (also the picture shown as the observation), x*, settings."""

    fidelity: LeastSquares
    start: Tensor
    truth: Tensor
    info: dict


def learned_task_setup(
    description: TaskDescription,
    observed: Observed,
    image: str | Path | Tensor | None,
    path: Path | None,
    options: Mapping,
    *,
    hand_made: Mapping[str, object],
    refine_steps: int,
) -> TaskSetup:
    """The TaskSetup of a task offering learned Ψ's: its prior and parameters (learned or hand-made,
    :func:`task_objective`), the problem from ``observed`` and the refined module.

    ``image``, ``path`` and ``options`` are what the task's ``build`` got and loaded (see
    :func:`core.tasks.base.task_setup`; ``options["noise"]`` is the noise level ν); ``hand_made`` the
    layout a hand-made prior takes when the task's default is a learned one; ``refine_steps`` the
    module's proximal-gradient steps under a hand-made prior (a learned one has its own).
    """
    base = description.parameters(options)
    spec, noise = options["prior"], options["noise"]
    prior, params, learned = task_objective(spec, description, hand_made, noise, observed, base)
    problem = Problem(
        fidelity=observed.fidelity,
        prior=prior,
        x0=observed.start.clone(),
        ground_truth=observed.truth,
        observation_image=observed.start,
        task=description.name,
        info=observed.info,
    )
    steps = learned.refine_steps if learned else refine_steps
    module, name = refined_module(options["module"], options["device"], steps)
    return task_setup(problem, module, name, params, image, path, options)


def task_objective(
    spec,
    description: TaskDescription,
    hand_made: Mapping[str, object],
    noise: float,
    observed: Observed,
    base: Parameters,
) -> tuple[Prior, Parameters, LearnedDefaults | None]:
    """(prior, parameters, the learned defaults used or None) of a task offering learned Ψ's.

    The task's :class:`LearnedDefaults` are its description's ``learned`` (one per learned prior it
    tunes; others: generic); L_f (``observed.fidelity.lipschitz``) is the smooth part's constant
    under ``gs-prox``.
    """
    start, default = observed.start, description.default_prior
    name = learned_name(spec, default)
    if name is not None:
        chosen = defaults_for(description.learned, name)
        if name == PROX_NAME:
            data_l = observed.fidelity.lipschitz
            prior, params = proximal_objective(spec, noise, chosen, start, base, data_l)
        else:
            prior, params = learned_objective(spec, noise, chosen, start, base)
        return prior, params, chosen
    layout = hand_made if default.get("name") in NAMES else default
    return make_task_prior(spec, dict(layout), base.lam), base, None


def defaults_for(defaults, name: str) -> LearnedDefaults:
    """The task's defaults for learned prior ``name`` (generic ones for gs-prox if it has none)."""
    for d in defaults if isinstance(defaults, tuple) else (defaults,):
        if d.prior == name:
            return d
    if name == PROX_NAME:
        return PROX_DEFAULTS
    raise ValueError(f"no defaults for the learned prior {name!r}")


def _weight_file(given: dict) -> dict:
    """``{"weights": path}`` when the spec names a weight file of its own (else the shipped one)."""
    return {"weights": str(given["weights"])} if given.get("weights") else {}


def _as_dict(spec) -> dict:
    parsed = parse_prior_spec(spec) if isinstance(spec, str) else dict(spec)
    parsed.pop("name", None)
    return parsed


def _centre_crop(x: Tensor, size: int) -> Tensor:
    h, w = x.shape[-2:]
    top, left = max((h - size) // 2, 0), max((w - size) // 2, 0)
    return x[..., top : top + size, left : left + size].contiguous()
