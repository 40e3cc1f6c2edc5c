"""Gaussian denoising.  y = x + n,  n ~ N(0, σ_n²).

Model (default):  Ψ(x) = ½‖x − y‖² + λφ_σ(x), Prox-PnP's learned prior whose proximal map is the
gradient-step denoiser D_σ (core/learned_prox_prior.py), σ = ν, γ = 0.99 and λ = 1/γ; L = L_f = 1.
Step 9 reads x^{k+1} = D_σ(v − γ(v − y)), whose fixed point tends to D_σ(y) as γ → 1.
``--prior gs``: ½‖x − y‖² + λ g_σ(x) with σ = 0.8ν, λ = ν²/σ² (L = λ L_g).  ``--prior wavelet``: λ‖W x‖₁.
x⁰ = y.
Module A = A_g ∘ A_f with A_f(x) = (y + ρx)/(1 + ρ) and A_g the denoiser at σ^k.
"""

from __future__ import annotations

from ..fidelity import LeastSquares
from ..operators import Identity
from ..params import Parameters
from .base import TaskSetup, gaussian_noise, load_task_image
from .description import (
    GRAYSCALE,
    LEARNED_PRIORS,
    TaskDescription,
    ViewHints,
    noise_option,
    seed_option,
)
from .learned import LearnedDefaults, Observed, learned_task_setup

# Ψ = f + λφ_σ (Prox-PnP, prox φ_σ = D_σ) with σ = ν and γ = 0.99 (λ = 1/γ): the fixed point tends
# to D_σ(y) as γ → 1. ``--prior gs`` (Ψ = f + λ g_σ) keeps σ = 0.8ν, λ = ν²/σ² (train400 crops).
HAND_MADE = {"name": "wavelet", "p": 1.0, "levels": 4}  # the hand-made model's layout
LEARNED = LearnedDefaults(sigma_factor=0.8)
PROX = LearnedDefaults(sigma_factor=1.0, mu_gamma=0.1, step=0.99, refine_steps=0, prior="gs-prox")
DEFAULTS = (PROX, LEARNED)
REFINE_STEPS = 10  # proximal-gradient steps on Ψ^k after the denoiser (modules/refine.py)

DESCRIPTION = TaskDescription(
    name="denoise",
    summary="Gaussian denoising: y = x + n (T = I), learned proximal prior (prox = the denoiser D_σ)",
    sample="house.png",
    options=(noise_option(25 / 255), seed_option(), GRAYSCALE),
    # inside the guarantee (γ = 0.9 < 1/L = 1, 2C = 0.27 < μ = 0.3); λ = 5σ_n², σ^k ending at the noise
    parameters=lambda o: Parameters(
        C=0.135,
        mu=0.3,
        gamma=0.9,
        lam=0.5 * o["noise"] * o["noise"] * 10,
        rho=1.0,
        sigma_start=max(o["noise"], 1 / 255) * 1.5,
        sigma_end=max(o["noise"], 1 / 255),
        sigma_steps=10,
    ),
    default_prior={"name": "gs-prox"},
    priors=LEARNED_PRIORS,
    learned=DEFAULTS,
    views=ViewHints(colour=True),
)


def build(image, options: dict) -> TaskSetup:
    """Add Gaussian noise of std ``noise`` (seeded) to the image and set up FIMA.

    ``options``: every option of :data:`DESCRIPTION`, checked, and ``module``, ``prior``, ``device``.
    """
    dev, noise, seed = options["device"], options["noise"], options["seed"]
    truth, path = load_task_image(image, DESCRIPTION.sample, options["grayscale"])
    observation = truth + gaussian_noise(tuple(truth.shape), noise, seed)
    truth, observation = truth.to(dev), observation.to(dev)
    info = {"noise": noise, "seed": seed}
    observed = Observed(LeastSquares(Identity(), observation), observation, truth, info)
    return learned_task_setup(
        DESCRIPTION, observed, image, path, options, hand_made=HAND_MADE, refine_steps=REFINE_STEPS
    )
