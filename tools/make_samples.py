"""Make the bundled samples of the mri, smooth, lowlight and derain tasks (deterministic).

    .venv/bin/python tools/make_samples.py [--shared ../shared]

Writes into resources/samples/ (provenance and licences: resources/README.md):

* brain.png        — Deep-ADMM-Net's Brain_data1 (MIT), 256×256, float64 → 8-bit PNG
                     (needs the shared data folder; skipped when absent).
* cartoon.png      — a synthetic piecewise-flat colourless cartoon (this script, seed 0): the ground
                     truth of ``smooth``; the task adds texture and noise to it.
* coffee.png       — scikit-image's ``coffee`` (CC0, Rachel Michetti), centre crop → 256×256: the clean
                     image of ``lowlight`` (darkened by the task with a smooth illumination).
* chelsea.png      — scikit-image's ``chelsea`` (CC0, Stefan van der Walt), crop → 256×256: the clean
                     image of ``derain`` (the task adds synthetic rain).
* dark_coffee.png  — a dark photo MADE by this script from coffee.png (no real one that may be
                     redistributed was at hand): vignetting spot-light illumination, Poisson-Gaussian
                     sensor noise, 8-bit quantisation — the "real input" case of ``lowlight``
                     (no ground truth).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "resources" / "samples"


def _save(name: str, arr: np.ndarray) -> None:
    import imageio.v3 as iio

    data = np.round(np.clip(arr, 0, 1) * 255).astype(np.uint8)
    iio.imwrite(OUT / name, data, extension=".png", optimize=True)
    print(f"{name}: {data.shape}, {(OUT / name).stat().st_size} bytes")


def _square(arr: np.ndarray, size: int, centre: tuple[float, float] = (0.5, 0.5)) -> np.ndarray:
    from skimage.transform import resize

    h, w = arr.shape[:2]
    side = min(h, w)
    top = int(round((h - side) * centre[0]))
    left = int(round((w - side) * centre[1]))
    crop = arr[top : top + side, left : left + side].astype(np.float64) / 255.0
    return resize(crop, (size, size), order=3, anti_aliasing=True)


def cartoon(size: int = 256, seed: int = 0) -> np.ndarray:
    """A piecewise-flat grey image: random discs, rectangles and a triangle on a flat ground."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    img = np.full((size, size), 0.45)
    for _ in range(6):
        cy, cx, r = rng.uniform(0.15, 0.85), rng.uniform(0.15, 0.85), rng.uniform(0.06, 0.18)
        img[(yy - cy) ** 2 + (xx - cx) ** 2 < r * r] = rng.uniform(0.1, 0.9)
    for _ in range(4):
        y0, x0 = rng.uniform(0.0, 0.7, 2)
        h, w = rng.uniform(0.1, 0.3, 2)
        img[(yy > y0) & (yy < y0 + h) & (xx > x0) & (xx < x0 + w)] = rng.uniform(0.1, 0.9)
    img[(yy > 0.6) & (xx > 0.55) & (yy - 0.6 > 0.8 * (xx - 0.55)) & (yy < 0.95)] = 0.8
    return img


def dark_photo(clean: np.ndarray, seed: int = 1) -> np.ndarray:
    """A dark, noisy 'photo' of ``clean``: spot-light × vignette, Poisson-Gaussian noise, 8 bit."""
    rng = np.random.default_rng(seed)
    h, w = clean.shape[:2]
    yy, xx = np.mgrid[0:h, 0:w] / max(h, w)
    light = 0.04 + 0.30 * np.exp(-((yy - 0.35) ** 2 + (xx - 0.65) ** 2) / (2 * 0.22**2))
    light *= 1.0 - 0.5 * ((yy - 0.5) ** 2 + (xx - 0.5) ** 2)
    signal = clean * light[..., None]
    photons = 400.0  # full-well scale: shot noise of a small sensor at high ISO
    noisy = rng.poisson(signal * photons) / photons + 0.004 * rng.standard_normal(signal.shape)
    return np.round(np.clip(noisy, 0, 1) * 255) / 255


def main() -> None:
    """Write every sample that can be made here."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", default=str(ROOT.parent / "shared"))
    args = parser.parse_args()
    from skimage import data

    OUT.mkdir(parents=True, exist_ok=True)
    brain = Path(args.shared) / "data" / "mri" / "brain" / "Brain_data1.npy"
    if brain.is_file():
        _save("brain.png", np.load(brain))
    else:
        print(f"skipped brain.png: {brain} not found")
    _save("cartoon.png", cartoon())
    coffee = _square(data.coffee(), 256, centre=(0.5, 0.45))
    _save("coffee.png", coffee)
    _save("chelsea.png", _square(data.chelsea(), 256, centre=(0.3, 0.5)))
    _save("dark_coffee.png", dark_photo(np.round(coffee * 255) / 255))


if __name__ == "__main__":
    main()
