"""Which modules A each task offers, which it accepts, and which one a task switch keeps.

A task's description may list its own modules (``core.tasks.smooth``: ``l0``, ``guided``); those are
valid for that task only. Every task also takes the registry's modules
(:func:`core.modules.registry.available_modules`) and a TorchScript file as its denoiser. What a
module means for a task, and its default module, are the description's too.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from core.modules.registry import available_modules
from core.tasks import default_module_name

from .task_catalog import task_description

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


def task_modules(task: str) -> tuple[str, ...]:
    """The module names only task ``task`` takes (its description's own modules), in its order."""
    description = task_description(task)
    return description.module_names() if description is not None else ()


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
    description = task_description(task)
    choice = description.module_choice(name) if description is not None else None
    return choice.shown if choice is not None else name


def module_tip(task: str, name: str) -> str:
    """A one-line description of module ``name`` of ``task``."""
    description = task_description(task)
    choice = description.module_choice(name) if description is not None else None
    return choice.help if choice is not None else MODULE_TIPS.get(name, name)


def is_module_file(name: str) -> bool:
    """True when ``name`` is a TorchScript file rather than a module name."""
    return Path(name).suffix.lower() in MODULE_SUFFIXES or Path(name).is_file()


def accepts_module(task: str, name: str) -> bool:
    """True when task ``task`` can use module ``name``: its own, a registry one, or a file."""
    return name in task_modules(task) or name in available_modules() or is_module_file(name)


def default_module(task: str) -> str:
    """The module task ``task`` picks when none is chosen (its description's default)."""
    description = task_description(task)
    return description.default_module_name() if description is not None else default_module_name()
