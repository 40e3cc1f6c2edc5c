"""The learned gradient-step prior g_σ(x) = ½‖x − N_σ(x)‖² (Hurault, Leclaire, Papadakis, ICLR 2022).

N_σ is the shipped LiteUNet with smooth (SiLU) activations (``resources/weights/gs.pt``); its
gradient ∇g_σ(x) = (I − J_N(x))ᵀ(x − N_σ(x)) is one vector-Jacobian product, and the gradient-step
denoiser is D_σ = Id − ∇g_σ. Because the activations are smooth, ∇g_σ is Lipschitz; its constant L_g
is ESTIMATED, not bounded: power iteration on Hessian-vector products ∇²g_σ(x)v (double backward)
at the points the caller gives (the problem's start), see :meth:`GradientStepPrior.lipschitz`.

The prior enters Ψ = f + λ g_σ as the SMOOTH part (``smooth = True``): the engine takes its gradient
and applies the proximal map of f instead (closed form for blur, masked Fourier and identity
operators), so step 9 of Algorithm 1 reads x^{k+1} = prox_{γf}(v − γλ∇g_σ(v)), the GS-PnP iteration
of Hurault et al., and L = λ L_g enters γ < 1/L.

``symmetries`` n ∈ {1, 2, 4, 8} averages the potential over the first n of the eight flips and
quarter turns T_t of the square: g(x) = (1/n) Σ_t g_σ(T_t x). Each T_t is orthogonal, so this is still
a smooth potential whose gradient is (1/n) Σ_t T_tᵀ∇g_σ(T_t x) (Lipschitz constant ≤ L_g), and its
denoiser x − ∇g(x) is the self-ensemble of D_σ; it costs n network passes per gradient.

Colour (multi-channel) images are handled channel by channel: g_σ(x) = Σ_c ½‖x_c − N_σ(x_c)‖².
Sizes that are not a multiple of the network's factor are reflection-padded inside the graph, so the
value and the gradient stay exactly consistent.

Every value, gradient, Hessian-vector product and L_g estimate runs in true float32, whoever calls
(:func:`core.precision.exact_float32`: no TF32 on CUDA): a refined proposal's evaluations are kept
and reused by the engine, so they must be the engine's own numbers.
"""

from __future__ import annotations

import copy
import hashlib
import math
import threading
from pathlib import Path
from typing import Any

import torch

from .interrupt import checkpoint
from .precision import exact_float32
from .priors import Prior
from .unet import grey_batch, load_network

Tensor = torch.Tensor
WEIGHTS_NAME = "gs.pt"
DEFAULT_SIGMA = 10.0 / 255.0
LIPSCHITZ_ITERATIONS = 12
RECENT = 3  # evaluations a prior keeps, so that a point evaluated twice costs one network pass
GRAPH_BUFFERS = 330  # per variant and symmetry: N_σ's activations kept for ∇ (measured, generous)
SYMMETRIES = (1, 2, 4, 8)  # how many of the square's symmetries T_t the potential averages over
_ORDER = (
    (0, False),
    (0, True),
    (2, False),
    (2, True),
    (1, False),
    (3, False),
    (1, True),
    (3, True),
)
_NETWORKS: dict[tuple[str, float, str], tuple[torch.nn.Module, dict]] = {}  # (path, mtime, device)
_LIPSCHITZ: dict[tuple, float] = {}  # (path, σ, N, point): estimate — problems rebuilt alike
_CACHE_LOCK = threading.Lock()


def default_gs_weights_path() -> Path:
    """Path of the shipped gradient-step weights (resources/weights/gs.pt)."""
    from .io import resources_dir

    return resources_dir() / "weights" / WEIGHTS_NAME


def custom_weights(path: Path) -> dict[str, str]:
    """``{"weights": path}`` for a weight file other than the shipped one, else {} (for describe)."""
    default = default_gs_weights_path()
    if path == default or (path.exists() and default.exists() and path.samefile(default)):
        return {}
    return {"weights": str(path.resolve())}


def load_gs_network(path: str | Path) -> tuple[torch.nn.Module, dict[str, Any]]:
    """Load N_σ from a weight file (float32, eval mode, frozen); ValueError if missing/corrupt."""
    model, meta = load_network(path, "learned prior")
    if meta["arch"].get("activation", "relu") == "relu":
        raise ValueError(
            f"{Path(path).name}: a gradient-step prior needs smooth activations, not ReLU"
        )
    return model, meta


def symmetry(x: Tensor, t: int) -> Tensor:
    """T_t x: the t-th of the square's eight symmetries (quarter turns, then a left-right flip)."""
    turns, flip = _ORDER[t]
    x = torch.rot90(x, turns, (-2, -1)) if turns else x
    return torch.flip(x, (-1,)) if flip else x


def pad_to_multiple(x: Tensor, multiple: int) -> Tensor:
    """x padded at the bottom and right to multiples of ``multiple``, as :func:`core.unet.grey_batch`
    pads (reflection; replication where the image is too small to reflect), built from slices,
    flips and concatenation: its backward pass is deterministic on CUDA, where F.pad's reflection
    and replication gradients accumulate with atomics (a replayed session would differ in the
    last bits)."""
    h, w = x.shape[-2:]
    ph, pw = (-h) % multiple, (-w) % multiple
    if not (ph or pw):
        return x
    reflect = ph < h and pw < w
    if pw:
        right = (
            x[..., w - 1 - pw : w - 1].flip(-1)
            if reflect
            else x[..., w - 1 :].expand(*x.shape[:-1], pw)
        )
        x = torch.cat([x, right], dim=-1)
    if ph:
        bottom = (
            x[..., h - 1 - ph : h - 1, :].flip(-2)
            if reflect
            else x[..., h - 1 :, :].expand(*x.shape[:-2], ph, x.shape[-1])
        )
        x = torch.cat([x, bottom], dim=-2)
    return x


def placed(device: str | torch.device) -> torch.device:
    """``device`` as tensors report it (``cuda`` → ``cuda:N``, the current one)."""
    device = torch.device(device)
    if device.type == "cuda" and device.index is None:
        return torch.device("cuda", torch.cuda.current_device())
    return device


def _shared_network(
    path: Path, device: torch.device | str = "cpu"
) -> tuple[torch.nn.Module, dict[str, Any]]:
    """N_σ on ``device``, loaded once per file and device (re-read when the file changes): it is
    frozen, so shareable; each device has its own copy (moving a shared one would pull it from
    under priors on another device)."""
    path = Path(path)
    try:
        stamp = path.stat().st_mtime
    except OSError:
        stamp = -1.0
    device = placed(device)
    key = (str(path.resolve()) if path.exists() else str(path), stamp, str(device))
    with _CACHE_LOCK:
        if key in _NETWORKS:
            return _NETWORKS[key]
    if device.type == "cpu":
        model, meta = load_gs_network(path)
        loaded = model.to(memory_format=torch.channels_last), meta
    else:
        model, meta = _shared_network(path, "cpu")
        loaded = copy.deepcopy(model).to(device), meta
    with _CACHE_LOCK:
        return _NETWORKS.setdefault(key, loaded)


class LearnedEvaluation:
    """λ g_σ at one point, with the autograd graph kept so that ∇ costs one backward pass."""

    __slots__ = ("value", "_potential", "_input", "_weight", "_grad")

    def __init__(self, value: float, potential: Tensor, inp: Tensor, weight: float):
        self.value = value
        self._potential, self._input, self._weight = potential, inp, weight
        self._grad: Tensor | None = None

    @property
    def gradient(self) -> Tensor:
        """λ∇g_σ(x) (computed on first use, then kept)."""
        if self._grad is None:
            checkpoint()  # a backward pass: a caller may abandon the iteration before it
            with exact_float32(), torch.inference_mode(False), torch.enable_grad():
                (grad,) = torch.autograd.grad(self._potential, self._input)
            self._grad = grad.mul_(self._weight) if self._weight != 1.0 else grad
            self._potential = self._input = None
        return self._grad


class GradientStepPrior(Prior):
    """g(x) = λ g_σ(x) = λ/2 ‖x − N_σ(x)‖², smooth with ∇g = λ(I − J_N)ᵀ(x − N_σ(x)).

    ``weight`` is λ (set from the parameters each iteration) and ``sigma`` the noise level σ of
    g_σ on the [0, 1] scale (part of Ψ: changing it changes the objective). ``range_weight`` β adds
    β/2 dist²(x, [0, 1]) inside the bracket: N_σ was trained on images in [0, 1] only, and without it
    the minimiser of a badly conditioned problem overshoots there (ringing past 0 and 1).
    """

    name = "gs"
    smooth = True
    learned = True

    def __init__(
        self,
        weight: float = 1.0,
        sigma: float = DEFAULT_SIGMA,
        weights: str | Path | None = None,
        device: str | torch.device = "cpu",
        range_weight: float = 0.0,
        symmetries: int = 1,
    ):
        if symmetries not in SYMMETRIES:
            raise ValueError(f"learned prior: symmetries must be 1, 2, 4 or 8, got {symmetries:g}")
        if not (math.isfinite(weight) and weight >= 0):
            raise ValueError(f"learned prior: weight must be finite and ≥ 0, got {weight}")
        if not (math.isfinite(sigma) and 0 < sigma <= 60 / 255):
            raise ValueError(f"learned prior: sigma must be in (0, 60/255], got {sigma}")
        self.weight = float(weight)
        self.sigma = float(sigma)
        self.weights = Path(weights) if weights is not None else default_gs_weights_path()
        self.device = placed(device)
        self.network, meta = _shared_network(self.weights, self.device)
        self.meta = meta
        self.range_weight = float(range_weight)
        self.symmetries = int(symmetries)
        self._lipschitz: dict[float, float] = {}
        self.lipschitz_points: list[Tensor] = []
        self._recent: list[tuple[tuple, Tensor, LearnedEvaluation]] = []

    @property
    def memory_buffers(self) -> int:
        """Image-sized float32 buffers one variant keeps: the network's activations of the graphs
        held for ∇ (the last :data:`RECENT` evaluations and the one in flight), per symmetry.

        Measured peak growth of a run, per pixel: fima 320 at 512², 290 at 1024², pg 200, fima with
        ``symmetries=4`` 1,295 — on top of the engine's buffers (``core.memory``)."""
        return GRAPH_BUFFERS * self.symmetries

    # -- the potential -------------------------------------------------------------------------
    def _potential(self, x: Tensor, sigma: float | None = None, with_range: bool = True) -> Tensor:
        """g(x) = (1/n) Σ_t g_σ(T_t x) as a 0-d tensor (graph kept when x requires grad)."""
        if x.device != self.device:  # follow the problem's device (N_σ's copy there)
            self.network = _shared_network(self.weights, x.device)[0]
            self.device = x.device
        level = self.sigma if sigma is None else sigma
        batches: dict[tuple[int, ...], list[Tensor]] = {}  # orientations of one shape: one pass
        for t in range(self.symmetries):
            turned = symmetry(x, t)
            batches.setdefault(tuple(turned.shape), []).append(turned)
        value = sum(
            self._residual_energy(torch.cat(b) if len(b) > 1 else b[0], level)
            for b in batches.values()
        )
        value = value / self.symmetries
        if (
            with_range and self.range_weight > 0
        ):  # β/2 dist²(x, [0, 1]) in units of λ: N_σ only knows [0, 1]
            outside = x - x.clamp(0.0, 1.0)
            value = value + 0.5 * self.range_weight * outside.pow(2).sum()
        return value

    def _residual_energy(self, x: Tensor, level: float) -> Tensor:
        """½‖x − N_σ(x)‖² summed over the images of x (channels-last: the faster convolutions)."""
        x = pad_to_multiple(x, self.network.multiple)  # grey_batch then pads nothing
        z = grey_batch(x, self.network.multiple).contiguous(memory_format=torch.channels_last)
        sig = torch.full((z.shape[0],), level, device=z.device, dtype=torch.float32)
        residual = self.network.predict_noise(z, sig)
        return 0.5 * residual.pow(2).sum()

    @exact_float32()
    def evaluate(self, x: Tensor) -> LearnedEvaluation:
        """λ g_σ(x) now, λ∇g_σ(x) on demand (one backward pass through the kept graph).

        The last :data:`RECENT` evaluations are kept: a point evaluated again (equal values, same
        λ, σ) costs nothing — a refined proposal hands the engine points it already evaluated.
        """
        key = (self.weight, self.sigma, self.range_weight, self.symmetries)
        for stamp, point, evaluation in self._recent:
            if stamp == key and point.shape == x.shape and point.device == x.device:
                if torch.equal(point, x):
                    return evaluation
        checkpoint()  # a forward pass: a caller may abandon the iteration before it
        with torch.inference_mode(False), torch.enable_grad():
            z = x.detach().clone().requires_grad_(True)
            potential = self._potential(z)
        evaluation = LearnedEvaluation(
            self.weight * float(potential.detach()), potential, z, self.weight
        )
        self._recent = [(key, z.detach(), evaluation), *self._recent[: RECENT - 1]]
        return evaluation

    @exact_float32()
    def value(self, x: Tensor) -> float:
        """g(x) = λ g_σ(x) (no graph kept)."""
        checkpoint()
        with torch.inference_mode():
            return self.weight * float(self._potential(x))

    def value_and_gradient(self, x: Tensor) -> tuple[float, Tensor]:
        """(λ g_σ(x), λ∇g_σ(x))."""
        ev = self.evaluate(x)
        return ev.value, ev.gradient

    def gradient(self, x: Tensor) -> Tensor:
        """λ∇g_σ(x)."""
        return self.evaluate(x).gradient

    @exact_float32()
    def denoise(self, x: Tensor) -> Tensor:
        """The gradient-step denoiser D_σ(x) = x − ∇g_σ(x) (λ not applied)."""
        with torch.inference_mode(False), torch.enable_grad():
            z = x.detach().clone().requires_grad_(True)
            (grad,) = torch.autograd.grad(self._potential(z), z)
        return (x - grad.to(x.dtype)).detach()

    @exact_float32()
    def hessian_vector(
        self, x: Tensor, v: Tensor, sigma: float | None = None, range_free: bool = False
    ) -> Tensor:
        """∇²g_σ(x) v by double backward (λ not applied)."""
        with torch.inference_mode(False), torch.enable_grad():
            z = x.detach().clone().requires_grad_(True)
            potential = self._potential(z, sigma, with_range=not range_free)
            (grad,) = torch.autograd.grad(potential, z, create_graph=True)
            (hv,) = torch.autograd.grad(grad, z, grad_outputs=v.detach())
        return hv.detach()

    # -- the Lipschitz constant of ∇g_σ ---------------------------------------------------------
    @exact_float32()
    def estimate_lipschitz(
        self,
        x: Tensor,
        iterations: int = LIPSCHITZ_ITERATIONS,
        seed: int = 0,
        sigma: float | None = None,
        range_free: bool = False,
    ) -> float:
        """‖∇²g_σ(x)‖ by power iteration on Hessian-vector products (an estimate, not a bound).

        ``range_free`` leaves the range term out (its curvature β is added exactly by the caller).
        """
        gen = torch.Generator().manual_seed(seed)
        v = torch.randn(x.shape, generator=gen).to(x.device, x.dtype)
        v /= torch.linalg.vector_norm(v)
        estimate = 0.0
        for _ in range(iterations):
            hv = self.hessian_vector(x, v, sigma, range_free)
            estimate = float(torch.linalg.vector_norm(hv))
            if not estimate > 0 or not math.isfinite(estimate):
                return estimate
            v = hv / estimate
        return estimate

    def lipschitz(self, sigma: float | None = None) -> float:
        """L_g at σ (default: the current one): the largest power-iteration estimate over
        ``lipschitz_points`` for ½‖x − N_σ(x)‖², plus β of the range term (exact).

        Estimated once per σ and set of points (cached across priors of the same weights, safe to
        call from another thread); with no points given, on a smooth 64×64 ramp image.
        """
        level = self.sigma if sigma is None else float(sigma)
        key = round(level, 9)
        if key not in self._lipschitz:
            points = self.lipschitz_points or [_ramp(64, self.device)]
            self._lipschitz[key] = max(self._estimate_cached(p, level) for p in points)
        return self._lipschitz[key] + self.range_weight

    def _estimate_cached(self, point: Tensor, sigma: float) -> float:
        data = point.detach().to("cpu", torch.float32).contiguous().numpy().tobytes()
        digest = hashlib.sha1(data).digest()
        key = (str(self.weights), round(sigma, 9), self.symmetries, tuple(point.shape), digest)
        with _CACHE_LOCK:
            if key in _LIPSCHITZ:
                return _LIPSCHITZ[key]
        value = self.estimate_lipschitz(point, sigma=sigma, range_free=True)
        with _CACHE_LOCK:
            _LIPSCHITZ[key] = value
        return value

    @property
    def lipschitz_estimated(self) -> bool:
        """True: L_g comes from power iteration, it is not a certified bound."""
        return True

    def describe(self) -> dict:
        """Settings that rebuild this prior (``weights`` only when not the shipped file)."""
        return {
            "name": self.name,
            "weight": self.weight,
            "sigma": self.sigma,
            "range_weight": self.range_weight,
            "symmetries": self.symmetries,
            **custom_weights(self.weights),
        }


def _ramp(size: int, device: torch.device) -> Tensor:
    """A smooth test image (a diagonal ramp with a soft disc), values in [0.1, 0.9]."""
    t = torch.linspace(0.0, 1.0, size, device=device)
    yy, xx = torch.meshgrid(t, t, indexing="ij")
    disc = torch.sigmoid(20 * (0.3 - ((xx - 0.5) ** 2 + (yy - 0.5) ** 2).sqrt()))
    return (0.1 + 0.5 * (xx + yy) / 2 + 0.3 * disc).view(1, 1, size, size)
