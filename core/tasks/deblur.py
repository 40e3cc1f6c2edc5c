"""Non-blind deblurring.  y = k ⊛ x + n,  n ~ N(0, σ_n²)  (circular convolution, periodic boundary).

Model:  Ψ(x) = ½‖k ⊛ x − y‖² + λ‖W x‖₁   (W orthonormal Haar; ℓp / ℓ0 / TV selectable).
L = max|K̂|² = 1 for a normalised non-negative kernel.  x⁰ = y.
Module A = R ∘ A_g ∘ A_f: A_f the closed-form solve of ½‖k ⊛ z − y‖² + ρ/2‖z − x‖² (FFT), A_g the
trained CNN denoiser (or a classical one) at a geometrically decreasing σ^k, and R ten proximal-gradient
steps on Ψ^k = Ψ + μ/2‖· − x^k‖² started at the denoiser's output (core/modules/refine.py): without R
FIMA's check, inside 2C < μ, rejects nearly every raw denoiser output.
"""

from __future__ import annotations

from ..fidelity import LeastSquares
from ..io import load_kernel
from ..operators import Blur
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
DEFAULTS = {"kernel": "levin:4", "noise": 0.01, "seed": 0}


def default_parameters(noise: float) -> Parameters:
    """Defaults inside the guarantee (2C < μ, γ < 1/L = 1) with σ^k from 49/255 down to the noise.

    ρ = 0.23 is the final weight of the data step (ρ^k = ρ (σ_end/σ^k)², as in DPIR's HQS schedule).
    """
    return Parameters(
        C=0.135,
        mu=0.3,
        gamma=0.9,
        lam=1e-3,
        rho=0.23,
        sigma_start=49 / 255,
        sigma_end=max(noise, 1 / 255),
        sigma_steps=30,
    )


def build(
    image=None,
    kernel: str = DEFAULTS["kernel"],
    noise: float = DEFAULTS["noise"],
    seed: int = DEFAULTS["seed"],
    module: str | None = None,
    prior=None,
    device: str | None = None,
    grayscale: bool = True,
) -> TaskSetup:
    """Blur the image with ``kernel``, add Gaussian noise of std ``noise`` (seeded), set up FIMA."""
    dev = resolve_device(device)
    truth, path = load_task_image(image, SAMPLE, grayscale)
    noise = check_noise(noise)
    k = load_kernel(kernel, max_size=tuple(truth.shape[-2:]))
    operator = Blur(k, truth.shape[-2:])
    observation = operator.forward(truth) + gaussian_noise(tuple(truth.shape), noise, seed)
    params = default_parameters(noise)
    operator.to(dev)
    truth, observation = truth.to(dev), observation.to(dev)
    g = make_task_prior(prior, {"name": "wavelet", "p": 1.0, "levels": 4}, params.lam)
    problem = Problem(
        fidelity=LeastSquares(operator, observation),
        prior=g,
        x0=observation.clone(),
        ground_truth=truth,
        observation_image=observation,
        task="deblur",
        info={"kernel": str(kernel), "noise": noise, "seed": int(seed)},
    )
    mod, module_name = refined_module(module, dev, REFINE_STEPS)
    options = dict(kernel=str(kernel), noise=noise, seed=int(seed), device=dev)
    return task_setup(problem, mod, module_name, params, image, path, options)
