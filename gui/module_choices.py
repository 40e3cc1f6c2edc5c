"""Which modules A each task offers, which it accepts, and which one a task switch keeps.

A task module may list its own module names in ``MODULES`` (``core.tasks.smooth``: ``l0``,
``guided``); those are valid for that task only. Every task also takes the registry's modules
(:func:`core.modules.registry.available_modules`) and a TorchScript file as its denoiser.
"""

from __future__ import annotations

import importlib
import importlib.util
from functools import cache
from pathlib import Path

import torch

from core.modules.registry import available_modules
from core.tasks import default_module_name

from .task_catalog import task_module

MODULE_SUFFIXES = (".pt", ".pth", ".ts")
OPTIONAL_PACKAGES = {"bm3d": "bm3d"}  # module name → the package it needs
MODULE_TIPS = {
    "cnn": "The trained CNN denoiser (bundled weights)",
    "tv": "Total-variation denoiser",
    "wavelet": "Wavelet soft-thresholding denoiser",
    "nlm": "Non-local means denoiser",
    "bm3d": "BM3D denoiser (optional package bm3d)",
    "none": "A_f only: the data step, no denoiser",
}
TASK_MODULE_TIPS = {
    ("smooth", "l0"): "ℓ0-gradient smoothing (Xu et al. 2011), with refinement",
    ("smooth", "guided"): "Self-guided filter, with refinement",
    ("lowlight", "none"): "The closed-form step: the minimiser of Ψᵏ by ADMM (the task's default)",
    ("derain", "none"): "A_f and refinement only, no streak detector",
}
TASK_MODULE_LABELS = {("lowlight", "none"): "none (closed-form step)"}


def task_modules(task: str) -> tuple[str, ...]:
    """The module names only task ``task`` takes (its ``MODULES``), in its order."""
    names = getattr(task_module(task), "MODULES", ())
    return tuple(str(n) for n in names) if isinstance(names, (tuple, list)) else ()


def general_modules() -> list[str]:
    """Registry modules that can be made here (cnn only with its weights, bm3d only installed)."""
    names = []
    for name in available_modules():
        if name == "cnn" and default_module_name() != "cnn":
            continue
        package = OPTIONAL_PACKAGES.get(name)
        if package and importlib.util.find_spec(package) is None:
            continue
        names.append(name)
    return names


def offered_modules(task: str) -> list[str]:
    """The module list for ``task``: its own modules first, then the general ones."""
    own = list(task_modules(task))
    return own + [n for n in general_modules() if n not in own]


def module_label(task: str, name: str) -> str:
    """The text shown for module ``name`` of ``task``."""
    return TASK_MODULE_LABELS.get((task, name), name)


def module_tip(task: str, name: str) -> str:
    """A one-line description of module ``name`` of ``task``."""
    return TASK_MODULE_TIPS.get((task, name)) or MODULE_TIPS.get(name, name)


def is_module_file(name: str) -> bool:
    """True when ``name`` is a TorchScript file rather than a module name."""
    return Path(name).suffix.lower() in MODULE_SUFFIXES or Path(name).is_file()


def accepts_module(task: str, name: str) -> bool:
    """True when task ``task`` can use module ``name``: its own, a registry one, or a file."""
    return name in task_modules(task) or name in available_modules() or is_module_file(name)


@cache
def default_module(task: str) -> str:
    """The module task ``task`` picks when none is chosen (what its ``make_module(None)`` names)."""
    maker = getattr(task_module(task), "make_module", None)
    if maker is None:
        return default_module_name()
    try:
        return str(maker(None, torch.device("cpu"))[1])
    except Exception:  # a task still being written: the engine's general default
        return default_module_name()
