"""Modules A = A_g ∘ A_f plugged into FIMA's step 2: u = A_g(A_f(x^k)).

A module is any callable ``module(x, k, params, problem) -> u`` (see :class:`base.Module`).
Denoisers are callables ``denoiser(x, sigma) -> x̂`` wrapped by :class:`base.PlugAndPlay`.
"""

from .base import FidelityStep, Module, PlugAndPlay
from .registry import available_modules, default_module_name, make_denoiser, make_module

__all__ = [
    "FidelityStep",
    "Module",
    "PlugAndPlay",
    "available_modules",
    "default_module_name",
    "make_denoiser",
    "make_module",
]
