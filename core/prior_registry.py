"""Priors by name: :func:`make_prior` rebuilds one from its :meth:`~core.priors.Prior.describe`.

It sits above every prior module (:mod:`core.priors`, :mod:`core.learned_prior`,
:mod:`core.learned_prox_prior`) so that none of them needs to know the others.
"""

from __future__ import annotations

from .priors import Box, NoPrior, Prior, TotalVariation, WaveletSparsity

PRIOR_NAMES = ("wavelet", "tv", "box", "gs", "gs-prox", "none")


def make_prior(spec: dict) -> Prior:
    """Build a prior from :meth:`Prior.describe`-style settings."""
    spec = dict(spec)
    name = spec.pop("name", "wavelet")
    if name == "wavelet":
        return WaveletSparsity(**spec)
    if name == "tv":
        return TotalVariation(**spec)
    if name == "box":
        return Box(**spec)
    if name == "none":
        return NoPrior()
    if name == "gs":  # the learned gradient-step prior λ g_σ (smooth; core/learned_prior.py)
        from .learned_prior import GradientStepPrior

        return GradientStepPrior(**spec)
    if (
        name == "gs-prox"
    ):  # the learned proximal prior λφ_σ, prox = D_σ (core/learned_prox_prior.py)
        from .learned_prox_prior import ProximalGradientStepPrior

        return ProximalGradientStepPrior(**spec)
    raise ValueError(f"unknown prior {name!r} (choose {', '.join(PRIOR_NAMES[:-1])} or none)")
