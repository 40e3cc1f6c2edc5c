"""Which priors g each task offers, which it accepts, and which one a task switch keeps.

A prior is named by a short key, the text ``--prior`` takes: ``wavelet`` (ℓ1 on Haar wavelets),
``wavelet:p=0.5``, ``tv``, ``box``, ``none`` — the general priors every task builds through
:func:`core.tasks.base.make_task_prior` —, the learned ones where a task offers them (``gs``,
``gs:symmetries=4``, ``gs-prox``, ``gs-prox:symmetries=4``), or a task's own prior (low-light's
``illumination_box``, derain's ``streaks``). Which keys a task takes, what each means and which one
is its default are its description's (:class:`core.tasks.TaskDescription`); a default is never
stored as a choice. The general priors include the wavelet prior on other families than Haar
(``wavelet:wavelet=db4``, ``wavelet:p=0.5,wavelet=sym8`` …): a key names p and a non-Haar family.
"""

from __future__ import annotations

from core.io import InputError
from core.tasks.base import parse_prior_spec
from core.tasks.description import GENERAL_PRIOR_NAMES, GENERAL_PRIORS
from core.tasks.description import prior_name as _prior_name

from .task_catalog import task_description

# the options a key names when they differ from their defaults: (option, default) per prior
KEY_OPTIONS = {
    "wavelet": (("p", 1.0), ("wavelet", "haar")),
    "streaks": (("p", 0.0),),
    "gs": (("symmetries", 1.0),),
    "gs-prox": (("symmetries", 1.0),),
}
GENERAL_TIPS = {c.name: c.help for c in GENERAL_PRIORS}


def prior_key(prior: str | dict | None) -> str | None:
    """The key of a prior given as a key/``--prior`` text or a ``describe()`` dict (None: none)."""
    if prior is None:
        return None
    if not isinstance(prior, dict):
        try:
            prior = parse_prior_spec(str(prior))
        except InputError:  # a malformed option: the prior's name still says what it is
            prior = {"name": str(prior).partition(":")[0]}
    name = str(prior.get("name", "")).strip()
    if not name:
        return None
    named = []
    for option, default in KEY_OPTIONS.get(name, ()):
        value = prior.get(option)
        if isinstance(default, str):
            if value is not None and str(value) != default:
                named.append(f"{option}={value}")
        elif value is not None and float(value) != default:
            named.append(f"{option}={float(value):g}")
    return f"{name}:{','.join(named)}" if named else name


def prior_name(key: str | None) -> str | None:
    """The prior's name in a key (``wavelet:p=0.5`` → ``wavelet``), as ``describe()`` has it."""
    return _prior_name(key) if key else None


def is_task_specific(key: str) -> bool:
    """True when ``key`` names a task's own prior (one :func:`make_task_prior` does not build)."""
    return prior_name(key) not in GENERAL_PRIOR_NAMES


def default_prior(task: str) -> dict:
    """The settings of the prior task ``task`` builds by default ({} if it cannot be read)."""
    description = task_description(task)
    return dict(description.default_prior) if description is not None else {}


def default_prior_key(task: str) -> str | None:
    """The key of task ``task``'s default prior (None when it cannot be read)."""
    return prior_key(default_prior(task) or None)


def task_priors(task: str) -> tuple[str, ...]:
    """The keys of task ``task``'s own priors (those not every task takes), in its order."""
    description = task_description(task)
    keys = description.prior_keys() if description is not None else ()
    return tuple(k for k in keys if is_task_specific(k))


def offered_priors(task: str) -> list[str]:
    """The prior list for ``task``: its default first, then the others its description lists."""
    description = task_description(task)
    default = default_prior_key(task)
    keys = [default] if default else []
    for key in description.prior_keys() if description is not None else GENERAL_TIPS:
        if key not in keys:
            keys.append(key)
    return keys


def accepts_prior(task: str, prior: str | dict | None) -> bool:
    """True when task ``task`` builds ``prior``: one its description names."""
    key = prior_key(prior)
    description = task_description(task)
    if key is None or description is None:
        return False
    return prior_name(key) in description.prior_names()


def carried_prior(task: str, prior: str | dict | None) -> str | None:
    """The choice a switch to ``task`` keeps: a prior the new task takes, as its key (a task's
    own prior, which no other task takes, is dropped)."""
    key = prior_key(prior)
    if key is None or not accepts_prior(task, key):
        return None
    return key


def is_default_prior(task: str, prior: str | dict | None) -> bool:
    """True when ``prior`` is task ``task``'s default: its key, or a describe() that has the
    default's settings (any weight λ, but the shipped weight file)."""
    default = default_prior(task)
    if not default or prior is None:
        return False
    if isinstance(prior, dict):
        if "weights" in prior and "weights" not in default:  # a weight file of the user's own
            return False
        return all(prior.get(k) == v for k, v in _without_weight(default).items())
    return prior_key(prior) == prior_key(default)


def _without_weight(describe: dict) -> dict:
    """A describe() dict without the weight (the run sets it from λ)."""
    return {k: v for k, v in describe.items() if k != "weight"}


def prior_tip(task: str, key: str) -> str:
    """A one-line description of prior ``key`` (the task's default says so)."""
    description = task_description(task)
    choice = description.prior_choice(key) if description is not None else None
    if choice is None and description is not None:  # a key it takes but does not list
        choice = description.prior_choice(prior_name(key) or "")
    tip = choice.help if choice is not None else GENERAL_TIPS.get(key, key)
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
