"""Task registry and the pieces every task shares (noise, priors, device, module choice)."""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import torch

from ..io import InputError, load_image, resources_dir
from ..modules import default_module_name, make_module
from ..params import Parameters
from ..precision import exact_float32
from ..prior_registry import make_prior
from ..priors import NAMED_OPTIONS, OPTION_ALIASES, Prior
from ..problem import Problem
from .description import COMMON_OPTIONS, TaskDescription

Tensor = torch.Tensor
TASKS = ("deblur", "denoise", "mri", "smooth", "lowlight", "derain")


@dataclass
class TaskSetup:
    """A ready-to-run problem with its default module and parameters, and the settings behind it."""

    problem: Problem
    module: object
    parameters: Parameters
    settings: dict = field(default_factory=dict)


def task_setup(
    problem: Problem, module, name: str, parameters: Parameters, image, path, options: Mapping
) -> TaskSetup:
    """The TaskSetup of a built task, with its settings for session files in one fixed layout.

    ``image`` is what the caller passed (None: the bundled sample, whose ``path`` is not recorded);
    ``options`` what :func:`build_task` gave the builder: every option of the task's description
    (recorded, so a session rebuilds the same problem) and ``module``, ``prior``, ``device``.
    """
    options = {k: v for k, v in options.items() if k not in ("module", "prior")}
    device = options.pop("device")
    settings = {
        "task": problem.task,
        "image": str(path) if path and image is not None else None,
        **options,
        "module": name,
        "prior": problem.prior.describe(),
        "device": str(device),
    }
    return TaskSetup(problem, module, parameters, settings)


def task_names() -> tuple[str, ...]:
    """Names accepted by :func:`build_task`."""
    return TASKS


def resolve_device(device: str | None) -> torch.device:
    """``cuda`` when available (or asked for), else ``cpu``."""
    if device in (None, "", "auto"):
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise InputError("--device cuda asked for, but no CUDA device is available")
    if device not in ("cpu", "cuda") and not str(device).startswith("cuda:"):
        raise InputError(f"unknown device {device!r}: use cpu or cuda")
    return torch.device(device)


def gaussian_noise(shape: tuple[int, ...], sigma: float, seed: int) -> Tensor:
    """σ·N(0, 1) noise from a seeded CPU generator (same numbers on every device)."""
    gen = torch.Generator().manual_seed(int(seed))
    return sigma * torch.randn(shape, generator=gen, dtype=torch.float32)


def load_task_image(image: str | Path | Tensor | None, sample: str, grayscale: bool | None):
    """(tensor on the CPU, path or None): the user's image, or the task's bundled sample.

    A tensor given on another device comes to the CPU: builders synthesise the observation there
    (seeded CPU noise, the same on every device) and move the problem to its device at the end.
    """
    if isinstance(image, Tensor):
        image = image.detach().to("cpu", torch.float32)
        if grayscale and image.shape[1] == 3:
            weights = torch.tensor([0.2989, 0.587, 0.114], dtype=torch.float32).view(1, 3, 1, 1)
            image = (image * weights).sum(dim=1, keepdim=True)
        return image, None
    path = Path(image) if image is not None else resources_dir() / "samples" / sample
    return load_image(path, grayscale=grayscale), path


def parse_prior_spec(text: str) -> dict:
    """``name:key=value,…`` (the ``--prior`` text) as a dict, e.g. ``{"name": "wavelet", "p": 0.5}``.

    Values are numbers, except for the options that name something (``wavelet=db4``,
    ``weights=FILE.pt``: :data:`core.priors.NAMED_OPTIONS`), which stay text; ``family=sym8`` is
    another way to write ``wavelet=sym8`` (:data:`core.priors.OPTION_ALIASES`).
    """
    name, _, rest = text.partition(":")
    parsed: dict = {"name": name.strip()}
    for item in filter(None, rest.split(",")):
        key, _, value = (part.strip() for part in item.partition("="))
        key = OPTION_ALIASES.get(key, key)
        if key in NAMED_OPTIONS and value:
            parsed[key] = value
            continue
        try:
            parsed[key] = float(value)
        except ValueError as exc:
            raise InputError(f"bad prior option {item!r} (use key=number)") from exc
    return parsed


def make_task_prior(spec: str | dict | Prior | None, default: dict, lam: float) -> Prior:
    """A prior from a name (``wavelet``, ``wavelet:p=0.5``, ``tv``, ``box``, ``none``) or a dict."""
    if isinstance(spec, Prior):
        return spec
    if spec is None:
        spec = dict(default)
    elif isinstance(spec, str):
        spec = parse_prior_spec(spec)
    spec = dict(spec)
    if spec.get("name") == default.get("name"):  # the task's layout of its prior (levels, …)
        layout = {k: v for k, v in default.items() if k not in ("p", "weight")}
        spec = {**layout, **spec}
    if spec.get("name") in ("wavelet", "tv", "gs"):
        spec.setdefault("weight", lam)
    if "levels" in spec:
        spec["levels"] = int(spec["levels"])
    if "iterations" in spec:
        spec["iterations"] = int(spec["iterations"])
    try:
        return make_prior(spec)
    except (TypeError, ValueError) as exc:
        raise InputError(f"bad prior: {exc}") from exc


def downscale_image(image: Tensor, factor: int) -> Tensor:
    """Area-average an image by an integer ``factor`` (for images too large to run)."""
    if factor == 1:
        return image
    h, w = image.shape[-2:]
    if h // factor < 8 or w // factor < 8:
        raise InputError(f"downscaling {h}×{w} by {factor} leaves less than 8×8 pixels")
    return torch.nn.functional.avg_pool2d(image, factor)


def describe_task(name: str) -> TaskDescription:
    """The :class:`TaskDescription` task ``name`` declares (its module's ``DESCRIPTION``)."""
    if name not in TASKS:
        raise InputError(f"unknown task {name!r}: choose {', '.join(TASKS)}")
    return importlib.import_module(f"{__package__}.{name}").DESCRIPTION


def build_task(name: str, image=None, downscale: int = 1, **options) -> TaskSetup:
    """Build task ``name`` from an image path/tensor (None: the bundled sample) and its options.

    The options are the task's own (its description's, checked there, defaults filled in) and
    ``module``, ``prior``, ``device`` (None: the task's default). ``downscale`` > 1 area-averages
    the image by that factor first (recorded in the settings). The build (its L estimates, the
    start's Ψ) runs in true float32 (:func:`core.precision.exact_float32`).
    """
    description = describe_task(name)
    if not isinstance(downscale, int) or isinstance(downscale, bool) or not 1 <= downscale <= 64:
        raise InputError(f"downscale must be a whole factor from 1 to 64, got {downscale!r}")
    if downscale > 1:
        source = image
        if not isinstance(image, Tensor):
            sample = resources_dir() / "samples" / description.sample
            path = Path(image) if image is not None else sample
            image = load_image(path)
        setup = build_task(name, downscale_image(image, downscale), **options)
        if source is not None and not isinstance(source, Tensor):
            setup.settings["image"] = str(source)
        setup.settings["downscale"] = downscale
        return setup
    common = {key: options.pop(key, None) for key in COMMON_OPTIONS}
    values = description.resolve(options)
    values["module"] = common["module"] or description.default_module_name()
    values["prior"] = common["prior"]
    values["device"] = resolve_device(common["device"])
    builder = importlib.import_module(f"{__package__}.{name}").build
    with exact_float32():
        return builder(image, values)


def module_for(name: str | None, device: torch.device):
    """The module by name (None: the default), with loading problems as :class:`InputError`."""
    name = name or default_module_name()
    try:
        return make_module(name, device=device), name
    except ValueError as exc:
        raise InputError(str(exc)) from exc
