"""PSNR and SSIM: known values, an independent SSIM by convolution, and the batched blurs' bits."""

from __future__ import annotations

import math

import pytest
import torch
import torch.nn.functional as F

from core import metrics
from core.metrics import psnr, ssim


def _images(shape: tuple[int, ...], seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    reference = torch.rand(shape, generator=g, dtype=torch.float32)
    x = (reference + 0.1 * torch.randn(shape, generator=g)).to(torch.float32)
    return x, reference


def _ssim_by_convolution(x: torch.Tensor, y: torch.Tensor) -> float:
    """SSIM (Wang et al. 2004) with the 11×11 Gaussian (σ = 1.5) as a 2-D float64 convolution."""
    x = x.to(torch.float64).clamp(0, 1)
    y = y.to(torch.float64)
    g = torch.tensor(metrics._weights(), dtype=torch.float64)
    window = torch.outer(g, g)[None, None]
    channels = x.shape[-3]

    def blur(t: torch.Tensor) -> torch.Tensor:
        t = t.reshape(-1, 1, *t.shape[-2:])
        return F.conv2d(t, window).reshape(-1, channels, t.shape[-2] - 10, t.shape[-1] - 10)

    c1, c2 = 0.01**2, 0.03**2
    mx, my = blur(x), blur(y)
    sxx, syy, sxy = blur(x * x) - mx**2, blur(y * y) - my**2, blur(x * y) - mx * my
    s = ((2 * mx * my + c1) * (2 * sxy + c2)) / ((mx**2 + my**2 + c1) * (sxx + syy + c2))
    return float(s.mean())


def test_psnr_of_a_known_error() -> None:
    """MSE 0.01 on a unit peak is 20 dB; equal images are +inf; NaN gives NaN."""
    y = torch.zeros(1, 1, 8, 8)
    assert psnr(y + 0.1, y) == pytest.approx(20.0, abs=1e-5)  # 0.1 in float32
    assert psnr(y, y) == math.inf
    assert math.isnan(psnr(torch.full_like(y, math.nan), y))


@pytest.mark.parametrize("shape", [(1, 1, 40, 52), (1, 3, 33, 29)])
def test_ssim_matches_an_independent_convolution(shape: tuple[int, ...]) -> None:
    """The shifted sums equal a 2-D Gaussian convolution over the valid windows (float64)."""
    x, y = _images(shape)
    assert ssim(x, y) == pytest.approx(_ssim_by_convolution(x, y), abs=1e-12)
    assert ssim(y, y) == pytest.approx(1.0, abs=1e-12)
    assert ssim(x, y) < 0.99


def test_a_kept_reference_scores_to_the_bit_and_blurs_it_once(monkeypatch) -> None:
    """ScoredReference over a run's iterates: psnr/ssim's very scores, the reference blurred once
    (its two moments) and each iterate three times."""
    _, y = _images((1, 3, 40, 36), seed=3)
    xs = [_images((1, 3, 40, 36), seed=s)[0] for s in range(4, 8)]
    fresh = [(psnr(x, y), ssim(x, y)) for x in xs]
    blurs = []
    original = metrics._blur
    monkeypatch.setattr(metrics, "_blur", lambda t: blurs.append(t.shape) or original(t))
    kept = metrics.ScoredReference(y)
    assert [(kept.psnr(x), kept.ssim(x)) for x in xs] == fresh
    assert len(blurs) == 2 + 3 * len(xs)


def test_a_run_scores_its_iterates_as_the_functions_do() -> None:
    """Every record's PSNR/SSIM equals psnr/ssim of that iterate against the problem's reference."""
    from core import build_task, iterate
    from core.io import resources_dir

    sample = resources_dir() / "samples" / "house.png"
    setup = build_task("deblur", str(sample), downscale=4, prior="wavelet", module="tv")
    problem = setup.problem
    run = iterate(problem, setup.module, setup.parameters, "fima", max_iter=3)
    records = list(run)
    assert len(records) == 3
    for record in records:
        view, reference = problem.scored(record.x)
        assert (record.psnr, record.ssim) == (psnr(view, reference), ssim(view, reference))


def test_ssim_of_an_image_smaller_than_the_window_is_nan() -> None:
    """No valid 11×11 window: NaN, not an error."""
    x, y = _images((1, 1, 10, 30))
    assert math.isnan(ssim(x, y))
