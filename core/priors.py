"""Priors g(x) with value and proximal map prox_{γg}(z) = argmin_x γ g(x) + ½‖x − z‖².

* :class:`WaveletSparsity` — λ Σ φ_p((W x)_i) on the detail coefficients of an orthonormal wavelet
  transform W (Haar by default; any orthogonal PyWavelets family — dbN, symN, coifN — through ptwt,
  periodized, see :mod:`core.wavelets`), with φ_1 = |·| (soft threshold), φ_p = |·|^p for 0 < p < 1
  (generalized shrinkage, Zuo et al. 2013, exact global minimiser per coefficient), φ_0 = [· ≠ 0]
  (hard threshold). Exact prox because W is orthonormal.
* :class:`TotalVariation` — λ TV(x), isotropic or anisotropic, Neumann boundary. Its prox has no
  closed form: it is computed INEXACTLY by a fixed number of FGP iterations on the dual
  (Beck & Teboulle 2009), documented in the record as ``prior.exact = False``.
* :class:`Box` — the indicator of [lo, hi]; prox = clamp.
* :class:`NoPrior` — g = 0.
"""

from __future__ import annotations

import math

import torch

from . import wavelets

Tensor = torch.Tensor


class Prior:
    """g: a value and a proximal map; ``weight`` is the regularisation weight λ.

    Every prior declares what it can do as class attributes (the engine reads them, never probes):

    * ``smooth`` — g enters Ψ through its gradient (``evaluate``, ``lipschitz``) and f is proxed
      instead (:mod:`core.splitting`); False: g is proxed (``prox``, ``prox_with_value``).
    * ``learned`` — g holds a trained network whose noise level ``sigma`` is part of Ψ (the
      parameters' σ_g sets it).
    * ``weight_from_step`` — λ follows the step: λ = 1/γ (Prox-PnP), not the parameters' λ.
    * ``fixed_weight`` — λ from the parameters does not apply (indicators, g = 0, λ = 1/γ).
    * ``exact`` — the prox is exact (False: computed inexactly, e.g. TV's FGP iterations).
    * ``memory_buffers`` — float32 image-sized buffers (per pixel and channel) that one variant's
      evaluations of g keep alive beyond the engine's own: the learned priors' autograd graphs
      (:mod:`core.memory` adds them to its estimate).
    """

    name = "prior"
    exact = True
    weight = 0.0
    smooth = False
    learned = False
    weight_from_step = False
    fixed_weight = False
    memory_buffers = 0

    def value(self, x: Tensor) -> float:
        """g(x)."""
        raise NotImplementedError

    def prox(self, z: Tensor, gamma: float) -> Tensor:
        """prox_{γg}(z) = argmin_x γ g(x) + ½‖x − z‖²."""
        raise NotImplementedError

    def prox_with_value(self, z: Tensor, gamma: float) -> tuple[Tensor, float]:
        """(prox_{γg}(z), g(prox_{γg}(z))) — subclasses share work between the two."""
        x = self.prox(z, gamma)
        return x, self.value(x)

    def describe(self) -> dict:
        """Settings that rebuild this prior (for session files)."""
        return {"name": self.name, "weight": self.weight}


class NoPrior(Prior):
    """g = 0."""

    name = "none"
    fixed_weight = True

    def value(self, x: Tensor) -> float:
        """0."""
        return 0.0

    def prox(self, z: Tensor, gamma: float) -> Tensor:
        """The identity."""
        return z


def soft_threshold(c: Tensor, t: float) -> Tensor:
    """prox of t|·|: sign(c) max(|c| − t, 0)."""
    return torch.sign(c) * torch.clamp(c.abs() - t, min=0.0)


def hard_threshold(c: Tensor, t: float) -> Tensor:
    """prox of t·[c ≠ 0]: keep c where |c| > √(2t)."""
    return torch.where(c.abs() > math.sqrt(2.0 * t), c, torch.zeros_like(c))


def generalized_shrinkage(c: Tensor, t: float, p: float, iterations: int = 10) -> Tensor:
    """prox of t|·|^p for 0 < p < 1 (GST, Zuo et al. ICCV 2013): exact global minimiser."""
    if t <= 0:
        return c.clone()
    base = 2.0 * t * (1.0 - p)
    tau = base ** (1.0 / (2.0 - p)) + t * p * base ** ((p - 1.0) / (2.0 - p))
    a = c.abs()
    x = a.clone()
    for _ in range(iterations):
        x = a - t * p * torch.clamp(x, min=1e-12) ** (p - 1.0)
    return torch.where(a > tau, torch.sign(c) * x, torch.zeros_like(c))


# prior options whose value is a name, not a number: a wavelet family, a weight file
NAMED_OPTIONS = frozenset({"wavelet", "weights"})
OPTION_ALIASES = {"family": "wavelet"}  # another name an option may be given by
# |c| ≤ max(64 ε, 1e-10)·max|c| is round-off of a transform round trip, not a coefficient (1e-10:
# PyWavelets' tabulated symlet filters are orthonormal to ~1e-11 only)
ROUNDOFF_ULPS, ROUNDOFF_FLOOR = 64, 1e-10


def penalty(c: Tensor, p: float, scale: float | None = None) -> Tensor:
    """Σ φ_p(c): ℓ1 for p = 1, Σ|c|^p for 0 < p < 1, number of non-zeros for p = 0 (|c| > 1e-6 scale).

    For p < 1, φ_p is steep at 0: the round-off a zeroed coefficient picks up on its way through
    Wᵀ and W again (~ε max|c|) would add ~(ε max|c|)^p each, so |c| ≤ max(64 ε, 1e-10) max|c|
    counts as 0. ``scale`` is the size those tolerances are relative to (default max|c|; the
    wavelet prior passes the largest coefficient, coarse band included).
    """
    if p == 1:
        return c.abs().sum()
    a = c.abs()
    top = scale if scale is not None else (float(a.max()) if c.numel() else 0.0)
    if p == 0:  # count non-zeros above round-off of the transform
        return (a > 1e-6 * top).sum().to(c.dtype)
    eps = torch.finfo(c.dtype).eps if c.is_floating_point() else 0.0
    tol = max(ROUNDOFF_ULPS * eps, ROUNDOFF_FLOOR) * top
    return (torch.where(a > tol, a, torch.zeros_like(a)) ** p).sum()


def _number(value, what: str) -> float:
    """``value`` as a float, or ValueError naming the option (prior options come from user text)."""
    try:
        return float(value)
    except (TypeError, ValueError):
        raise ValueError(f"wavelet prior: {what} must be a number, got {value!r}") from None


class WaveletSparsity(Prior):
    """g(x) = λ Σ φ_p((W x)_i) over wavelet detail coefficients (the coarse band is not penalised).

    ``wavelet`` names the orthonormal W (``haar``, ``db4``, ``sym8``, ``coif2`` …); ``levels`` is
    an upper bound, lowered to what the image size allows (:func:`core.wavelets.usable_levels`).
    """

    name = "wavelet"

    def __init__(self, weight: float, p: float = 1.0, levels: int = 3, wavelet: str = "haar"):
        weight, p, levels = _number(weight, "weight"), _number(p, "p"), _number(levels, "levels")
        if not (0.0 <= p <= 1.0):
            raise ValueError(f"wavelet prior: p must be in [0, 1], got {p:g}")
        if not (math.isfinite(weight) and weight >= 0):
            raise ValueError(f"wavelet prior: weight must be finite and ≥ 0, got {weight}")
        if not (math.isfinite(levels) and levels == int(levels) and 0 <= levels <= 16):
            raise ValueError(f"wavelet prior: levels must be a whole number 0…16, got {levels:g}")
        self.weight = float(weight)
        self.p = float(p)
        self.levels = int(levels)
        self.wavelet = wavelets.check_wavelet(str(wavelet))
        self._masks: dict = {}

    def _levels_and_mask(self, x: Tensor) -> tuple[int, Tensor]:
        key = (tuple(x.shape), x.device)
        if key not in self._masks:
            levels = wavelets.usable_levels(x.shape, self.levels, self.wavelet)
            mask = wavelets.detail_mask(x.shape, levels, device=x.device).bool()
            self._masks[key] = (levels, mask)
        return self._masks[key]

    def transform(self, x: Tensor) -> tuple[Tensor, int]:
        """(W x, levels used) with this prior's wavelet and the levels x's size allows."""
        levels, _ = self._levels_and_mask(x)
        return wavelets.forward(x, levels, self.wavelet), levels

    def inverse(self, c: Tensor, levels: int) -> Tensor:
        """Wᵀ c for coefficients from :meth:`transform`."""
        return wavelets.inverse(c, levels, self.wavelet)

    def _shrink(self, c: Tensor, t: float) -> Tensor:
        if self.p == 1:
            return soft_threshold(c, t)
        if self.p == 0:
            return hard_threshold(c, t)
        return generalized_shrinkage(c, t, self.p)

    def _value_of_coefficients(self, c: Tensor, mask: Tensor) -> float:
        scale = float(c.abs().max()) if self.p < 1 and c.numel() else None
        return self.weight * float(penalty(c[..., mask], self.p, scale))

    def value(self, x: Tensor) -> float:
        """λ Σ φ_p(W x) on detail coefficients."""
        levels, mask = self._levels_and_mask(x)
        return self._value_of_coefficients(wavelets.forward(x, levels, self.wavelet), mask)

    def prox_with_value(self, z: Tensor, gamma: float) -> tuple[Tensor, float]:
        """Wᵀ shrink(W z, γλ) and its g-value, from the same coefficients."""
        levels, mask = self._levels_and_mask(z)
        c = wavelets.forward(z, levels, self.wavelet)
        shrunk = torch.where(mask, self._shrink(c, gamma * self.weight), c)
        x = wavelets.inverse(shrunk, levels, self.wavelet)
        return x, self._value_of_coefficients(shrunk, mask)

    def prox(self, z: Tensor, gamma: float) -> Tensor:
        """Wᵀ shrink(W z, γλ)."""
        return self.prox_with_value(z, gamma)[0]

    def describe(self) -> dict:
        """Settings that rebuild this prior."""
        return {
            "name": self.name,
            "weight": self.weight,
            "p": self.p,
            "levels": self.levels,
            "wavelet": self.wavelet,
        }


def forward_differences(x: Tensor) -> tuple[Tensor, Tensor]:
    """(∂_h x, ∂_v x) with Neumann boundary (zero difference past the last row/column)."""
    dh = torch.zeros_like(x)
    dv = torch.zeros_like(x)
    dh[..., :, :-1] = x[..., :, 1:] - x[..., :, :-1]
    dv[..., :-1, :] = x[..., 1:, :] - x[..., :-1, :]
    return dh, dv


def difference_adjoint(ph: Tensor, pv: Tensor) -> Tensor:
    """Dᵀ(p_h, p_v) = −div p, the adjoint of :func:`forward_differences`."""
    out = torch.zeros_like(ph)
    out[..., :, :-1] -= ph[..., :, :-1]
    out[..., :, 1:] += ph[..., :, :-1]
    out[..., :-1, :] -= pv[..., :-1, :]
    out[..., 1:, :] += pv[..., :-1, :]
    return out


class TotalVariation(Prior):
    """g(x) = λ TV(x); prox by ``iterations`` FGP steps on the dual (inexact, Beck–Teboulle 2009)."""

    name = "tv"
    exact = False

    def __init__(self, weight: float, isotropic: bool = True, iterations: int = 30):
        if not (math.isfinite(weight) and weight >= 0):
            raise ValueError(f"TV prior: weight must be finite and ≥ 0, got {weight}")
        self.weight = float(weight)
        self.isotropic = bool(isotropic)
        self.iterations = int(iterations)

    def value(self, x: Tensor) -> float:
        """λ Σ √(∂_h x² + ∂_v x²) (isotropic) or λ Σ |∂_h x| + |∂_v x| (anisotropic)."""
        dh, dv = forward_differences(x)
        if self.isotropic:
            return self.weight * float(torch.sqrt(dh * dh + dv * dv).sum())
        return self.weight * float(dh.abs().sum() + dv.abs().sum())

    def _project(self, ph: Tensor, pv: Tensor) -> tuple[Tensor, Tensor]:
        if self.isotropic:
            scale = torch.clamp(torch.sqrt(ph * ph + pv * pv), min=1.0)
            return ph / scale, pv / scale
        return ph.clamp(-1.0, 1.0), pv.clamp(-1.0, 1.0)

    def prox(self, z: Tensor, gamma: float) -> Tensor:
        """argmin_x γλ TV(x) + ½‖x − z‖², by FGP on the dual (x = z − γλ Dᵀp, ‖p‖∞ ≤ 1)."""
        t_reg = gamma * self.weight
        if t_reg <= 0:
            return z.clone()
        ph, pv = torch.zeros_like(z), torch.zeros_like(z)
        rh, rv = ph, pv
        t = 1.0
        step = 1.0 / (8.0 * t_reg)
        for _ in range(self.iterations):
            x = z - t_reg * difference_adjoint(rh, rv)
            gh, gv = forward_differences(x)
            nh, nv = self._project(rh + step * gh, rv + step * gv)
            t_next = (1.0 + math.sqrt(1.0 + 4.0 * t * t)) / 2.0
            rh = nh + ((t - 1.0) / t_next) * (nh - ph)
            rv = nv + ((t - 1.0) / t_next) * (nv - pv)
            ph, pv, t = nh, nv, t_next
        return z - t_reg * difference_adjoint(ph, pv)

    def describe(self) -> dict:
        """Settings that rebuild this prior."""
        return {
            "name": self.name,
            "weight": self.weight,
            "isotropic": self.isotropic,
            "iterations": self.iterations,
        }


class Box(Prior):
    """g = indicator of [lo, hi]: 0 inside, +∞ outside; prox = clamp."""

    name = "box"
    fixed_weight = True

    def __init__(self, lo: float = 0.0, hi: float = 1.0, tolerance: float = 1e-6):
        if not lo < hi:
            raise ValueError(f"box prior: need lo < hi, got [{lo}, {hi}]")
        self.lo, self.hi, self.tolerance = float(lo), float(hi), float(tolerance)

    def value(self, x: Tensor) -> float:
        """0 if every entry lies in [lo, hi] (to a small tolerance), else +∞."""
        inside = bool(((x >= self.lo - self.tolerance) & (x <= self.hi + self.tolerance)).all())
        return 0.0 if inside else math.inf

    def prox(self, z: Tensor, gamma: float) -> Tensor:
        """Projection onto [lo, hi]."""
        return z.clamp(self.lo, self.hi)

    def prox_with_value(self, z: Tensor, gamma: float) -> tuple[Tensor, float]:
        """(clamp(z), 0)."""
        return self.prox(z, gamma), 0.0

    def describe(self) -> dict:
        """Settings that rebuild this prior."""
        return {"name": self.name, "lo": self.lo, "hi": self.hi}
