"""Retinex low-light enhancement: solve for the illumination t, show R̂ = D(y) / t^γ_e  (colour y).

Data: y = t ⊙ R + n (colour, one illumination for all channels). Initial estimate t̂ = the bright
channel, max of y over colour channels and a 15×15 window (LIME's max-channel, made tighter).
The FIMA variable is the illumination map t, shape (1, 1, H, W).

Model:  Ψ(t) = ½‖t − t̂‖² + (α/2)(‖∂_h t‖² + ‖∂_v t‖²) + ι_[ε,1](t)
    f(t) = ½‖T t − b‖², T = [I; √α ∂_h; √α ∂_v], b = [t̂; 0; 0] — fidelity to t̂ plus the quadratic
           smoothness prior (periodic differences), L = ‖T‖² = 1 + 8α, prox of f diagonal in Fourier;
    g(t) = ι{m ≤ t ≤ 1}, m = max(max_c y, ε) per pixel: R = y/t ≤ 1 needs t ≥ max_c y, so the
           smoothing may raise t̂ but not push t below what the pixel itself proves (exact prox:
           projection).  ``--prior tv`` replaces g by λ TV(t).
t⁰ = clamp(t̂, ε, 1). Plain proximal gradient needs γ < 1/L: with α = 20 its steps are tiny and the
mid frequencies of t converge over thousands of iterations.

Module A (``none``, default): A_f with the box — the minimiser of Ψ^k = Ψ + μ/2‖· − t^k‖² by a few
ADMM steps, each a Fourier-diagonal solve and a projection (:class:`ProximalPoint`); FIMA's check
accepts it, and one accepted step does what thousands of plain proximal-gradient steps would.
Registry names (cnn, tv, …) add a denoiser on t at σ^k, proximal-gradient refinement and the box. The learned denoiser's main job here is
the light denoise of the output: ``problem.info["render"](t)`` = clip(D(y)/max(t, ε)^γ_e) with the
trained CNN (else TV) at σ = ``noise``, γ_e = 0.8 (:func:`enhance`).

Synthetic data (the benchmark): a clean image R (the bundled CC0 photo, or the given image when it is
not dark already) under a smooth illumination in [0.05, 0.35] with Gaussian noise of std ``noise``;
ground truth of t = the true illumination, ``info["clean"]`` = R. A dark input (mean < 0.2, or
``darken="no"``) is enhanced as it is, without ground truth (e.g. resources/samples/dark_coffee.png).
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch

from ..fidelity import LeastSquares
from ..modules import make_denoiser
from ..modules.base import Module
from ..modules.refine import ProximalRefinement
from ..params import Parameters
from ..problem import Problem
from .base import (
    TaskSetup,
    gaussian_noise,
    load_task_image,
    make_task_prior,
    module_for,
    task_setup,
)
from .common import as_colour, learned_module_name
from .description import (
    GENERAL_PRIORS,
    Choice,
    TaskDescription,
    TaskOption,
    ViewHints,
    noise_option,
    seed_option,
)
from .layer_operators import DifferenceStack
from .retinex import IlluminationBox, initial_illumination, synthetic_illumination
from .retinex import enhance as retinex_enhance

FLOOR = 0.02  # ε: the smallest illumination
EXPOSURE = 0.8  # γ_e for real dark photos (LIME); synthetic data follow y = t·R exactly: γ_e = 1
DARK_MEAN = 0.2
REFINE_STEPS = 10
Tensor = torch.Tensor

DESCRIPTION = TaskDescription(
    name="lowlight",
    summary="Retinex low-light enhancement: solve for the illumination t, show y / t^γ (colour)",
    sample="coffee.png",
    options=(
        noise_option(0.01),
        seed_option("seed of the noise and of the synthetic illumination"),
        TaskOption(
            "darken",
            str,
            "auto",
            "yes: darken the image under a synthetic illumination (ground truth known); no: take it "
            "as a dark photo; auto: yes unless the image is dark already (mean < 0.2)",
            choices=("auto", "yes", "no"),
        ),
        TaskOption(
            "smoothness",
            float,
            20.0,
            "α, the weight of the illumination's smoothness (α/2)(‖∂_h t‖² + ‖∂_v t‖²); L = 1 + 8α",
            bounds=(0.0, 1e4),
            open_below=True,
        ),
    ),
    # inside the guarantee: γ = 0.9/L with L = 1 + 8α, 2C = 0.09 < μ = 0.1; ρ = μ
    parameters=lambda o: Parameters(
        C=0.045,
        mu=0.1,
        gamma=0.9 / (1.0 + 8.0 * o["smoothness"]),
        lam=1e-3,
        rho=0.1,
        sigma_start=max(o["noise"], 1 / 255),
        sigma_end=max(o["noise"], 1 / 255),
        sigma_steps=0,
    ),
    default_prior={"name": IlluminationBox.name},
    priors=(
        Choice(
            IlluminationBox.name, "t between the brightest channel of y and 1 (low-light's own)"
        ),
        *GENERAL_PRIORS,
    ),
    default_module="none",
    module_notes=(
        Choice(
            "none",
            "The closed-form step: the minimiser of Ψᵏ by ADMM (the task's default)",
            label="none (closed-form step)",
        ),
    ),
    views=ViewHints(
        renders_picture=True,
        colour=True,
        variable="t",
        variable_name="illumination",
        observation_title="dark observation y",
    ),
)


class ClampedModule(Module):
    """u = P(inner(t^k)): every proposal projected into g's box when g is one (else clamp to [ε, 1])."""

    def __init__(self, inner):
        self.inner = inner
        self.name = getattr(inner, "name", "module")

    def __call__(self, x: Tensor, k: int, params: Parameters, problem) -> Tensor:
        """P(inner(x))."""
        u = self.inner(x, k, params, problem)
        if isinstance(problem.prior, IlluminationBox):
            return problem.prior.prox(u, params.gamma)
        return u.clamp(FLOOR, 1.0)

    def describe(self) -> dict:
        """The inner module's settings."""
        return self.inner.describe() if hasattr(self.inner, "describe") else {"name": self.name}


class ProximalPoint(Module):
    """A_f with the box: argmin_z f(z) + g(z) + μ/2‖z − t^k‖² by ``iterations`` ADMM steps.

    The splitting z = s, s ∈ box makes each step one Fourier-diagonal solve of
    (TᵀT + (μ + β)I) z = Tᵀb + μt^k + β(s − w) and one projection; the feasible s is returned. It is
    the minimiser of Ψ^k, which is what FIMA's check asks a proposal to be.
    """

    name = "none"

    def __init__(self, iterations: int = 100, penalty: float | None = None):
        self.iterations = int(iterations)
        self.penalty = penalty  # None: β = √((1 + μ)(L + μ)), balancing TᵀT's extreme eigenvalues

    def __call__(self, x: Tensor, k: int, params: Parameters, problem) -> Tensor:
        """ADMM on Ψ^k from s = t^k."""
        fidelity, prior = problem.fidelity, problem.prior
        operator, mu = fidelity.operator, params.mu
        beta = self.penalty or ((1.0 + mu) * (problem.lipschitz + mu)) ** 0.5
        base = operator.adjoint(fidelity.observation) + mu * x
        s, w = x.clone(), torch.zeros_like(x)
        for _ in range(self.iterations):
            z = operator.solve_normal(base + beta * (s - w), mu + beta)
            s = prior.prox(z + w, 1.0 / beta)
            w = w + z - s
        return s

    def describe(self) -> dict:
        """Settings."""
        return {"name": self.name, "admm_iterations": self.iterations}


def make_prior(spec, y: Tensor, lam: float):
    """The illumination box [max(max_c y, ε), 1] (default), or any prior :func:`make_task_prior` takes."""
    spec = DESCRIPTION.default_prior if spec is None else spec
    name = spec.get("name") if isinstance(spec, Mapping) else spec
    if name == IlluminationBox.name:
        return IlluminationBox(y.amax(dim=1, keepdim=True), FLOOR)
    return make_task_prior(dict(spec) if isinstance(spec, Mapping) else spec, {}, lam)


def make_module(name: str | None, device: torch.device):
    """(module, name): ``none`` = the closed-form A_f (default); other names add a denoiser on t."""
    name = name or DESCRIPTION.default_module_name()
    if name == "none":
        return ProximalPoint(), name
    inner, name = module_for(name, device)
    return ClampedModule(ProximalRefinement(inner, REFINE_STEPS)), name


def enhance(setup: TaskSetup, t: Tensor) -> Tensor:
    """The picture a user wants from an illumination iterate t: R̂ = D(y) / max(t, ε)^γ_e."""
    return setup.problem.info["render"](t)


class RetinexRenderer:
    """t ↦ R̂ = D(y) / max(t, ε)^γ_e, the light denoise D(y) made once, at the first picture (a
    class, not a closure, so a problem can be sent to the explorer's engine process)."""

    def __init__(self, y: Tensor, noise: float, device: torch.device, exposure: float) -> None:
        self.y, self.noise, self.device, self.exposure = y, noise, device, exposure
        self.denoised: Tensor | None = None

    def __call__(self, t: Tensor) -> Tensor:
        """The enhanced picture of illumination t."""
        if self.denoised is None:  # the light denoise of y does not depend on t: once per problem
            denoiser = None
            if self.noise > 0:
                try:
                    denoiser = make_denoiser(learned_module_name(), self.device)
                except ValueError:
                    denoiser = make_denoiser("tv", self.device)
            y = self.y
            self.denoised = denoiser(y, self.noise) if denoiser is not None else y
        return retinex_enhance(self.denoised, t, self.exposure, FLOOR)


def build(image, options: dict) -> TaskSetup:
    """Darken the image under a synthetic illumination (or take a dark one as it is); set up FIMA.

    ``options``: every option of :data:`DESCRIPTION`, checked, and ``module``, ``prior``, ``device``.
    """
    dev, noise, seed, darken = (options[k] for k in ("device", "noise", "seed", "darken"))
    smoothness = options["smoothness"]
    picture, path = load_task_image(image, DESCRIPTION.sample, grayscale=None)
    picture = as_colour(picture, "low-light input")
    synthetic = darken == "yes" or (darken == "auto" and float(picture.mean()) >= DARK_MEAN)
    if synthetic:
        light = synthetic_illumination(tuple(picture.shape[-2:]), seed)
        y = picture * light + gaussian_noise(tuple(picture.shape), noise, seed)
        clean, truth = picture.to(dev), light.to(dev)
    else:
        y, clean, truth = picture, None, None
    y = y.clamp(0.0, 1.0).to(dev)
    estimate = initial_illumination(y)
    operator = DifferenceStack(1.0, math.sqrt(smoothness), math.sqrt(smoothness))
    target = torch.cat([estimate, torch.zeros_like(estimate), torch.zeros_like(estimate)], dim=1)
    params = DESCRIPTION.parameters(options)
    g = make_prior(options["prior"], y, params.lam)
    exposure = 1.0 if synthetic else EXPOSURE
    render = RetinexRenderer(y, noise, dev, exposure)
    problem = Problem(
        fidelity=LeastSquares(operator, target),
        prior=g,
        x0=estimate.clamp(FLOOR, 1.0),
        ground_truth=truth,
        observation_image=y,
        task="lowlight",
        info={
            "noise": noise,
            "seed": seed,
            "synthetic": synthetic,
            "clean": clean,
            "initial_illumination": estimate,
            "render": render,
            "exposure": exposure,
            "floor": FLOOR,
        },
    )
    mod, module_name = make_module(options["module"], dev)
    return task_setup(problem, mod, module_name, params, image, path, options)
