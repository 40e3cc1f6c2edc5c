"""A small noise-level-conditional U-Net denoiser (FFDNet / DRUNet-lite) and its file format.

The grayscale input is folded to half resolution with ``PixelUnshuffle(2)`` and concatenated with a
constant noise-level map; a three-scale U-Net of residual conv blocks (no BatchNorm) works there,
and ``PixelShuffle(2)`` unfolds its output. The network predicts the noise residual:
``denoised = noisy - net(noisy, sigma)``.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

SIGMA_MAX = 60.0 / 255.0
FORMAT = "fima-cnn-denoiser/1"


ACTIVATIONS = ("relu", "silu", "elu", "softplus")


def _activation(name: str) -> nn.Module:
    """The block non-linearity; smooth ones (silu, elu, softplus) make ∇g_σ Lipschitz."""
    if name == "relu":
        return nn.ReLU(inplace=True)
    if name == "silu":
        return nn.SiLU()
    if name == "elu":
        return nn.ELU()
    if name == "softplus":
        return nn.Softplus(beta=4.0)
    raise ValueError(f"unknown activation {name!r}: choose {', '.join(ACTIVATIONS)}")


class ResBlock(nn.Module):
    """Residual block: x + conv(act(conv(x)))."""

    def __init__(self, channels: int, activation: str = "relu") -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.act = _activation(activation)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block."""
        return x + self.conv2(self.act(self.conv1(x)))


def _stage(channels: int, blocks: int, activation: str = "relu") -> nn.Sequential:
    return nn.Sequential(*[ResBlock(channels, activation) for _ in range(blocks)])


class LiteUNet(nn.Module):
    """Noise-level-conditional U-Net working at half resolution (input folded by PixelUnshuffle)."""

    def __init__(
        self,
        in_channels: int = 1,
        channels: tuple[int, ...] = (32, 64, 128),
        blocks: tuple[int, ...] = (2, 2, 2),
        unshuffle: int = 2,
        activation: str = "relu",
    ) -> None:
        super().__init__()
        if len(channels) != len(blocks) or len(channels) < 1:
            raise ValueError("channels and blocks must be non-empty and of equal length")
        self.in_channels = in_channels
        self.unshuffle = unshuffle
        self.channels = tuple(channels)
        self.blocks = tuple(blocks)
        self.activation = activation
        folded = in_channels * unshuffle * unshuffle
        self.head = nn.Conv2d(folded + 1, channels[0], 3, padding=1)
        self.encoders = nn.ModuleList()
        self.downs = nn.ModuleList()
        for i in range(len(channels) - 1):
            self.encoders.append(_stage(channels[i], blocks[i], activation))
            self.downs.append(nn.Conv2d(channels[i], channels[i + 1], 2, stride=2))
        self.body = _stage(channels[-1], blocks[-1], activation)
        self.ups = nn.ModuleList()
        self.decoders = nn.ModuleList()
        for i in reversed(range(len(channels) - 1)):
            self.ups.append(nn.ConvTranspose2d(channels[i + 1], channels[i], 2, stride=2))
            self.decoders.append(_stage(channels[i], blocks[i], activation))
        self.tail = nn.Conv2d(channels[0], folded, 3, padding=1)

    @property
    def multiple(self) -> int:
        """Factor that H and W must be divisible by."""
        return self.unshuffle * 2 ** (len(self.channels) - 1)

    def forward(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        """Denoise x (N, C, H, W), H and W multiples of ``multiple``; sigma has shape (N,)."""
        return x - self.predict_noise(x, sigma)

    def predict_noise(self, x: torch.Tensor, sigma: torch.Tensor) -> torch.Tensor:
        """The predicted noise x − N_σ(x) (the network's raw output, no cancellation)."""
        r = self.unshuffle
        z = F.pixel_unshuffle(x, r) if r > 1 else x
        n, _, h, w = z.shape
        smap = sigma.to(z.dtype).view(n, 1, 1, 1).expand(n, 1, h, w)
        f = self.head(torch.cat([z, smap], dim=1))
        skips = []
        for enc, down in zip(self.encoders, self.downs, strict=True):
            f = enc(f)
            skips.append(f)
            f = down(f)
        f = self.body(f)
        for up, dec in zip(self.ups, self.decoders, strict=True):
            f = up(f) + skips.pop()
            f = dec(f)
        noise = self.tail(f)
        if r > 1:
            noise = F.pixel_shuffle(noise, r)
        return noise


def grey_batch(x: torch.Tensor, multiple: int) -> torch.Tensor:
    """x (N, C, H, W) as N·C one-channel float32 images, padded at the bottom and right to multiples
    of ``multiple`` (reflection; replication where the image is too small to reflect)."""
    n, c, h, w = x.shape
    z = x.reshape(n * c, 1, h, w).to(torch.float32)
    ph, pw = (-h) % multiple, (-w) % multiple
    if ph or pw:
        mode = "reflect" if ph < h and pw < w else "replicate"
        z = F.pad(z, (0, pw, 0, ph), mode=mode)
    return z


def potential_and_gradient(
    model: LiteUNet, x: torch.Tensor, sigma: torch.Tensor, create_graph: bool = False
) -> tuple[torch.Tensor, torch.Tensor]:
    """(g_σ(x) per sample, ∇g_σ(x)) for g_σ(x) = ½‖x − N_σ(x)‖² (Hurault et al., ICLR 2022).

    ∇g_σ(x) = (I − J_N(x))ᵀ(x − N_σ(x)) is one vector-Jacobian product through the network; the
    gradient-step denoiser is D_σ = Id − ∇g_σ. ``create_graph`` keeps the graph for training.
    """
    with torch.enable_grad():
        z = x if (x.requires_grad and create_graph) else x.detach().requires_grad_(True)
        residual = model.predict_noise(z, sigma)
        g = 0.5 * residual.flatten(1).pow(2).sum(1)
        (grad,) = torch.autograd.grad(g.sum(), z, create_graph=create_graph)
    if not create_graph:
        g, grad = g.detach(), grad.detach()
    return g, grad


def count_macs(model: LiteUNet, height: int = 256, width: int = 256) -> int:
    """Multiply-accumulate count of one forward pass on a (1, C, height, width) input."""
    total = 0

    def hook(mod: nn.Module, inp: tuple[torch.Tensor, ...], out: torch.Tensor) -> None:
        nonlocal total
        if isinstance(mod, nn.ConvTranspose2d):
            k = mod.kernel_size[0] * mod.kernel_size[1]
            total += inp[0].numel() * mod.out_channels * k // mod.groups
        elif isinstance(mod, nn.Conv2d):
            k = mod.kernel_size[0] * mod.kernel_size[1]
            total += out.numel() * (mod.in_channels // mod.groups) * k

    handles = [
        m.register_forward_hook(hook)
        for m in model.modules()
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d)
    ]
    try:
        with torch.inference_mode():
            x = torch.zeros(1, model.in_channels, height, width)
            model(x, torch.zeros(1))
    finally:
        for h in handles:
            h.remove()
    return total


def load_network(path: str | Path, what: str) -> tuple[LiteUNet, dict[str, Any]]:
    """A weight file as a frozen LiteUNet (eval, float32) and its meta; ValueError naming ``what``."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{what} weight file not found: {path}")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        meta = blob["meta"]
        if meta.get("format") != FORMAT:
            raise KeyError("format")
        model = build_model(meta["arch"])
        model.load_state_dict({k: v.float() for k, v in blob["state_dict"].items()})
    except Exception as exc:  # any failure means an unusable file
        msg = f"{what} weight file is corrupt or unreadable: {path} ({type(exc).__name__})"
        raise ValueError(msg) from None
    model.eval()
    for p in model.parameters():
        p.requires_grad_(False)
    return model, meta


def build_model(arch: dict[str, Any]) -> LiteUNet:
    """Build an untrained LiteUNet from an architecture dict (as stored in the weight file)."""
    return LiteUNet(
        in_channels=int(arch.get("in_channels", 1)),
        channels=tuple(int(c) for c in arch["channels"]),
        blocks=tuple(int(b) for b in arch["blocks"]),
        unshuffle=int(arch.get("unshuffle", 2)),
        activation=str(arch.get("activation", "relu")),
    )


def model_arch(model: LiteUNet) -> dict[str, Any]:
    """Architecture hyper-parameters of a LiteUNet as a plain dict."""
    return {
        "class": "LiteUNet",
        "in_channels": model.in_channels,
        "channels": list(model.channels),
        "blocks": list(model.blocks),
        "unshuffle": model.unshuffle,
        "activation": model.activation,
        "residual": "output = input - predicted noise",
    }


def save_weights(model: LiteUNet, path: str | Path, info: dict[str, Any] | None = None) -> Path:
    """Write the small inference file (fp16 state_dict + metadata) atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to("cpu", torch.float16).clone() for k, v in model.state_dict().items()}
    meta = {
        "format": FORMAT,
        "arch": model_arch(model),
        "sigma_range": [0.0, SIGMA_MAX],
        "sigma_scale": "standard deviation on the [0, 1] intensity scale",
        "training": dict(info or {}),
    }
    tmp = path.with_name(path.name + ".tmp")
    torch.save({"state_dict": state, "meta": meta}, tmp)
    os.replace(tmp, path)
    return path
