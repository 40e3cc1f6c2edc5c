"""Your own network as a denoiser: a TorchScript file (``torch.jit.save``).

Calling convention: ``net(x)`` or ``net(x, sigma)`` with x a (1, C, H, W) float32 tensor in nominal
[0, 1] and sigma a 0-d float32 tensor on the [0, 1] scale (only if forward takes a second argument);
it must return a tensor of x's shape. Export with::

    torch.jit.save(torch.jit.script(model.eval()), "my_net.pt")
"""

from __future__ import annotations

import io
from pathlib import Path

import torch

from ..errors import first_line

Tensor = torch.Tensor


class ModuleError(ValueError):
    """A user module could not be loaded or returned something unusable."""


class TorchScriptDenoiser:
    """A user TorchScript network used as A_g."""

    def __init__(self, path: str | Path, device: str | torch.device = "cpu"):
        self.path = Path(path)
        self.name = self.path.name
        self.device = torch.device(device)
        if not self.path.is_file():
            raise ModuleError(f"module file not found: {self.path}")
        try:
            self.net = torch.jit.load(str(self.path), map_location=self.device).eval()
        except Exception as exc:  # torch raises RuntimeError / ValueError / pickle errors
            raise ModuleError(
                f"{self.path.name} is not a loadable TorchScript file: {first_line(exc)}"
            ) from exc
        try:
            n_args = len(self.net.forward.schema.arguments) - 1  # minus self
        except Exception:
            n_args = 1
        self.takes_sigma = n_args >= 2

    def __call__(self, x: Tensor, sigma: float) -> Tensor:
        """net(x[, σ]) with its output's shape checked."""
        with torch.inference_mode():
            z = x.to(self.device)  # the network's device (the problem's, unless built apart)
            if self.takes_sigma:
                s = torch.tensor(float(sigma), dtype=torch.float32, device=self.device)
                out = self.net(z, s)
            else:
                out = self.net(z)
        if not isinstance(out, torch.Tensor):
            raise ModuleError(f"{self.name} returned {type(out).__name__}, expected a tensor")
        if out.shape != x.shape:
            raise ModuleError(
                f"{self.name} returned shape {tuple(out.shape)}, expected {tuple(x.shape)}"
            )
        return out.to(x.device, x.dtype)

    def __getstate__(self) -> dict:
        """Pickled with the network saved to bytes (a TorchScript module has no pickle of its own;
        the explorer sends its modules to its engine process)."""
        state = self.__dict__.copy()
        buffer = io.BytesIO()
        torch.jit.save(self.net, buffer)
        state["net"] = buffer.getvalue()
        return state

    def __setstate__(self, state: dict) -> None:
        """The network loaded back from its bytes, on its device."""
        self.__dict__.update(state)
        self.net = torch.jit.load(io.BytesIO(state["net"]), map_location=self.device).eval()

    def describe(self) -> dict:
        """Path and SHA-256 of the file."""
        import hashlib

        digest = hashlib.sha256(self.path.read_bytes()).hexdigest()
        return {"denoiser": "torchscript", "path": str(self.path), "sha256": digest}
