"""Gaussian denoising.  y = x + n,  n ~ N(0, σ_n²).

Model:  Ψ(x) = ½‖x − y‖² + λ‖W x‖₁  (T = I, L = 1).  x⁰ = y.
Module A = A_g ∘ A_f with A_f(x) = (y + ρx)/(1 + ρ) and A_g the denoiser at σ^k.
"""

from __future__ import annotations

from ..fidelity import LeastSquares
from ..operators import Identity
from ..params import Parameters
from ..problem import Problem
from .base import (
    TaskSetup,
    check_noise,
    gaussian_noise,
    load_task_image,
    make_task_prior,
    resolve_device,
    task_setup,
)
from .common import refined_module

SAMPLE = "house.png"
REFINE_STEPS = 10  # proximal-gradient steps on Ψ^k after the denoiser (modules/refine.py)


def default_parameters(noise: float) -> Parameters:
    """Defaults inside the guarantee: γ = 0.9 < 1/L = 1, 2C = 0.8 < μ = 1, σ^k ending at the noise."""
    return Parameters(
        C=0.135,
        mu=0.3,
        gamma=0.9,
        lam=0.5 * noise * noise * 10,
        rho=1.0,
        sigma_start=max(noise, 1 / 255) * 1.5,
        sigma_end=max(noise, 1 / 255),
        sigma_steps=10,
    )


def build(
    image=None,
    noise: float = 25 / 255,
    seed: int = 0,
    module: str | None = None,
    prior=None,
    device: str | None = None,
    grayscale: bool = True,
) -> TaskSetup:
    """Add Gaussian noise of std ``noise`` (seeded) to the image and set up FIMA."""
    dev = resolve_device(device)
    truth, path = load_task_image(image, SAMPLE, grayscale)
    noise = check_noise(noise)
    observation = truth + gaussian_noise(tuple(truth.shape), noise, seed)
    params = default_parameters(noise)
    truth, observation = truth.to(dev), observation.to(dev)
    g = make_task_prior(prior, {"name": "wavelet", "p": 1.0, "levels": 4}, params.lam)
    problem = Problem(
        fidelity=LeastSquares(Identity(), observation),
        prior=g,
        x0=observation.clone(),
        ground_truth=truth,
        observation_image=observation,
        task="denoise",
        info={"noise": noise, "seed": int(seed)},
    )
    mod, module_name = refined_module(module, dev, REFINE_STEPS)
    options = dict(noise=noise, seed=int(seed), device=dev)
    return task_setup(problem, mod, module_name, params, image, path, options)
