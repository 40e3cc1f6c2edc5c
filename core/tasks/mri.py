"""Compressed-sensing MRI.  y = M ⊙ F x + n,  F the orthonormal 2-D DFT, M a 0/1 k-space mask.

Model:  Ψ(x) = ½‖M ⊙ F x − y‖² + g(x),  x real (a magnitude image).
T = M ⊙ F, Tᵀ y = Re Fᴴ(M ⊙ y), TᵀT = Fᴴ diag(M_s) F with the symmetrised mask M_s, so L = ‖T‖² = 1 and
the prox of f is diagonal in k-space. x⁰ = Tᵀ y, the zero-filled reconstruction (also the image shown
as "the input").

g: default λ TV(x) (isotropic, λ = 3·10⁻³, prox by 30 FGP steps). The seed's model
g = λ Σ |(W x)_i|^p on orthonormal Haar wavelets is ``--prior wavelet:p=0.5`` (any p in [0, 1]). Why
TV by default: inside the conditions FIMA's accepted steps are (inexact) proximal-point steps on Ψ, so
the result is bounded by Ψ's own critical points; on Brain_data1 with radial:20 and 1 % noise the
Haar-ℓ1 model gains ≈ 0.5-1 dB over zero filling, the TV minimiser 4.6 dB at its best λ, and the
CNN alone (naive plug-and-play, no safeguard) peaks at 5.9 dB (``benchmarks/mri_bounds.py``).

Noise: ``noise_model="gaussian"`` adds complex white Gaussian noise of std ``noise`` per real and
imaginary part to the sampled k-space; ``"rician"`` forms the magnitude image |x + n₁ + i·n₂|
(n₁, n₂ ~ N(0, noise²)) before sampling, as in the seed.

Mask: ``radial:PCT``, ``lines:PCT``, ``gauss2d:PCT``, ``poisson:PCT`` (generated with ``seed``) or a
.npy/.png/.mat file, DC-centred or DC-at-corner (see :mod:`core.masks`). The measured sampling rate
is in ``problem.info["sampling_rate"]`` and the DC-centred mask in ``problem.info["mask"]``.

Module A = refine ∘ A_g ∘ A_f: A_f the closed-form k-space solve of f + ρ/2‖· − x‖², A_g the trained
CNN denoiser at σ^k (or a classical one), then a few proximal-gradient steps on Ψ^k
(:mod:`core.modules.refine`) so that FIMA's check can accept what the network proposes.

Defaults satisfy the conditions (γ = 0.9 < 1/L = 1, 2C = 0.27 < μ = 0.3).
"""

from __future__ import annotations

import torch

from ..fidelity import LeastSquares
from ..io import InputError
from ..masks import make_mask
from ..operators import MaskedFourier
from ..params import Parameters
from ..problem import Problem
from .base import (
    TaskSetup,
    check_noise,
    load_task_image,
    make_task_prior,
    resolve_device,
    task_setup,
)
from .common import refined_module

SAMPLE = "brain.png"
NOISE_MODELS = ("gaussian", "rician")
REFINE_STEPS = 10
DEFAULT_PRIOR = {"name": "tv", "isotropic": True, "iterations": 30}
Tensor = torch.Tensor


def default_parameters(noise: float) -> Parameters:
    """Inside the guarantee: γ = 0.9 < 1/L = 1, 2C = 0.27 < μ = 0.3; λ = 3e-3 (TV); σ^k from 30/255."""
    return Parameters(
        C=0.135,
        mu=0.3,
        gamma=0.9,
        lam=3e-3,
        rho=0.05,
        sigma_start=30 / 255,
        sigma_end=max(noise, 2 / 255),
        sigma_steps=30,
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


def build(
    image=None,
    mask: str = "radial:20",
    noise: float = 0.01,
    seed: int = 0,
    module: str | None = None,
    prior=None,
    device: str | None = None,
    noise_model: str = "gaussian",
) -> TaskSetup:
    """Sample the image's k-space with ``mask``, add ``noise_model`` noise, set up FIMA."""
    dev = resolve_device(device)
    if noise_model not in NOISE_MODELS:
        raise InputError(
            f"noise_model must be one of {', '.join(NOISE_MODELS)}, got {noise_model!r}"
        )
    truth, path = load_task_image(image, SAMPLE, grayscale=True)
    noise = check_noise(noise)
    shape = tuple(truth.shape[-2:])
    centred, mask_info = make_mask(mask, shape, seed)
    operator = MaskedFourier(centred)
    observation = observe(truth, operator, noise, seed, noise_model)
    operator.to(dev)
    truth, observation = truth.to(dev), observation.to(dev)
    zero_filled = operator.adjoint(observation)
    params = default_parameters(noise)
    g = make_task_prior(prior, DEFAULT_PRIOR, params.lam)
    problem = Problem(
        fidelity=LeastSquares(operator, observation),
        prior=g,
        x0=zero_filled.clone(),
        ground_truth=truth,
        observation_image=zero_filled,
        task="mri",
        info={
            "mask": centred,
            "sampling_rate": mask_info["sampling_rate"],
            "mask_info": mask_info,
            "noise": noise,
            "noise_model": noise_model,
            "seed": int(seed),
            "kspace": observation,
        },
    )
    mod, module_name = refined_module(module, dev, REFINE_STEPS)
    options = dict(mask=str(mask), noise=noise, noise_model=noise_model, seed=int(seed), device=dev)
    return task_setup(problem, mod, module_name, params, image, path, options)
