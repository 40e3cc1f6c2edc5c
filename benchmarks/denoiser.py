"""Benchmark the shipped CNN denoiser: Set12 PSNR at sigma 15/25/50 and speed vs DnCNN-17.

Protocol: Set12 grayscale images in [0, 1]; noise clean + sigma * N(0, 1) in float32 with a fixed
seed per image (torch.Generator seeded with seed + image index), no clipping, no quantisation;
PSNR with peak 1. Speed: forward pass on a 256x256 grayscale image, our net (with its padding and
wrapper) vs a standard 17-layer 64-channel DnCNN (random weights, eval mode) in the same process
with the same thread settings, runs interleaved, median of several runs.

    .venv/bin/python benchmarks/denoiser.py [--weights PATH] [--set12 DIR] [--threads N]
        [--gradient-step [--symmetries N]]

``--gradient-step`` measures the learned prior's denoiser D_σ = Id − ∇g_σ (resources/weights/gs.pt)
instead: the same PSNR table, and the time of one D_σ (a forward and a backward pass);
``--symmetries N`` (2, 4, 8) that of g_σ averaged over N flips and quarter turns
(``--prior gs:symmetries=N``), whose denoiser is D_σ's self-ensemble.
"""

from __future__ import annotations

import argparse
import math
import statistics
import sys
import time
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import torch
from torch import nn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.modules.cnn import CNNDenoiser  # noqa: E402
from core.unet import count_macs  # noqa: E402

PUBLISHED = {15: (32.37, 32.86), 25: (29.97, 30.44), 50: (26.72, 27.18)}  # BM3D, DnCNN-S


def dncnn17() -> nn.Module:
    """Standard DnCNN-S: conv+ReLU, 15 x (conv+BN+ReLU), conv; 64 channels, random weights."""
    layers: list[nn.Module] = [nn.Conv2d(1, 64, 3, padding=1), nn.ReLU(inplace=True)]
    for _ in range(15):
        layers += [nn.Conv2d(64, 64, 3, padding=1, bias=False), nn.BatchNorm2d(64)]
        layers.append(nn.ReLU(inplace=True))
    layers.append(nn.Conv2d(64, 1, 3, padding=1))
    return nn.Sequential(*layers).eval()


def psnr(x: torch.Tensor, ref: torch.Tensor) -> float:
    """PSNR in dB, peak 1."""
    mse = float(torch.mean((x.double() - ref.double()) ** 2))
    return 10.0 * math.log10(1.0 / mse)


def set12_table(den: CNNDenoiser, folder: Path, seed: int) -> dict[int, tuple[float, float]]:
    """Average (noisy, denoised) PSNR on the Set12 folder at sigma 15, 25, 50."""
    files = sorted(folder.glob("*.png"))
    images = [torch.from_numpy(np.asarray(iio.imread(f), dtype=np.float32) / 255.0) for f in files]
    out = {}
    for s in (15, 25, 50):
        sigma = s / 255.0
        noisy_vals, den_vals = [], []
        for i, img in enumerate(images):
            x = img[None, None]
            g = torch.Generator().manual_seed(seed + i)
            y = x + sigma * torch.randn(x.shape, generator=g)
            noisy_vals.append(psnr(y, x))
            den_vals.append(psnr(den(y, sigma), x))
        out[s] = (float(np.mean(noisy_vals)), float(np.mean(den_vals)))
    return out


def speed(den: CNNDenoiser, runs: int) -> tuple[float, float]:
    """Median forward seconds on 256x256 of (our denoiser, DnCNN-17), interleaved runs."""
    ref = dncnn17()
    x = torch.rand(1, 1, 256, 256, generator=torch.Generator().manual_seed(0))
    ours, theirs = [], []
    with torch.no_grad():
        for _ in range(2):
            den(x, 25 / 255)
            ref(x)
        for _ in range(runs):
            t = time.perf_counter()
            den(x, 25 / 255)
            ours.append(time.perf_counter() - t)
            t = time.perf_counter()
            ref(x)
            theirs.append(time.perf_counter() - t)
    return statistics.median(ours), statistics.median(theirs)


class GradientStepDenoiser:
    """D_σ = Id − ∇g_σ of the learned prior, called like the CNN denoiser: ``den(y, sigma)``."""

    def __init__(self, weights: Path | None, symmetries: int = 1) -> None:
        from core.learned_prior import GradientStepPrior

        self.prior = GradientStepPrior(weights=weights, symmetries=symmetries)
        self.weights, self.meta, self.model = (
            self.prior.weights,
            self.prior.meta,
            self.prior.network,
        )

    def __call__(self, y: torch.Tensor, sigma: float) -> torch.Tensor:
        """D_σ(y)."""
        self.prior.sigma = sigma
        return self.prior.denoise(y)


def main(argv: list[str] | None = None) -> int:
    """Print the PSNR and speed tables."""
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--weights", type=Path, default=None, help="weight file (default: shipped)")
    ap.add_argument("--set12", type=Path, default=ROOT.parent / "shared" / "data" / "set12")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--runs", type=int, default=15)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--gradient-step", action="store_true", help="measure D_σ of gs.pt instead")
    ap.add_argument(
        "--symmetries", type=int, default=1, choices=(1, 2, 4, 8), help="with --gradient-step"
    )
    args = ap.parse_args(argv)
    if args.symmetries != 1 and not args.gradient_step:
        ap.error("--symmetries needs --gradient-step")
    torch.set_num_threads(args.threads)

    den = (
        GradientStepDenoiser(args.weights, args.symmetries)
        if args.gradient_step
        else CNNDenoiser(args.weights)
    )
    info = den.meta.get("training", {})
    n_params = sum(p.numel() for p in den.model.parameters())
    print(f"weights: {den.weights}")
    print(
        f"net: LiteUNet {den.meta['arch']['channels']} blocks {den.meta['arch']['blocks']}, "
        f"{n_params} params, {count_macs(den.model) / 1e9:.2f} GMAC on 256x256; "
        f"trained {info.get('steps', '?')} steps"
    )
    print()
    if args.set12.is_dir() and any(args.set12.glob("*.png")):
        table = set12_table(den, args.set12, args.seed)
        print("Set12 average PSNR (dB), float noise, fixed seed, peak 1")
        print(f"{'sigma':>6} {'noisy':>8} {'ours':>8} {'BM3D':>8} {'DnCNN-S':>8}")
        for s, (noisy, ours) in table.items():
            bm3d, dncnn = PUBLISHED[s]
            print(f"{s:>6} {noisy:8.2f} {ours:8.2f} {bm3d:8.2f} {dncnn:8.2f}")
        print("(BM3D and DnCNN-S: published, Zhang et al., TIP 2017)")
    else:
        print(f"Set12 not found at {args.set12}: skipping the PSNR table")
    print()
    t_ours, t_ref = speed(den, args.runs)
    print(f"forward 256x256, {torch.get_num_threads()} threads, median of {args.runs} runs")
    print(f"  ours      {t_ours * 1e3:8.1f} ms")
    print(f"  DnCNN-17  {t_ref * 1e3:8.1f} ms (random weights)")
    print(f"  ratio     {t_ours / t_ref:8.3f} (target <= 0.100)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
