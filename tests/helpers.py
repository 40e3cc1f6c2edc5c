"""Small synthetic problems shared by the core tests (fast: 32×32 or 48×48)."""

from __future__ import annotations

import math

import numpy as np
import torch

from core.fidelity import LeastSquares
from core.modules.base import Module, PlugAndPlay
from core.modules.classical import TVDenoiser
from core.operators import Blur, gaussian_kernel
from core.params import Parameters
from core.priors import WaveletSparsity
from core.problem import Problem


def cartoon(n: int = 48, seed: int = 0) -> torch.Tensor:
    """A piecewise-constant test image in [0, 1] with a smooth ramp."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:n, 0:n] / n
    img = 0.2 + 0.5 * (((xx - 0.5) ** 2 + (yy - 0.4) ** 2) < 0.08) + 0.2 * (xx > 0.7) + 0.1 * yy
    img += 0.02 * rng.standard_normal((n, n))
    return torch.tensor(np.clip(img, 0, 1), dtype=torch.float32)[None, None]


def deblur_problem(
    n: int = 48, noise: float = 0.01, lam: float = 2e-4, seed: int = 0, device: str = "cpu"
) -> Problem:
    """Gaussian-blur + noise problem with a wavelet ℓ1 prior (exact prox), made on the CPU (the
    same numbers everywhere) and moved to ``device``."""
    truth = cartoon(n, seed)
    op = Blur(gaussian_kernel(1.6), (n, n))
    gen = torch.Generator().manual_seed(seed)
    y = op.forward(truth) + noise * torch.randn(truth.shape, generator=gen)
    op.to(device)
    truth, y = truth.to(device), y.to(device)
    return Problem(LeastSquares(op, y), WaveletSparsity(lam, levels=3), y.clone(), truth, y)


def good_module() -> Module:
    """A TV denoiser after the fidelity prox (a sensible module)."""
    return PlugAndPlay(TVDenoiser())


class FunctionModule(Module):
    """Wrap ``fn(x, k)`` as a module."""

    def __init__(self, fn, name="test"):
        self.fn, self.name, self.calls = fn, name, 0

    def __call__(self, x, k, params, problem):
        self.calls += 1
        return self.fn(x, k)


def random_module(seed: int = 0) -> FunctionModule:
    """A module returning uniform noise, whatever x is."""
    gen = torch.Generator().manual_seed(seed)
    return FunctionModule(lambda x, k: torch.rand(x.shape, generator=gen), "random")


def params(**changes) -> Parameters:
    """Default test parameters (inside the guarantee) with changes."""
    base = Parameters(C=0.4, mu=1.0, gamma=0.9, lam=2e-4, rho=0.05, sigma_start=0.1, sigma_end=0.02)
    return base.with_changes(**changes)


class Hostile(Module):
    """A module that misbehaves in one chosen way."""

    name = "hostile"

    def __init__(self, behaviour: str) -> None:
        self.behaviour = behaviour
        self.generator = torch.Generator().manual_seed(7)

    def __call__(self, x, k, params, problem):
        """Return garbage (or raise)."""
        if self.behaviour == "nan":
            return torch.full_like(x, math.nan)
        if self.behaviour == "inf":
            return torch.full_like(x, math.inf)
        if self.behaviour == "shape":
            return x[..., :-1, :]
        if self.behaviour == "raise":
            raise RuntimeError("the network exploded\nwith a traceback")
        return 10 * torch.rand(x.shape, generator=self.generator)


def small_gs_weights(directory) -> str:
    """A small random SiLU LiteUNet (weights halved: ∇g_σ contracts) in the shipped file format."""
    from core.unet import LiteUNet, save_weights

    torch.manual_seed(1)
    net = LiteUNet(channels=(8, 16), blocks=(1, 1), activation="silu")
    for p in net.parameters():
        p.data.mul_(0.5)
    path = directory / "small_gs.pt"
    save_weights(net, path, {"note": "test network"})
    return str(path)


def assert_gradient_matches_differences(prior, x: torch.Tensor, eps: float = 1e-2) -> None:
    """value() and value_and_gradient() agree, and ⟨∇g(x), v⟩ = (g(x + εv) − g(x − εv)) / 2ε."""
    import pytest

    v = torch.randn(x.shape, generator=torch.Generator().manual_seed(3)).to(x.device)
    value, grad = prior.value_and_gradient(x)
    assert math.isclose(value, prior.value(x), rel_tol=1e-5)
    fd = (prior.value(x + eps * v) - prior.value(x - eps * v)) / (2 * eps)
    assert float((grad * v).sum()) == pytest.approx(fd, rel=2e-2, abs=1e-4)


def record_message_boxes(monkeypatch) -> list[str]:
    """Make QMessageBox's static dialogs record their text (answering Ok) instead of showing."""
    from PySide6.QtWidgets import QMessageBox

    shown: list[str] = []

    def record(_parent, _title, text, *args, **kwargs):
        shown.append(text)
        return QMessageBox.StandardButton.Ok

    for name in ("critical", "warning", "information", "question"):
        monkeypatch.setattr(QMessageBox, name, staticmethod(record))
    return shown
