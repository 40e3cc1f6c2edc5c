"""k-space sampling masks M for compressed-sensing MRI (T = M ⊙ F): generated with a seed, or loaded.

Every mask here is a boolean (H, W) array with DC at the CENTRE (index (H//2, W//2), the layout of
``fftshift``-ed k-space, as displayed); :class:`core.operators.MaskedFourier` applies it with
``ifftshift``. Generators hit the requested sampling rate (fraction of k-space samples):

* ``lines:PCT``   — Cartesian: whole columns (one phase-encoding line each) drawn without replacement
  with a variable-density profile (Gaussian in the line's frequency), the central lines always taken;
  exact to one line.
* ``radial:PCT``  — spokes through the centre at equally spaced angles (random rotation from the
  seed), as many as needed to reach the rate; within a fraction of a spoke.
* ``gauss2d:PCT`` — 2-D random points drawn without replacement with a Gaussian density around DC,
  a small disc at the centre always taken; exact.
* ``poisson:PCT`` — variable-density Poisson-disc sampling (dart throwing in random order, the
  exclusion radius growing linearly with the distance to DC, its scale found by bisection); within
  about ±1 %.
* ``FILE`` — a .npy / .png / .mat mask (non-zero = sampled); its convention (DC-centred or DC at the
  corner [0, 0]) is detected from where the samples are densest, or forced with the prefixes
  ``centred:FILE`` / ``corner:FILE``. Corner masks are converted with ``fftshift``.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from ..io import InputError, names_a_form, read_array

PATTERNS = ("lines", "radial", "gauss2d", "poisson")


def _check_rate(rate: float) -> float:
    rate = float(rate)
    if not (math.isfinite(rate) and 0 < rate <= 1):
        raise InputError(f"sampling rate must be in (0, 100] %, got {rate * 100:g} %")
    return rate


def _radius(shape: tuple[int, int]) -> np.ndarray:
    """Normalised distance of every k-space sample to DC (1 at the middle of an edge)."""
    h, w = shape
    ky = (np.arange(h) - h // 2) / (h / 2)
    kx = (np.arange(w) - w // 2) / (w / 2)
    return np.sqrt(ky[:, None] ** 2 + kx[None, :] ** 2)


def lines_mask(shape: tuple[int, int], rate: float, seed: int = 0) -> np.ndarray:
    """Cartesian variable-density mask: round(rate·W) whole columns, centre always sampled."""
    rate = _check_rate(rate)
    h, w = shape
    rng = np.random.default_rng(seed)
    n_lines = max(1, min(w, round(rate * w)))
    freq = (np.arange(w) - w // 2) / (w / 2)
    n_centre = min(n_lines, max(1, round(0.25 * n_lines)))  # a fully sampled central band
    centre = np.argsort(np.abs(freq), kind="stable")[:n_centre]
    chosen = set(int(c) for c in centre)
    rest = np.array([i for i in range(w) if i not in chosen])
    if n_lines > n_centre:
        density = np.exp(-(freq[rest] ** 2) / (2 * 0.35**2)) + 0.05
        pick = rng.choice(rest, size=n_lines - n_centre, replace=False, p=density / density.sum())
        chosen.update(int(i) for i in pick)
    mask = np.zeros(shape, dtype=bool)
    mask[:, sorted(chosen)] = True
    return mask


def _spokes(shape: tuple[int, int], angles: np.ndarray) -> np.ndarray:
    h, w = shape
    cy, cx = h // 2, w // 2
    reach = math.hypot(h, w) / 2
    t = np.arange(-reach, reach + 0.25, 0.25)
    mask = np.zeros(shape, dtype=bool)
    for a in angles:
        yy = np.round(cy + t * math.sin(a)).astype(int)
        xx = np.round(cx + t * math.cos(a)).astype(int)
        keep = (yy >= 0) & (yy < h) & (xx >= 0) & (xx < w)
        mask[yy[keep], xx[keep]] = True
    return mask


def radial_mask(shape: tuple[int, int], rate: float, seed: int = 0) -> np.ndarray:
    """Radial mask: n equally spaced spokes through DC (rotated by the seed), n chosen for the rate."""
    rate = _check_rate(rate)
    offset = np.random.default_rng(seed).uniform(0, math.pi)
    lo, hi = 1, 4 * max(shape)
    while lo < hi:  # the smallest spoke count reaching the rate (the rate grows with n)
        n = (lo + hi) // 2
        if _spokes(shape, offset + np.arange(n) * math.pi / n).mean() >= rate:
            hi = n
        else:
            lo = n + 1
    candidates = [max(lo - 1, 1), lo]
    masks = [_spokes(shape, offset + np.arange(n) * math.pi / n) for n in candidates]
    return min(masks, key=lambda m: abs(m.mean() - rate))


def gauss2d_mask(shape: tuple[int, int], rate: float, seed: int = 0) -> np.ndarray:
    """2-D Gaussian random mask: round(rate·HW) points, density ∝ exp(−r²/2·0.3²) + floor, exact."""
    rate = _check_rate(rate)
    rng = np.random.default_rng(seed)
    r = _radius(shape)
    n = max(1, round(rate * r.size))
    centre = np.flatnonzero(r.ravel() <= 0.04)[:n]  # a few samples around DC, always taken
    density = np.exp(-(r.ravel() ** 2) / (2 * 0.3**2)) + 0.02
    density[centre] = 0.0
    pick = rng.choice(r.size, size=n - centre.size, replace=False, p=density / density.sum())
    mask = np.zeros(r.size, dtype=bool)
    mask[centre] = True
    mask[pick] = True
    return mask.reshape(shape)


def _dart_throw(shape: tuple[int, int], scale: float, order: np.ndarray, r: np.ndarray):
    h, w = shape
    excluded = np.zeros(shape, dtype=bool)
    mask = np.zeros(shape, dtype=bool)
    radius = scale * (0.05 + r)  # exclusion radius in pixels, growing away from DC
    for idx in order:
        y, x = divmod(int(idx), w)
        if excluded[y, x]:
            continue
        mask[y, x] = True
        rad = radius[y, x]
        k = int(rad)
        if k >= 1:
            y0, y1, x0, x1 = max(0, y - k), min(h, y + k + 1), max(0, x - k), min(w, x + k + 1)
            yy, xx = np.ogrid[y0 - y : y1 - y, x0 - x : x1 - x]
            excluded[y0:y1, x0:x1] |= (yy * yy + xx * xx) < rad * rad
        excluded[y, x] = True
    return mask


def poisson_mask(shape: tuple[int, int], rate: float, seed: int = 0) -> np.ndarray:
    """Variable-density Poisson-disc mask (dart throwing; radius ∝ 0.05 + r, scale by bisection)."""
    rate = _check_rate(rate)
    if rate >= 0.999:
        return np.ones(shape, dtype=bool)
    rng = np.random.default_rng(seed)
    r = _radius(shape)
    order = rng.permutation(r.size)
    lo, hi = 0.0, float(max(shape))
    best = None
    for _ in range(18):
        mid = 0.5 * (lo + hi)
        mask = _dart_throw(shape, mid, order, r)
        if best is None or abs(mask.mean() - rate) < abs(best.mean() - rate):
            best = mask
        if abs(mask.mean() - rate) < 0.002:
            break
        if mask.mean() > rate:
            lo = mid
        else:
            hi = mid
    return best


def is_dc_centred(mask: np.ndarray) -> bool:
    """True when the samples are denser around the array's centre than around its corners."""
    m = np.asarray(mask, dtype=bool)
    h, w = m.shape
    bh, bw = max(1, h // 8), max(1, w // 8)
    centre = m[h // 2 - bh : h // 2 + bh, w // 2 - bw : w // 2 + bw].mean()
    corner = np.fft.fftshift(m)[h // 2 - bh : h // 2 + bh, w // 2 - bw : w // 2 + bw].mean()
    return bool(centre >= corner)


def load_mask(
    path: str | Path, shape: tuple[int, int] | None = None, convention: str = "auto"
) -> tuple[np.ndarray, str]:
    """(DC-centred bool mask, detected convention) from a .npy/.png/.mat file (non-zero = sampled)."""
    if convention not in ("auto", "centred", "corner"):
        raise InputError(f"mask convention must be auto, centred or corner, got {convention!r}")
    arr = np.squeeze(read_array(path))
    if np.iscomplexobj(arr):
        arr = np.abs(arr)
    if arr.ndim == 3 and arr.shape[-1] in (3, 4):  # an RGB(A) picture of a mask
        arr = arr[..., :3].mean(axis=-1)
    if arr.ndim != 2:
        raise InputError(f"mask {Path(path).name}: expected a 2-D array, got shape {arr.shape}")
    arr = arr.astype(np.float64)
    if not np.isfinite(arr).all():
        raise InputError(f"mask {Path(path).name} contains NaN or infinite values")
    top = arr.max()
    if top <= 0:
        raise InputError(f"mask {Path(path).name} samples nothing (all zero)")
    mask = arr > 0.5 * top
    if shape is not None and mask.shape != tuple(shape):
        raise InputError(
            f"mask {Path(path).name} is {mask.shape[0]}×{mask.shape[1]}, "
            f"the image is {shape[0]}×{shape[1]}"
        )
    if convention == "auto":
        convention = "centred" if is_dc_centred(mask) else "corner"
    if convention == "corner":
        mask = np.fft.fftshift(mask)
    return mask, convention


GENERATORS = {
    "lines": lines_mask,
    "radial": radial_mask,
    "gauss2d": gauss2d_mask,
    "poisson": poisson_mask,
}


def make_mask(spec: str, shape: tuple[int, int], seed: int = 0) -> tuple[np.ndarray, dict]:
    """The DC-centred mask for ``spec`` (``radial:20``, ``lines:25``, …, or a file) and its facts."""
    text = str(spec).strip()
    name, sep, value = text.partition(":")
    if sep and name in GENERATORS:
        try:
            percent = float(value.rstrip("%"))
        except ValueError:
            raise InputError(f"bad mask {text!r}: use {name}:PCT, e.g. {name}:20") from None
        if not (math.isfinite(percent) and 0 < percent <= 100):
            raise InputError(f"bad mask {text!r}: PCT must be in (0, 100]")
        mask = GENERATORS[name](tuple(shape), percent / 100.0, seed)
        info = {"pattern": name, "nominal_rate": percent / 100.0, "convention": "centred"}
    else:
        convention = "auto"
        if sep and name in ("centred", "centered", "corner"):
            convention, text = ("corner" if name == "corner" else "centred"), value
        elif not Path(text).exists() and names_a_form(text):
            patterns = ", ".join(f"{p}:PCT" for p in PATTERNS)
            raise InputError(f"unknown mask pattern {text!r}: use {patterns} or a file")
        mask, convention = load_mask(text, tuple(shape), convention)
        info = {"pattern": "file", "file": text, "convention": convention}
    info["sampling_rate"] = float(mask.mean())
    return mask, info
