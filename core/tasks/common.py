"""Pieces shared by the tasks (module choice with refinement, colour inputs)."""

from __future__ import annotations

import torch

from ..io import InputError
from ..modules import default_module_name as learned_module_name
from ..modules.refine import ProximalRefinement
from .base import module_for

Tensor = torch.Tensor


def refined_module(name: str | None, device: torch.device, steps: int):
    """(module, name): the registry module (None: :func:`learned_module_name`) + refinement."""
    name = name or learned_module_name()
    module, name = module_for(name, device)
    return ProximalRefinement(module, steps), name


def as_colour(image: Tensor, what: str) -> Tensor:
    """A (1, 3, H, W) tensor: grey images are repeated over three channels."""
    if image.dim() != 4 or image.shape[1] not in (1, 3):
        raise InputError(f"{what}: expected a grey or RGB image, got shape {tuple(image.shape)}")
    return image.repeat(1, 3, 1, 1) if image.shape[1] == 1 else image
