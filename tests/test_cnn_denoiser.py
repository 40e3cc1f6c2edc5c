"""The shipped CNN denoiser: loads offline, denoises, keeps shapes, fails clearly on bad files."""

from __future__ import annotations

import math

import pytest
import torch

from core.modules.cnn import CNNDenoiser, default_weights_path


def _psnr(x: torch.Tensor, ref: torch.Tensor) -> float:
    mse = float(torch.mean((x.double() - ref.double()) ** 2))
    return 10.0 * math.log10(1.0 / mse)


def _synthetic(h: int = 96, w: int = 96) -> torch.Tensor:
    """Piecewise-constant shapes on a smooth ramp, (1, 1, h, w) in [0, 1]."""
    yy, xx = torch.meshgrid(torch.linspace(0, 1, h), torch.linspace(0, 1, w), indexing="ij")
    img = 0.2 + 0.3 * xx
    img = torch.where((xx - 0.35) ** 2 + (yy - 0.4) ** 2 < 0.05, torch.tensor(0.85), img)
    img = torch.where((xx > 0.6) & (xx < 0.9) & (yy > 0.55) & (yy < 0.85), 0.1, img)
    return img[None, None].float()


@pytest.fixture(scope="module")
def denoiser() -> CNNDenoiser:
    return CNNDenoiser()


def test_default_weights_ship_and_are_small() -> None:
    path = default_weights_path()
    assert path.is_file()
    assert path.stat().st_size < 5 * 1024 * 1024


def test_denoises_synthetic_image(denoiser: CNNDenoiser) -> None:
    clean = _synthetic()
    sigma = 25.0 / 255.0
    g = torch.Generator().manual_seed(0)
    noisy = clean + sigma * torch.randn(clean.shape, generator=g)
    out = denoiser(noisy, sigma)
    assert out.shape == noisy.shape and out.dtype == torch.float32
    assert _psnr(out, clean) > _psnr(noisy, clean) + 5.0


@pytest.mark.parametrize("channels", [1, 3])
def test_odd_sizes_and_channels_preserved(denoiser: CNNDenoiser, channels: int) -> None:
    x = torch.rand(1, channels, 37, 53, generator=torch.Generator().manual_seed(1))
    out = denoiser(x, 15.0 / 255.0)
    assert out.shape == x.shape and out.dtype == x.dtype and out.device == x.device
    assert torch.isfinite(out).all()


def test_colour_is_channelwise(denoiser: CNNDenoiser) -> None:
    x = torch.rand(1, 3, 24, 40, generator=torch.Generator().manual_seed(2))
    out = denoiser(x, 0.1)
    single = denoiser(x[:, 1:2], 0.1)
    torch.testing.assert_close(out[:, 1:2], single, atol=1e-5, rtol=0)


def test_tiny_image_float64_and_sigma_clamped(denoiser: CNNDenoiser) -> None:
    x = torch.rand(1, 1, 3, 5, dtype=torch.float64)
    out = denoiser(x, 5.0)  # far above the trained range: clamped, no error
    assert out.shape == x.shape and out.dtype == torch.float64
    assert torch.isfinite(out).all()


def test_missing_weights_raise_value_error(tmp_path) -> None:
    with pytest.raises(ValueError, match="not found"):
        CNNDenoiser(tmp_path / "nope.pt")


@pytest.mark.parametrize("content", [b"not a torch file at all", None])
def test_corrupt_weights_raise_value_error(tmp_path, content: bytes | None) -> None:
    path = tmp_path / "bad.pt"
    if content is None:
        torch.save({"state_dict": {}, "meta": {"something": 1}}, path)
    else:
        path.write_bytes(content)
    with pytest.raises(ValueError, match="corrupt"):
        CNNDenoiser(path)
