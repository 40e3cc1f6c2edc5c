"""Rain-streak removal as layer separation  y = b + r  (colour; streaks thin, bright, near-vertical).

The FIMA variable is the background b (1, 3, H, W); the rain layer is r = y − b.

Model:  Ψ(b) = (α/2)‖∂_v (y − b)‖² + (β/2)‖∂_h b‖² + λ·#{r ≠ 0} + ι{0 ≤ b ≤ y} + ι{r = 0 off S}
    f(b) = ½‖T b − c‖², T = [√β ∂_h; √α ∂_v], c = [0; √α ∂_v y]: the rain layer is smooth ALONG
           the streaks (vertical), the background smooth ACROSS them (horizontal); periodic
           differences, L = 4(α + β), prox of f diagonal in Fourier;
    g(b) = ℓ0 on r = y − b with r ≥ 0, b ≥ 0 (:class:`core.tasks.streaks.StreakPrior`): rain is sparse
           and only brightens, and it lies on S = {streak_map(y) > τ}, the pixels the streak
           detector finds in y (thin, bright, vertically coherent; τ = 0.06, ``support=τ``; 0:
           anywhere). Exact per-pixel prox. ``--prior streaks:p=1`` gives ℓ1.
Off the declared rain b = y exactly, so f only shapes the background where rain is declared: the
model inpaints streak pixels from their horizontal neighbours. Without S the minimiser declares
rain in texture too and smooths it away (PSNR peaks, then falls with every iteration); with S the
converged iterate is the result. b⁰ = y.

Module A (:class:`core.tasks.streaks.StreakModule`; denoiser ``cnn`` when trained weights exist, else
``tv``): streak pixels = horizontal white top-hat of y (thin and bright) averaged along the vertical
(long) above a threshold; there the proposal is the row-wise opening of A_f(b^k) cleaned by the
learned denoiser at σ^k, elsewhere y; proximal-gradient steps on Ψ^k make it checkable.
``none``: A_f + refinement only.

Synthetic data (the benchmark): the bundled CC0 photo (or the given image) + seeded streaks of seed
density ``rain`` at ``angle`` degrees from vertical (:func:`core.tasks.streaks.add_rain`) + Gaussian noise
``noise``; ground truth = the clean image. With ``rain = 0`` the image is taken as already rainy
(no ground truth).
"""

from __future__ import annotations

import math

import torch

from ..fidelity import LeastSquares
from ..io import InputError
from ..modules import make_denoiser
from ..modules.base import FidelityStep
from ..modules.refine import ProximalRefinement
from ..params import Parameters
from ..priors import Prior
from ..problem import Problem
from .base import (
    TaskSetup,
    gaussian_noise,
    load_task_image,
    make_task_prior,
    parse_prior_spec,
    task_setup,
)
from .common import as_colour
from .description import (
    GENERAL_PRIORS,
    Choice,
    TaskDescription,
    TaskOption,
    ViewHints,
    noise_option,
    seed_option,
)
from .layer_operators import DifferenceStack, dv
from .streaks import STREAK_THRESHOLD, StreakModule, StreakPrior, add_rain

ALONG = 1.0  # α: smoothness of r along the streaks
ACROSS = 0.5  # β: smoothness of b across the streaks
REFINE_STEPS = 20
Tensor = torch.Tensor

DESCRIPTION = TaskDescription(
    name="derain",
    summary="rain-streak removal as layer separation y = b + r (colour), ℓ0 on the rain layer",
    sample="chelsea.png",
    options=(
        noise_option(0.0),
        seed_option("seed of the noise and of the synthetic rain"),
        TaskOption(
            "rain",
            float,
            0.003,
            "seed density of the synthetic streaks added (0: the image is taken as rainy already, "
            "without ground truth)",
            scale="fraction of pixels that start a streak",
            bounds=(0.0, 0.2),
        ),
        TaskOption(
            "angle",
            float,
            5.0,
            "direction of the synthetic streaks",
            scale="degrees from vertical",
            bounds=(-45.0, 45.0),
        ),
    ),
    # inside the guarantee: γ = 0.9/L, L = 4(α + β) = 6; 2C = 0.27 < μ = 0.3; σ for the detector
    parameters=lambda o: Parameters(
        C=0.135,
        mu=0.3,
        gamma=0.9 / (4 * (ALONG + ACROSS)),
        lam=3e-4,
        rho=0.3,
        sigma_start=25 / 255,
        sigma_end=max(o["noise"], 15 / 255),
        sigma_steps=10,
    ),
    default_prior={"name": StreakPrior.name, "p": 0.0, "support": STREAK_THRESHOLD},
    priors=(
        Choice(
            StreakPrior.name,
            "ℓ0 on the rain layer y − b on the detected streaks, 0 ≤ b ≤ y (derain's own)",
        ),
        Choice(
            f"{StreakPrior.name}:p=1",
            "ℓ1 on the rain layer y − b on the detected streaks, 0 ≤ b ≤ y (derain's own)",
        ),
        *GENERAL_PRIORS,
    ),
    module_notes=(Choice("none", "A_f and refinement only, no streak detector"),),
    views=ViewHints(colour=True),
)


def make_prior(spec, observation: Tensor, lam: float) -> Prior:
    """``streaks[:p=0|1,support=τ,weight=λ]`` (default ℓ0 on S), or a prior make_task_prior takes."""
    if spec is None:
        spec = dict(DESCRIPTION.default_prior)
    elif isinstance(spec, str):
        spec = parse_prior_spec(spec)
    if isinstance(spec, dict) and spec.get("name") == "streaks":
        options = {k: v for k, v in spec.items() if k != "name"}
        unknown = set(options) - {"weight", "p", "support"}
        if unknown:
            raise InputError(
                f"bad prior: streaks takes weight, p and support, not {', '.join(unknown)}"
            )
        try:
            return StreakPrior(
                observation,
                options.get("weight", lam),
                options.get("p", 0.0),
                options.get("support", STREAK_THRESHOLD),
            )
        except ValueError as exc:
            raise InputError(f"bad prior: {exc}") from exc
    return make_task_prior(spec, {}, lam)


def make_module(name: str | None, device: torch.device):
    """(module, name): the streak module with a denoiser (default: learned), or ``none``."""
    name = name or DESCRIPTION.default_module_name()
    if name == "none":
        return ProximalRefinement(FidelityStep(), REFINE_STEPS), name
    try:
        denoiser = make_denoiser(name, device)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    return StreakModule(denoiser, steps=REFINE_STEPS, name=name), name


def build(image, options: dict) -> TaskSetup:
    """Add seeded rain (seed density ``rain``) and noise to the image (or take it rainy); set up FIMA.

    ``options``: every option of :data:`DESCRIPTION`, checked, and ``module``, ``prior``, ``device``.
    """
    dev, noise, seed = options["device"], options["noise"], options["seed"]
    rain, angle = options["rain"], options["angle"]
    clean, path = load_task_image(image, DESCRIPTION.sample, grayscale=None)
    clean = as_colour(clean, "derain input")
    if rain > 0:
        rainy, _ = add_rain(clean, rain, seed, angle)
        truth = clean.to(dev)
    else:
        rainy, truth = clean, None
    rainy = (rainy + gaussian_noise(tuple(clean.shape), noise, seed)).clamp(0.0, 1.0).to(dev)
    params = DESCRIPTION.parameters(options)
    operator = DifferenceStack(0.0, math.sqrt(ACROSS), math.sqrt(ALONG))
    target = torch.cat([torch.zeros_like(rainy), math.sqrt(ALONG) * dv(rainy)], dim=1)
    g = make_prior(options["prior"], rainy, params.lam)
    problem = Problem(
        fidelity=LeastSquares(operator, target),
        prior=g,
        x0=rainy.clone(),
        ground_truth=truth,
        observation_image=rainy,
        task="derain",
        info={"rain": rain, "angle": angle, "noise": noise, "seed": seed, "rainy": rainy},
    )
    mod, module_name = make_module(options["module"], dev)
    return task_setup(problem, mod, module_name, params, image, path, options)
