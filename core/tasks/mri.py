"""Compressed-sensing MRI.  y = M ⊙ F x + n,  F the orthonormal 2-D DFT, M a 0/1 k-space mask.

Model:  Ψ(x) = ½‖M ⊙ F x − y‖² + g(x),  x real (a magnitude image).
T = M ⊙ F, Tᵀ y = Re Fᴴ(M ⊙ y), TᵀT = Fᴴ diag(M_s) F with the symmetrised mask M_s, so L = ‖T‖² = 1 and
the prox of f is diagonal in k-space. x⁰ = Tᵀ y, the zero-filled reconstruction (also the image shown
as "the input").

g: default λ TV(x) (isotropic, λ = 3·10⁻³, prox by 30 FGP steps). The seed's model
g = λ Σ |(W x)_i|^p on orthonormal Haar wavelets is ``--prior wavelet:p=0.5`` (any p in [0, 1]). Why
TV by default: inside the conditions FIMA's accepted steps are (inexact) proximal-point steps on Ψ, so
the result is bounded by Ψ's own critical points; on Brain_data1 the TV minimiser gains far more
over zero filling than the Haar-ℓ1 model, and the CNN alone (naive plug-and-play, no safeguard)
peaks higher still and then falls (``benchmarks/mri_bounds.py``; the numbers are in
docs/benchmarks.md, "What limits CS-MRI").

Noise: ``noise_model="gaussian"`` adds complex white Gaussian noise of std ``noise`` per real and
imaginary part to the sampled k-space; ``"rician"`` forms the magnitude image |x + n₁ + i·n₂|
(n₁, n₂ ~ N(0, noise²)) before sampling, as in the seed.

Mask: ``radial:PCT``, ``lines:PCT``, ``gauss2d:PCT``, ``poisson:PCT`` (generated with ``seed``) or a
.npy/.png/.mat file, DC-centred or DC-at-corner (see :mod:`core.tasks.masks`). The measured sampling rate
is in ``problem.info["sampling_rate"]`` and the DC-centred mask in ``problem.info["mask"]``.

Module A = refine ∘ A_g ∘ A_f: A_f the closed-form k-space solve of f + ρ/2‖· − x‖², A_g the trained
CNN denoiser at σ^k (or a classical one), then a few proximal-gradient steps on Ψ^k
(:mod:`core.modules.refine`) so that FIMA's check can accept what the network proposes.

Defaults satisfy the conditions (γ = 0.9 < 1/L = 1, 2C = 0.27 < μ = 0.3).
"""

from __future__ import annotations

import torch

from ..fidelity import LeastSquares
from ..operators import MaskedFourier
from ..params import Parameters
from .base import TaskSetup, load_task_image
from .description import (
    LEARNED_PRIORS,
    TaskDescription,
    TaskOption,
    ViewHints,
    noise_option,
    seed_option,
)
from .learned import LearnedDefaults, Observed, learned_task_setup
from .masks import make_mask

# --prior gs: Ψ = f + λ g_σ with σ = 4ν, λ = ν²/σ² (the MAP balance; no tuning on brain images)
HAND_MADE = {"name": "tv", "isotropic": True, "iterations": 30}  # the hand-made model's layout
LEARNED = LearnedDefaults(sigma_factor=4.0)
REFINE_STEPS = 10
Tensor = torch.Tensor

DESCRIPTION = TaskDescription(
    name="mri",
    summary="compressed-sensing MRI: y = M ⊙ F x + n (masked 2-D Fourier), TV model",
    sample="brain.png",
    options=(
        TaskOption(
            "mask",
            str,
            "radial:20",
            "k-space sampling mask: radial:PCT, lines:PCT, gauss2d:PCT or poisson:PCT (PCT % of "
            "k-space, generated with the seed), or a .npy/.png/.mat FILE (DC-centred or at the corner)",
            metavar="PATTERN:PCT|FILE",
        ),
        noise_option(
            0.01,
            "noise std: per real and imaginary part of the sampled k-space (gaussian), or of the "
            "two image-domain components (rician)",
        ),
        seed_option("seed of the noise and of generated masks"),
        TaskOption(
            "noise_model",
            str,
            "gaussian",
            "gaussian: complex white noise added to the sampled k-space; rician: the magnitude "
            "image |x + n₁ + i n₂| is sampled",
            choices=("gaussian", "rician"),
        ),
    ),
    # inside the guarantee: γ = 0.9 < 1/L = 1, 2C = 0.27 < μ = 0.3; λ = 3e-3 (TV); σ^k from 30/255
    parameters=lambda o: Parameters(
        C=0.135,
        mu=0.3,
        gamma=0.9,
        lam=3e-3,
        rho=0.05,
        sigma_start=30 / 255,
        sigma_end=max(o["noise"], 2 / 255),
        sigma_steps=30,
    ),
    # TV by default: the learned Ψ (--prior gs) is ahead on one brain image but behind on the other,
    # and on a textured natural image its minimiser fell below zero filling where TV's did not
    # (docs/benchmarks.md, "CS-MRI with the learned prior")
    default_prior=HAND_MADE,
    priors=LEARNED_PRIORS,
    learned=LEARNED,
    views=ViewHints(kspace_mask=True, observation_title="zero-filled Tᵀy"),
)


def _complex_noise(shape: tuple[int, ...], sigma: float, seed: int) -> tuple[Tensor, Tensor]:
    gen = torch.Generator().manual_seed(int(seed))
    real = torch.randn(shape, generator=gen, dtype=torch.float32)
    imag = torch.randn(shape, generator=gen, dtype=torch.float32)
    return sigma * real, sigma * imag


def observe(
    truth: Tensor, operator: MaskedFourier, noise: float, seed: int, noise_model: str
) -> Tensor:
    """y = M ⊙ F x + n (complex Gaussian) or y = M ⊙ F|x + n₁ + i n₂| (Rician), seeded."""
    n1, n2 = _complex_noise(tuple(truth.shape), noise, seed)
    if noise_model == "rician":
        magnitude = torch.sqrt((truth + n1) ** 2 + n2**2)
        return operator.forward(magnitude)
    return operator.forward(truth) + torch.complex(n1, n2) * operator.mask.cpu()


def build(image, options: dict) -> TaskSetup:
    """Sample the image's k-space with ``mask``, add ``noise_model`` noise, set up FIMA.

    ``options``: every option of :data:`DESCRIPTION`, checked, and ``module``, ``prior``, ``device``.
    """
    dev, noise, seed = options["device"], options["noise"], options["seed"]
    truth, path = load_task_image(image, DESCRIPTION.sample, grayscale=True)
    shape = tuple(truth.shape[-2:])
    centred, mask_info = make_mask(options["mask"], shape, seed)
    operator = MaskedFourier(centred)
    observation = observe(truth, operator, noise, seed, options["noise_model"])
    operator.to(dev)
    truth, observation = truth.to(dev), observation.to(dev)
    zero_filled = operator.adjoint(observation)
    info = {
        "mask": centred,
        "sampling_rate": mask_info["sampling_rate"],
        "mask_info": mask_info,
        "noise": noise,
        "noise_model": options["noise_model"],
        "seed": seed,
        "kspace": observation,
    }
    observed = Observed(LeastSquares(operator, observation), zero_filled, truth, info)
    return learned_task_setup(
        DESCRIPTION, observed, image, path, options, hand_made=HAND_MADE, refine_steps=REFINE_STEPS
    )
