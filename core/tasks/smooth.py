"""Edge-preserving smoothing: recover the cartoon c from y = c + texture + n  (T = I, L = 1).

Model:  Ψ(x) = ½‖x − y‖² + λ‖W x‖₀  (W orthonormal Haar, ℓ0 = number of non-zero detail
coefficients; ``--prior wavelet:p=0.5`` / ``tv`` select others). Haar atoms are piecewise constant, so
few non-zero coefficients means a piecewise-flat image, and the prox (hard thresholding) is EXACT.
For T = I the problem separates over coefficients: every critical point keeps some of y's
coefficients and zeroes the rest, and plain proximal gradient from x⁰ = y stops at the first
threshold √(2γλ) — texture whose coefficients exceed it survives. Which of the remaining
coefficients are texture is what the module decides.

Module A (``l0``, default): ℓ0-gradient smoothing (Xu et al. 2011, :mod:`core.modules.edge`) of
A_f(x^k) = (y + ρx^k)/(1 + ρ) with κ = (σ^k)², σ^k ≈ the amplitude of what should vanish — it
flattens texture and keeps steps, i.e. it points at the coefficients of the cartoon; the
proposal keeps y's Haar coefficients where the smoothed image has any (it speaks g's language), and
proximal-gradient steps on Ψ^k (:mod:`core.modules.refine`) make it checkable.
``guided`` uses the self-guided filter instead; registry names (cnn, tv, …) a denoiser at σ^k.

Synthetic data (the benchmark): the bundled cartoon (or the given image) + oriented sinusoidal
gratings of amplitude ``texture`` (one per grey-level region) + Gaussian noise of std ``noise``;
the cartoon is the ground truth. With ``texture = 0`` and ``noise = 0`` the image itself is smoothed
(no ground truth).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from ..fidelity import LeastSquares
from ..io import InputError
from ..modules.edge import GuidedSmoothing, L0Smoothing, SmoothingSupport
from ..modules.refine import ProximalRefinement
from ..operators import Identity
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
from .description import Choice, TaskDescription, TaskOption, ViewHints, noise_option, seed_option

REFINE_STEPS = 60
Tensor = torch.Tensor


def _parameters(texture: float, noise: float) -> Parameters:
    """Inside the guarantee (γ = 0.1 < 1/L = 1, 2C = 0.24 < μ = 0.25); σ = the texture amplitude.

    A small γ widens the band of coefficients the module may zero for good: a coefficient w of y
    stays zero after step 9 when γ|w| ≤ √(2γλ), while plain proximal gradient keeps every |w| above
    √(2γλ). λ = 3σ² puts that band at [0.08, 0.8] for σ = 0.1.
    """
    level = max(texture, noise, 0.01)
    return Parameters(
        C=0.12,
        mu=0.25,
        gamma=0.1,
        lam=3.0 * level**2,
        rho=0.05,
        sigma_start=level,
        sigma_end=level,
        sigma_steps=0,
    )


DESCRIPTION = TaskDescription(
    name="smooth",
    summary="edge-preserving smoothing: the cartoon c of y = c + texture + n, wavelet-ℓ0 model",
    sample="cartoon.png",
    options=(
        noise_option(0.02),
        seed_option("seed of the noise and of the texture"),
        TaskOption(
            "texture",
            float,
            0.1,
            "amplitude of the synthetic texture added (oriented gratings; 0 with noise 0: the "
            "image is smoothed as it is, without ground truth)",
            scale="on the [0, 1] intensity scale",
            bounds=(0.0, 1.0),
        ),
    ),
    parameters=lambda o: _parameters(o["texture"], o["noise"]),
    default_prior={"name": "wavelet", "p": 0.0, "levels": 4},
    default_module="l0",
    modules=(
        Choice("l0", "ℓ0-gradient smoothing (Xu et al. 2011), with refinement"),
        Choice("guided", "Self-guided filter, with refinement"),
    ),
    views=ViewHints(colour=True),
)


def add_texture(image: Tensor, amplitude: float, seed: int, levels: int = 8) -> Tensor:
    """image + amplitude·(an oriented grating per grey-level region), period 4–9 px, seeded."""
    if amplitude == 0:
        return image.clone()
    rng = np.random.default_rng(seed)
    h, w = image.shape[-2:]
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float64)
    grey = image.mean(dim=1)[0].cpu().numpy()
    labels = np.clip((grey * levels).astype(int), 0, levels - 1)
    texture = np.zeros((h, w))
    for label in range(levels):
        theta, period, phase = (
            rng.uniform(0, math.pi),
            rng.uniform(4, 9),
            rng.uniform(0, 2 * math.pi),
        )
        grating = np.sin(
            2 * math.pi * (xx * math.cos(theta) + yy * math.sin(theta)) / period + phase
        )
        texture[labels == label] = grating[labels == label]
    pattern = torch.tensor(amplitude * texture, dtype=torch.float32)
    return image + pattern.to(image.device)[None, None]


def make_module(name: str | None, device: torch.device):
    """(module, name): ``l0`` (default), ``guided`` or a registry denoiser, with refinement."""
    name = name or DESCRIPTION.default_module_name()
    if name == "l0":
        inner = SmoothingSupport(L0Smoothing(fidelity_step=False))
    elif name == "guided":
        inner = SmoothingSupport(GuidedSmoothing(fidelity_step=False))
    else:
        inner, name = module_for(name, device)
    return ProximalRefinement(inner, REFINE_STEPS), name


def build(image, options: dict) -> TaskSetup:
    """Add texture of amplitude ``texture`` and noise of std ``noise`` (seeded); set up FIMA.

    ``options``: every option of :data:`DESCRIPTION`, checked, and ``module``, ``prior``, ``device``.
    """
    dev, noise, seed, texture = (options[k] for k in ("device", "noise", "seed", "texture"))
    clean, path = load_task_image(image, DESCRIPTION.sample, grayscale=None)
    observation = add_texture(clean, texture, seed) + gaussian_noise(
        tuple(clean.shape), noise, seed
    )
    truth = clean.to(dev) if (texture > 0 or noise > 0) else None
    observation = observation.to(dev)
    params = DESCRIPTION.parameters(options)
    g = make_task_prior(options["prior"], DESCRIPTION.default_prior, params.lam)
    problem = Problem(
        fidelity=LeastSquares(Identity(), observation),
        prior=g,
        x0=observation.clone(),
        ground_truth=truth,
        observation_image=observation,
        task="smooth",
        info={"texture": texture, "noise": noise, "seed": seed},
    )
    try:
        mod, module_name = make_module(options["module"], dev)
    except ValueError as exc:
        raise InputError(str(exc)) from exc
    return task_setup(problem, mod, module_name, params, image, path, options)
