"""Rain streaks: synthesis, the streak prior g on the background, and the streak-finding module.

Layer model y = b + r (clipped at 1): b the background, r ≥ 0 the rain layer — thin, bright, long,
mostly vertical. With the background b as the variable and r = y − b:

* :class:`StreakPrior`  g(b) = λ·#{i : r_i ≠ 0} (ℓ0, default) or λ Σ r_i (ℓ1, p = 1), plus the
  indicator of 0 ≤ b ≤ y (rain only brightens) and, with a support S, of r = 0 off S (rain only
  where the streak detector fires; S depends on y alone). Separable per pixel: its prox is EXACT
  (compare the two candidates b = y and b = clip(z, 0, y) for ℓ0; b = clip(z + γλ, 0, y) for ℓ1;
  b = y off S).
* :func:`add_rain`  synthetic streaks: sparse seeds, motion-blurred along a near-vertical angle,
  random length and brightness (seeded).
* :class:`StreakModule`  the module A: streak pixels are found by experience — the horizontal white
  top-hat y − opening(y) (bright and at most a few pixels wide), averaged along the rain direction
  (long) — and filled by the opening, then cleaned by the learned denoiser D(·, σ^k); the other
  pixels keep y. Proximal-gradient steps on Ψ^k follow (:mod:`core.modules.refine`) so that FIMA's
  check can accept the proposal.
"""

from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

from ..modules.base import Module
from ..modules.refine import refine
from ..params import Parameters
from ..priors import Prior

Tensor = torch.Tensor
STREAK_THRESHOLD = 0.06  # τ: a pixel is a streak pixel where streak_map(y) > τ (module and prior)


def line_kernel(length: int, angle_deg: float) -> np.ndarray:
    """A normalised line of ``length`` pixels at ``angle_deg`` from vertical (odd square kernel)."""
    size = length if length % 2 else length + 1
    k = np.zeros((size, size))
    c = size // 2
    a = math.radians(angle_deg)
    for t in np.linspace(-(length - 1) / 2, (length - 1) / 2, 4 * length):
        y, x = int(round(c + t * math.cos(a))), int(round(c + t * math.sin(a)))
        if 0 <= y < size and 0 <= x < size:
            k[y, x] = 1.0
    return k / k.sum()


def rain_layer(
    shape: tuple[int, int], density: float, seed: int, angle: float = 5.0, brightness: float = 0.6
) -> Tensor:
    """A (1, 1, H, W) rain layer in [0, 1]: ``density`` = fraction of seed pixels (≈ 0.3–3 %)."""
    rng = np.random.default_rng(seed)
    h, w = shape
    layer = np.zeros((h, w))
    for scale in (1.0, 0.6):  # near (long, bright) and far (short, dim) drops
        seeds = (rng.random((h, w)) < density * scale) * rng.uniform(0.6, 1.0, (h, w))
        length = int(round(max(5, min(h, w) * 0.1 * scale)))
        kernel = line_kernel(length, angle + rng.uniform(-3, 3))
        streaks = _convolve(seeds, kernel) * length * brightness * scale
        layer = np.maximum(layer, streaks)
    layer = _convolve(layer, np.array([[0.25, 0.5, 0.25]]))  # ~1.5 px wide
    return torch.tensor(np.clip(layer, 0, 1), dtype=torch.float32)[None, None]


def _convolve(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    from scipy.signal import fftconvolve

    return fftconvolve(image, kernel, mode="same")


def add_rain(clean: Tensor, density: float, seed: int, angle: float = 5.0) -> tuple[Tensor, Tensor]:
    """(y, r): y = min(b + r, 1) with the same streaks on every channel, and the rain layer r."""
    rain = rain_layer(tuple(clean.shape[-2:]), density, seed, angle).to(clean.device)
    rainy = (clean + rain).clamp(max=1.0)
    return rainy, rainy - clean


class StreakPrior(Prior):
    """g(b) = λ·Σ φ_p(y − b) + ι{0 ≤ b ≤ y} + ι{r = 0 off S}: ℓ0 (p = 0) or ℓ1 (p = 1) on r = y − b.

    ``support`` is the detector's threshold τ: S = {streak_map(y) > τ}; 0 lets rain be anywhere.
    """

    name = "streaks"

    def __init__(self, observation: Tensor, weight: float, p: float = 0.0, support: float = 0.0):
        if p not in (0.0, 1.0):
            raise ValueError(f"streak prior: p must be 0 or 1, got {p}")
        if not (math.isfinite(weight) and weight >= 0):
            raise ValueError(f"streak prior: weight must be finite and ≥ 0, got {weight}")
        if not (math.isfinite(support) and 0 <= support < 1):
            raise ValueError(f"streak prior: support must be a threshold in [0, 1), got {support}")
        self.observation = observation
        self.weight = float(weight)
        self.p = float(p)
        self.support = float(support)
        self.mask = streak_map(observation) > support if support > 0 else None  # S, (1, 1, H, W)

    def _penalty(self, b: Tensor, declared: Tensor | None = None) -> float:
        rain = self.observation - b
        if self.p == 0:
            declared = rain.abs() > 1e-6 if declared is None else declared
            return self.weight * float(declared.sum())
        return self.weight * float(rain.abs().sum())

    def value(self, b: Tensor) -> float:
        """λ Σ φ_p(y − b) if 0 ≤ b ≤ y and b = y off S (to 1e-6), else +∞."""
        y = self.observation
        if bool((b < -1e-6).any()) or bool((b > y + 1e-6).any()):
            return math.inf
        declared = (y - b).abs() > 1e-6  # r ≠ 0
        if self.mask is not None and bool(declared.logical_and(~self.mask).any()):
            return math.inf
        return self._penalty(b, declared)

    def prox(self, z: Tensor, gamma: float) -> Tensor:
        """Exact per-pixel prox of γg."""
        y = self.observation
        if self.p == 1:
            b = torch.minimum((z + gamma * self.weight).clamp(min=0.0), y)
        else:
            free = torch.minimum(z.clamp(min=0.0), y)
            cost_keep = 0.5 * (y - z) ** 2  # b = y: no rain here
            cost_free = gamma * self.weight + 0.5 * (free - z) ** 2
            b = torch.where(cost_free < cost_keep, free, y)
        return b if self.mask is None else torch.where(self.mask, b, y)

    def prox_with_value(self, z: Tensor, gamma: float) -> tuple[Tensor, float]:
        """(prox, g(prox)) — the prox is always feasible, so g is the penalty."""
        b = self.prox(z, gamma)
        return b, self._penalty(b)

    def describe(self) -> dict:
        """Settings (the observation is rebuilt by the task)."""
        return {"name": self.name, "weight": self.weight, "p": self.p, "support": self.support}


def horizontal_opening(x: Tensor, width: int) -> Tensor:
    """Grey-level opening along rows (min then max filter, 1 × ``width``): removes thin bright lines."""
    p = width // 2
    low = -F.max_pool2d(F.pad(-x, (p, p, 0, 0), mode="replicate"), (1, width), stride=1)
    return F.max_pool2d(F.pad(low, (p, p, 0, 0), mode="replicate"), (1, width), stride=1)


def streak_map(y: Tensor, width: int = 7, length: int = 9) -> Tensor:
    """The horizontal white top-hat y − opening(y), channel-averaged, averaged over ``length`` rows."""
    tophat = (y - horizontal_opening(y, width)).mean(dim=1, keepdim=True)
    pad = length // 2
    return F.avg_pool2d(F.pad(tophat, (0, 0, pad, pad), mode="replicate"), (length, 1), stride=1)


class StreakModule(Module):
    """A: streak pixels (thin, bright, vertically coherent) get D(opening-filled A_f(b^k), σ^k)."""

    def __init__(
        self, denoiser, threshold: float = STREAK_THRESHOLD, steps: int = 20, name: str = "cnn"
    ):
        self.denoiser = denoiser
        self.threshold = float(threshold)
        self.steps = int(steps)
        self.name = name

    def __call__(self, x: Tensor, k: int, params: Parameters, problem) -> Tensor:
        """u = refine(where(S, min(D(fill(z), σ^k), y), y)), z = A_f(x^k), S = streak pixels of y."""
        y = problem.info["rainy"]
        if "streaks" not in problem.info:  # the streak pixels depend on y only: once per problem
            problem.info["streaks"] = self._streak_pixels(y, problem.prior)
        mask = problem.info["streaks"]
        z = problem.fidelity.prox(x, params.rho)
        filled = torch.where(mask, horizontal_opening(z, 7), z)
        u = torch.where(mask, torch.minimum(self.denoiser(filled, params.sigma_at(k)), y), y)
        return refine(u, x, params, problem, self.steps) if self.steps > 0 else u

    def _streak_pixels(self, y: Tensor, prior) -> Tensor:
        """S = {streak_map(y) > τ}: the prior's own S when it was drawn with the same τ."""
        same = isinstance(prior, StreakPrior) and prior.support == self.threshold
        if same and prior.mask is not None and prior.observation is y:
            return prior.mask
        return streak_map(y) > self.threshold

    def describe(self) -> dict:
        """Settings."""
        return {"name": self.name, "threshold": self.threshold, "refine_steps": self.steps}
