"""Non-blind deblurring.  y = k ⊛ x + n,  n ~ N(0, σ_n²)  (circular convolution, periodic boundary).

Model (default):  Ψ(x) = ½‖k ⊛ x − y‖² + λ g_σ(x), the learned gradient-step prior (core/learned_prior.py)
with σ = 3ν and λ = ν²/(2σ²) for noise std ν; Algorithm 1 differentiates λ g_σ and proxes f by FFT, so
L = λ L_g (estimated). Hand-made models: ``--prior wavelet`` (λ‖W x‖₁ on orthonormal wavelets; ℓp /
ℓ0), ``tv``; there L = max|K̂|² = 1 for a normalised non-negative kernel.  x⁰ = y.
Module A = R ∘ A_g ∘ A_f: A_f the closed-form solve of ½‖k ⊛ z − y‖² + ρ/2‖z − x‖² (FFT), A_g the
trained CNN denoiser (or a classical one) at a geometrically decreasing σ^k, and R proximal-gradient
steps on Ψ^k = Ψ + μ/2‖· − x^k‖² started at the denoiser's output (core/modules/refine.py): 10 with
a hand-made Ψ, where without them FIMA's check (inside 2C < μ) rejects nearly every raw denoiser
output; at most 4 with the learned Ψ, stopping as soon as the check would accept (the adaptive
proposal policy stops paying for proposals once they no longer pass).
"""

from __future__ import annotations

from ..fidelity import LeastSquares
from ..io import load_kernel
from ..operators import Blur
from ..params import Parameters
from .base import TaskSetup, gaussian_noise, load_task_image
from .description import (
    GRAYSCALE,
    LEARNED_PRIORS,
    TaskDescription,
    TaskOption,
    ViewHints,
    noise_option,
    seed_option,
)
from .learned import LearnedDefaults, Observed, learned_task_setup

REFINE_STEPS = 10  # proximal-gradient steps on Ψ^k after the denoiser (modules/refine.py)
# Ψ = f + λ g_σ with σ = 3ν, λ = ν²/(2σ²): the best of benchmarks/deblur_defaults.py's grid (eight
# train400 crops × Levin kernels, the last iterate at 300 iterations; never Set12). The learned step
# under that Ψ: μ = 0.1/γ (an accepted ũ is a long proximal-point step; C = 0.45μ keeps 2C < μ), the
# denoiser's output refined by step 3 itself until the check would accept it (at most 4 steps,
# core/modules/refine.py), and the denoiser's σ^k from 30/255 down to the noise in 3 iterations: the
# shortest time to quality found on train400 crops (CPU seconds until the PSNR stays within 0.5 dB
# of its final value; benchmarks/time_to_quality.py measures it on Set12)
LEARNED = LearnedDefaults(
    sigma_factor=3.0, lam_factor=0.5, mu_gamma=0.1, refine_steps=4, module_schedule=(30 / 255, 3)
)
WAVELET = {"name": "wavelet", "p": 1.0, "levels": 4}  # the hand-made model's layout

DESCRIPTION = TaskDescription(
    name="deblur",
    summary="non-blind deblurring: y = k ⊛ x + n (circular convolution), learned gradient-step prior",
    sample="house.png",
    options=(
        TaskOption(
            "kernel",
            str,
            "levin:4",
            "blur kernel: an image/.npy/.mat FILE, gauss:SIGMA (Gaussian, σ in pixels) or levin:N "
            "(Levin et al.'s motion kernel N = 1..8); normalised to sum 1",
            metavar="FILE|gauss:SIGMA|levin:N",
        ),
        noise_option(0.01),
        seed_option(),
        GRAYSCALE,
    ),
    # inside the guarantee (2C < μ, γ < 1/L = 1); σ^k from 49/255 down to the noise; ρ the data
    # step's final weight (ρ^k = ρ (σ_end/σ^k)², as in DPIR's HQS schedule)
    parameters=lambda o: Parameters(
        C=0.135,
        mu=0.3,
        gamma=0.9,
        lam=1e-3,
        rho=0.23,
        sigma_start=49 / 255,
        sigma_end=max(o["noise"], 1 / 255),
        sigma_steps=30,
    ),
    default_prior={"name": "gs"},
    priors=LEARNED_PRIORS,
    learned=LEARNED,
    views=ViewHints(colour=True),
)


def build(image, options: dict) -> TaskSetup:
    """Blur the image with ``kernel``, add Gaussian noise of std ``noise`` (seeded), set up FIMA.

    ``options``: every option of :data:`DESCRIPTION`, checked, and ``module``, ``prior``, ``device``
    (what :func:`core.tasks.build_task` passes).
    """
    dev, noise, seed = options["device"], options["noise"], options["seed"]
    truth, path = load_task_image(image, DESCRIPTION.sample, options["grayscale"])
    k = load_kernel(options["kernel"], max_size=tuple(truth.shape[-2:]))
    operator = Blur(k, truth.shape[-2:])
    observation = operator.forward(truth) + gaussian_noise(tuple(truth.shape), noise, seed)
    operator.to(dev)
    truth, observation = truth.to(dev), observation.to(dev)
    info = {"kernel": options["kernel"], "noise": noise, "seed": seed}
    observed = Observed(LeastSquares(operator, observation), observation, truth, info)
    return learned_task_setup(
        DESCRIPTION, observed, image, path, options, hand_made=WAVELET, refine_steps=REFINE_STEPS
    )
