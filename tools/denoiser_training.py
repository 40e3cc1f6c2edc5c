"""Pieces of the denoiser training (tools/train_denoiser.py) that do not depend on its command line.

- :class:`PatchSource`: the training images held on the training device, random patches with the
  square's eight flips and quarter turns drawn in one gather (no host round trip per patch).
- :func:`hessian_spectral_norm`: ‖∇²g_σ(x)‖ by power iteration on Hessian-vector products, the
  quantity Prox-PnP's training penalises (Hurault, Leclaire, Papadakis, ICML 2022) so that
  L_g < 1 — D_σ = Id − ∇g_σ is then the proximal map of a weakly convex φ_σ.
- :func:`widen`: a function-preserving copy of a LiteUNet with k× the channels (Net2WiderNet,
  Chen, Goodfellow, Shlens, ICLR 2016), so that a larger network starts where a trained one is.

Imports core/unet.py by path (as train_denoiser.py does), so it runs without the core package.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import torch

Tensor = torch.Tensor


def _unet():
    """core/unet.py, loaded once by path under the name ``fima_unet``."""
    if "fima_unet" in sys.modules:
        return sys.modules["fima_unet"]
    path = Path(__file__).resolve().parents[1] / "core" / "unet.py"
    spec = importlib.util.spec_from_file_location("fima_unet", path)
    mod = importlib.util.module_from_spec(spec)
    sys.modules["fima_unet"] = mod
    spec.loader.exec_module(mod)
    return mod


def dihedral(x: Tensor, a: int) -> Tensor:
    """The a-th (0–7) of the square's symmetries on the last two axes: a % 4 quarter turns, then a
    left-right flip when a ≥ 4."""
    x = torch.rot90(x, a % 4, (-2, -1)) if a % 4 else x
    return x.flip(-1) if a >= 4 else x


class PatchSource:
    """The training images on ``device``; :meth:`sample` draws random augmented patches there.

    Images of one size are stacked into one tensor and cropped with a single gather; images of
    mixed sizes are cropped one by one. Random numbers come from a CPU generator, so a seed gives
    the same patches on every device.
    """

    def __init__(self, images: list[Tensor], patch: int, device: torch.device | str = "cpu"):
        self.device = torch.device(device)
        self.patch = int(patch)
        kept = [im for im in images if min(im.shape) >= self.patch]
        if not kept:
            raise ValueError(f"no training image is at least {patch}×{patch}")
        shapes = {tuple(im.shape) for im in kept}
        self.stack = torch.stack(kept).to(self.device) if len(shapes) == 1 else None
        self.images = None if self.stack is not None else [im.to(self.device) for im in kept]
        self.count = len(kept)

    def sample(self, batch: int, gen: torch.Generator) -> Tensor:
        """Random patches (batch, 1, patch, patch) with random flips / quarter turns."""
        p = self.patch
        idx = torch.randint(self.count, (batch,), generator=gen)
        aug = torch.randint(8, (batch,), generator=gen)
        if self.stack is not None:
            h, w = self.stack.shape[-2:]
            top = torch.randint(h - p + 1, (batch,), generator=gen)
            left = torch.randint(w - p + 1, (batch,), generator=gen)
            span = torch.arange(p)
            rows = (top[:, None] + span)[:, :, None]
            cols = (left[:, None] + span)[:, None, :]
            dev = self.device
            out = self.stack[idx[:, None, None].to(dev), rows.to(dev), cols.to(dev)]
        else:
            crops = []
            for j in idx.tolist():
                img = self.images[j]
                h, w = img.shape
                top = int(torch.randint(h - p + 1, (1,), generator=gen))
                left = int(torch.randint(w - p + 1, (1,), generator=gen))
                crops.append(img[top : top + p, left : left + p])
            out = torch.stack(crops)
        for a in range(1, 8):
            chosen = (aug == a).nonzero().flatten()
            if chosen.numel():
                chosen = chosen.to(self.device)
                out[chosen] = dihedral(out[chosen], a)
        return out[:, None].contiguous()


def hessian_spectral_norm(
    model: torch.nn.Module,
    x: Tensor,
    sigma: Tensor,
    iterations: int = 5,
    create_graph: bool = True,
    gen: torch.Generator | None = None,
) -> Tensor:
    """‖∇²g_σ(x)‖ per sample, for g_σ(x) = ½‖x − N_σ(x)‖²: power iteration v ← ∇²g_σ(x)v/‖·‖
    (Hessian-vector products by double backward), then ‖∇²g_σ(x)v‖ with ‖v‖ = 1.

    The last product keeps its graph when ``create_graph`` (for a training penalty, Prox-PnP); the
    iterations before it do not. ∇²g_σ is symmetric, so the value tends to its largest |eigenvalue|.
    """
    unet = _unet()
    z = x.detach().requires_grad_(True)
    _, grad = unet.potential_and_gradient(model, z, sigma, create_graph=True)
    v = torch.randn(x.shape, generator=gen, device="cpu" if gen is None else gen.device)
    v = v.to(x.device, x.dtype)

    def normalised(t: Tensor) -> Tensor:
        return t / t.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *[1] * (t.dim() - 1))

    v = normalised(v)
    for _ in range(max(0, iterations)):
        (hv,) = torch.autograd.grad(grad, z, v, retain_graph=True)
        v = normalised(hv.detach())
    (hv,) = torch.autograd.grad(grad, z, v, retain_graph=create_graph, create_graph=create_graph)
    norms = hv.flatten(1).norm(dim=1)
    return norms if create_graph else norms.detach()


def _widen_conv(conv: torch.nn.Module, factor: int, wide_in: bool, wide_out: bool) -> None:
    """Replace conv's parameters by the widened ones in place (outputs copied, inputs split)."""
    w = conv.weight.data
    transposed = isinstance(conv, torch.nn.ConvTranspose2d)
    out_dim, in_dim = (1, 0) if transposed else (0, 1)
    if wide_out:
        w = torch.cat([w] * factor, dim=out_dim)
    if wide_in:
        w = torch.cat([w] * factor, dim=in_dim) / factor
    conv.weight = torch.nn.Parameter(w.contiguous())
    if conv.bias is not None and wide_out:
        conv.bias = torch.nn.Parameter(torch.cat([conv.bias.data] * factor).contiguous())
    conv.in_channels = w.shape[in_dim] * conv.groups if transposed else w.shape[in_dim]
    conv.out_channels = w.shape[out_dim] if not transposed else w.shape[out_dim] * conv.groups


def widen(model: torch.nn.Module, factor: int = 2, jitter: float = 1e-3, seed: int = 0):
    """A LiteUNet with ``factor``× the channels computing the same function as ``model`` (each
    feature channel copied ``factor`` times, each incoming weight split between the copies), plus
    a relative ``jitter`` on the weights so that the copies can learn apart."""
    unet = _unet()
    arch = dict(unet.model_arch(model))
    arch["channels"] = [c * factor for c in arch["channels"]]
    wide = unet.build_model(arch)
    source = {n: m for n, m in model.named_modules()}
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, mod in wide.named_modules():
            if not isinstance(mod, torch.nn.Conv2d | torch.nn.ConvTranspose2d):
                continue
            old = source[name]
            mod.weight = torch.nn.Parameter(old.weight.data.clone())
            mod.bias = torch.nn.Parameter(old.bias.data.clone()) if old.bias is not None else None
            _widen_conv(mod, factor, wide_in=name != "head", wide_out=name != "tail")
            if jitter > 0:
                scale = mod.weight.abs().mean()
                noise = torch.randn(mod.weight.shape, generator=gen) * jitter * scale
                mod.weight.add_(noise)
    return wide
