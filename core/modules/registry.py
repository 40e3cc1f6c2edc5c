"""Build modules and denoisers by name: ``cnn`` (trained, shipped), ``tv``, ``wavelet``, ``nlm``,
``bm3d`` (optional package), ``none`` (A_f only), or a path to a TorchScript ``.pt`` file."""

from __future__ import annotations

from pathlib import Path

import torch

from .base import FidelityStep, Module, PlugAndPlay

CLASSICAL = ("tv", "wavelet", "nlm", "bm3d")


def available_modules() -> list[str]:
    """Names accepted by :func:`make_module` (a .pt path is accepted too)."""
    return ["cnn", *CLASSICAL, "none"]


def default_module_name() -> str:
    """``cnn`` when the trained weights are bundled, else the classical ``tv`` denoiser."""
    from .cnn import default_weights_path

    return "cnn" if default_weights_path().is_file() else "tv"


def make_denoiser(name: str, device: str | torch.device = "cpu"):
    """A denoiser ``(x, sigma) -> x̂`` by name or TorchScript path."""
    from . import classical

    if name == "cnn":
        from .cnn import CNNDenoiser

        return CNNDenoiser(device=device)
    if name == "tv":
        return classical.TVDenoiser()
    if name == "wavelet":
        return classical.WaveletDenoiser()
    if name == "nlm":
        return classical.NLMDenoiser()
    if name == "bm3d":
        return classical.BM3DDenoiser()
    if name.endswith((".pt", ".pth", ".ts")) or Path(name).exists():
        from .torchscript import TorchScriptDenoiser

        return TorchScriptDenoiser(name, device=device)
    raise ValueError(
        f"unknown module {name!r}: choose {', '.join(available_modules())} or a TorchScript .pt file"
    )


def make_module(
    name: str, device: str | torch.device = "cpu", fidelity_step: bool = True
) -> Module:
    """Module A by name: a denoiser after the fidelity prox, or ``none`` for A_f alone."""
    if name == "none":
        return FidelityStep()
    return PlugAndPlay(make_denoiser(name, device), fidelity_step=fidelity_step)
