"""Which priors g each task offers, which it accepts, and which one a task switch keeps.

A prior is named by a short key, the text ``--prior`` takes: ``wavelet`` (ℓ1 on Haar wavelets),
``wavelet:p=0.5``, ``tv``, ``box``, ``none`` — the general priors every task builds through
:func:`core.tasks.base.make_task_prior` — or a task's own prior (low-light's ``illumination_box``,
derain's ``streaks``), valid for that task only. A task's default is what its builder makes when no
prior is given (read from a small build, so it follows the engine); it is never stored as a choice.
"""

from __future__ import annotations

from functools import cache

import torch

from core import build_task
from core.io import InputError
from core.tasks import task_names
from core.tasks.base import parse_prior_spec

from .task_catalog import task_options

# the names core.priors.make_prior builds, i.e. what every task takes through make_task_prior
GENERAL_NAMES = ("wavelet", "tv", "box", "none")
GENERAL_PRIORS = ("wavelet", "wavelet:p=0.5", "wavelet:p=0", "tv", "box", "none")
TASK_PRIORS = {"derain": ("streaks:p=1",)}  # variants of a task's own prior it also takes
DEFAULT_P = {"wavelet": 1.0, "streaks": 0.0}  # p when a key does not name it
PRIOR_TIPS = {
    "wavelet": "ℓ1 on Haar wavelet details (soft thresholding)",
    "wavelet:p=0.5": "ℓ0.5 on Haar wavelet details (nonconvex)",
    "wavelet:p=0": "ℓ0 on Haar wavelet details: their count (hard thresholding, nonconvex)",
    "tv": "Total variation (isotropic; prox by 30 FGP steps)",
    "box": "The box [0, 1]: g = 0 inside, +∞ outside",
    "none": "g = 0: no prior",
    "illumination_box": "t between the brightest channel of y and 1 (low-light's own)",
    "streaks": "ℓ0 on the rain layer y − b, with 0 ≤ b ≤ y (derain's own)",
    "streaks:p=1": "ℓ1 on the rain layer y − b, with 0 ≤ b ≤ y (derain's own)",
}
PROBE_SIZE = 64  # side of the image a task is built on to read its default prior


def prior_key(prior: str | dict | None) -> str | None:
    """The key of a prior given as a key/``--prior`` text or a ``describe()`` dict (None: none)."""
    if prior is None:
        return None
    if not isinstance(prior, dict):
        try:
            prior = parse_prior_spec(str(prior))
        except InputError:  # a malformed option: the prior's name still says what it is
            prior = {"name": str(prior).partition(":")[0]}
    name, p = str(prior.get("name", "")).strip(), prior.get("p")
    if not name:
        return None
    if name in DEFAULT_P and p is not None and float(p) != DEFAULT_P[name]:
        return f"{name}:p={float(p):g}"
    return name


def prior_name(key: str | None) -> str | None:
    """The prior's name in a key (``wavelet:p=0.5`` → ``wavelet``), as ``describe()`` has it."""
    return key.partition(":")[0] if key else None


def is_task_specific(key: str) -> bool:
    """True when ``key`` names a task's own prior (one :func:`make_task_prior` does not build)."""
    return prior_name(key) not in GENERAL_NAMES


@cache
def default_prior(task: str) -> dict:
    """The ``describe()`` of the prior task ``task`` builds by default ({} if it cannot be read)."""
    if task not in task_names():
        return {}
    probe = torch.full((1, 3, PROBE_SIZE, PROBE_SIZE), 0.5)
    options = {"module": "none", "device": "cpu"}
    try:
        accepted = task_options(task)
        setup = build_task(task, probe, **{k: v for k, v in options.items() if k in accepted})
        return dict(setup.settings.get("prior") or {})
    except Exception:  # a task still being written must not take the window down
        return {}


def default_prior_key(task: str) -> str | None:
    """The key of task ``task``'s default prior (None when it cannot be read)."""
    return prior_key(default_prior(task) or None)


def task_priors(task: str) -> tuple[str, ...]:
    """The keys of task ``task``'s own priors (its default when task-specific, its variants)."""
    default = default_prior_key(task)
    own = [default] if default and is_task_specific(default) else []
    return tuple(own + [k for k in TASK_PRIORS.get(task, ()) if k not in own])


def offered_priors(task: str) -> list[str]:
    """The prior list for ``task``: its default first, its own variants, then the general ones."""
    default = default_prior_key(task)
    keys = [default] if default else []
    for key in (*task_priors(task), *GENERAL_PRIORS):
        if key not in keys:
            keys.append(key)
    return keys


def accepts_prior(task: str, prior: str | dict | None) -> bool:
    """True when task ``task`` builds ``prior``: a general one, or one of its own."""
    key = prior_key(prior)
    if key is None:
        return False
    return not is_task_specific(key) or prior_name(key) in {
        prior_name(k) for k in task_priors(task)
    }


def carried_prior(task: str, prior: str | dict | None) -> str | None:
    """The choice a switch to ``task`` keeps: a general prior as its key; a task's own: None."""
    key = prior_key(prior)
    if key is None or is_task_specific(key) or not accepts_prior(task, key):
        return None
    return key


def is_default_prior(task: str, prior: str | dict | None) -> bool:
    """True when ``prior`` is task ``task``'s default: its key, or its describe() (any weight)."""
    default = default_prior(task)
    if not default or prior is None:
        return False
    if isinstance(prior, dict):
        return _without_weight(prior) == _without_weight(default)
    return prior_key(prior) == prior_key(default)


def _without_weight(describe: dict) -> dict:
    """A describe() dict without the weight (the run sets it from λ)."""
    return {k: v for k, v in describe.items() if k != "weight"}


def prior_tip(task: str, key: str) -> str:
    """A one-line description of prior ``key`` (the task's default says so)."""
    tip = PRIOR_TIPS.get(key) or PRIOR_TIPS.get(prior_name(key) or "", key)
    return f"{tip} — the task's default" if key == default_prior_key(task) else tip


def describe_text(describe: dict | None) -> str:
    """One line for a built prior's settings, ``tv: isotropic True, iterations 30`` (its weight is
    λ of the parameters, which the run sets)."""
    if not describe:
        return ""
    rest = ", ".join(
        f"{k} {v:g}" if isinstance(v, float) else f"{k} {v}"
        for k, v in describe.items()
        if k not in ("name", "weight")
    )
    return f"{describe.get('name', '?')}: {rest}" if rest else str(describe.get("name", "?"))
