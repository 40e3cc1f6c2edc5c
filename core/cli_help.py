"""The options of ``fima run`` with help that says what each means, its scale and its default (per
task where the tasks differ) — read from the tasks' descriptions, the ones the explorer reads too.

``fima run --task T --help`` shows task T's options and defaults only, with its modules, priors and
parameter defaults below; ``fima tasks [T]`` prints the same description without the rest.
"""

from __future__ import annotations

import argparse
import textwrap
from collections import Counter
from collections.abc import Callable

from .tasks import TaskDescription, TaskOption, describe_task, task_names

DEFAULT_TASK = "deblur"
DEFAULT_ITERATIONS = 50
# meaning of each parameter ``fima run`` can set (Algorithm 1's symbols; DESIGN.md §1)
PARAMETER_HELP = {
    "C": "C, the check's constant: a learned step is accepted when ‖d‖ ≤ C‖ũ − x^k‖; the guarantee "
    "needs 2C < μ",
    "mu": "μ, the proximal weight of Ψ^k = Ψ + μ/2‖· − x^k‖² (the guarantee needs 2C < μ)",
    "gamma": "γ, the step size of the proximal steps (the guarantee needs γ < 1/L)",
    "lam": "λ, the weight of the prior g in Ψ = f + λg",
    "rho": "ρ, the weight of the data step A_f = argmin f + ρ/2‖· − x‖²",
}
GENERAL_MODULES = ("cnn", "tv", "wavelet", "nlm", "bm3d", "none")
VARIANT_HELP = (
    "fima (Algorithm 1: learned step, checked), unchecked (the check removed), naive "
    "(x = A(x), no safeguard), pg (proximal gradient, no module)"
)
MODULE_HELP = (
    "the module A = A_g∘A_f, the learned step: cnn (the trained CNN denoiser), tv, wavelet, nlm, "
    "bm3d (classical denoisers), none (the data step only), or FILE.pt (a TorchScript denoiser)"
)
PRIOR_HELP = (
    "the prior g in Ψ = f + λg: gs[:sigma=S,weight=W,symmetries=1|2|4|8,weights=FILE.pt] (the "
    "learned gradient-step prior, where the task offers it; symmetries averages g_σ over that many "
    "flips and quarter turns, n× the cost; weights: another weight file than the shipped gs.pt), "
    "gs-prox[:sigma=S,symmetries=N,weights=FILE.pt] (Prox-PnP's learned prior, prox = the "
    "denoiser D_σ; λ = 1/γ), "
    "wavelet[:wavelet=haar|dbN|symN|coifN,p=P,levels=N] (ℓp on orthonormal "
    "wavelet details, 0 ≤ p ≤ 1, Haar and p=1 unless given), tv, box, none"
)


def run_description(task: str | None) -> str:
    """The text above ``fima run``'s options (wrapped: the epilog below is laid out by hand)."""
    scope = (
        f"Options and defaults of task {task}."
        if task
        else "Defaults are per task: fima run --task T --help shows task T's."
    )
    text = (
        f"Run {task or 'a task'} and write trace.csv, result.png/.npy, observation.png, "
        "ground_truth.png (when known) and session.toml into --out; the last line on stdout "
        f"sums the run up (--quiet: none). {scope}"
    )
    return textwrap.fill(text, 78)


def descriptions(task: str | None = None) -> list[TaskDescription]:
    """Task ``task``'s description, or every task's (None)."""
    return [describe_task(t) for t in ((task,) if task else task_names())]


def per_task(values: dict[str, str]) -> str:
    """``0.135`` when every task agrees, else the usual value with the exceptions named:
    ``0.135 (smooth 0.12, lowlight 0.045)``."""
    if len(values) == 1:
        return next(iter(values.values()))
    usual, _ = Counter(values.values()).most_common(1)[0]
    others = ", ".join(f"{t} {v}" for t, v in values.items() if v != usual)
    return f"{usual} ({others})" if others else usual


def number(value: float) -> str:
    """A parameter value as help shows it (four significant digits)."""
    return f"{value:.4g}"


def prior_text(spec) -> str:
    """A prior's settings as ``--prior`` text: ``wavelet:p=1,levels=4``."""
    spec = dict(spec)
    name = spec.pop("name", "?")
    rest = ",".join(
        f"{k}={v:g}"
        for k, v in spec.items()
        if isinstance(v, int | float) and not isinstance(v, bool)
    )
    return f"{name}:{rest}" if rest else str(name)


def option_help(name: str, task: str | None) -> str:
    """Help for task option ``name``: meaning, scale, choices, default (per task), which tasks."""
    having = [(d, d.option(name)) for d in descriptions(task) if d.option(name) is not None]
    description, option = having[0]
    text = option.help
    if option.scale:
        text += f" ({option.scale})"
    if option.choices:
        text += f"; one of {', '.join(option.choices)}"
    text += "; default " + per_task({d.name: o.describe_default() for d, o in having})
    if task is None and len(having) < len(task_names()):
        text += f" [{', '.join(d.name for d, _ in having)}]"
    return text.replace("%", "%%")


def parameter_help(name: str, task: str | None) -> str:
    """Help for parameter ``name``: meaning and default per task (at the task's default options)."""
    values = {
        d.name: d.learned_rule(name) or number(getattr(d.default_parameters(), name))
        for d in descriptions(task)
    }
    return f"{PARAMETER_HELP[name]}; default {per_task(values)}".replace("%", "%%")


def module_help(task: str | None) -> str:
    """Help for ``--module``: what it is, the choices, the default per task."""
    found = descriptions(task)
    own = [f"{d.name}: {', '.join(d.module_names())}" for d in found if d.modules]
    text = MODULE_HELP + (f"; or the task's own ({'; '.join(own)})" if own else "")
    default = per_task({d.name: d.default_module or "cnn" for d in found})
    learned = any(d.default_module is None for d in found)
    return f"{text}; default {default}" + (
        " (tv where cnn's weights are missing)" if learned else ""
    )


def prior_help(task: str | None) -> str:
    """Help for ``--prior``: what it is, the choices, the default per task."""
    found = descriptions(task)
    general = set(describe_task(DEFAULT_TASK).prior_names())
    own = {
        d.name: ", ".join(k for k in d.prior_keys() if k.partition(":")[0] not in general)
        for d in found
    }
    own_text = "; ".join(f"{t}: {keys}" for t, keys in own.items() if keys)
    text = PRIOR_HELP + (f"; or the task's own ({own_text})" if own_text else "")
    return f"{text}; default {per_task({d.name: prior_text(d.default_prior) for d in found})}"


def _whole(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None


def task_option_names() -> list[str]:
    """Every task option ``fima run`` offers (the union of the descriptions'), in first-seen order."""
    return list(dict.fromkeys(o.name for d in descriptions() for o in d.options))


def add_task_options(
    run: argparse.ArgumentParser, task: str | None, finite: Callable[[str], float]
) -> None:
    """One flag per task option (``--noise``, ``--noise-model``, ``--grayscale``, …); with
    ``task``, the help of options that task does not take is hidden (they are still parsed, and
    refused with one line). ``finite`` parses a number."""
    types: dict[type, Callable[[str], object]] = {float: finite, int: _whole, str: str}
    shown = set(describe_task(task).option_names()) if task else None
    for name in task_option_names():
        option: TaskOption = next(d.option(name) for d in descriptions() if d.option(name))
        help_text = option_help(name, task) if shown is None or name in shown else argparse.SUPPRESS
        kwargs: dict = {"dest": name, "help": help_text}
        if option.kind is bool:
            kwargs["action"] = argparse.BooleanOptionalAction
        else:
            kwargs["type"] = types[option.kind]
            kwargs["metavar"] = option.metavar or (
                "|".join(option.choices) if option.choices else "X"
            )
        run.add_argument(option.flag, **kwargs)


def _item(name: str, text: str) -> str:
    """``  name: text`` wrapped at 78 columns, continued lines indented."""
    return textwrap.fill(f"{name}: {text}", 78, initial_indent="  ", subsequent_indent="      ")


def description_text(description: TaskDescription, options: bool = True) -> str:
    """Task ``description`` as text: (options,) modules, priors, parameters, sample."""
    lines = [f"{description.name}: {description.summary}"]
    if options:
        lines += ["", "options (fima run flags):"]
        for option in description.options:
            scale = f" ({option.scale})" if option.scale else ""
            choices = f"; one of {', '.join(option.choices)}" if option.choices else ""
            default = f"; default {option.describe_default()}"
            lines.append(_item(option.flag, f"{option.help}{scale}{choices}{default}"))
    lines += ["", f"modules (--module; default {description.describe_default_module()}):"]
    lines += [_item(c.name, c.help) for c in (*description.modules, *description.module_notes)]
    named = {c.name for c in (*description.modules, *description.module_notes)}
    general = ", ".join(n for n in GENERAL_MODULES if n not in named)
    also = "and " if named else ""
    lines.append(f"  {also}{general}, FILE.pt (a TorchScript denoiser)")
    lines += ["", f"priors (--prior; default {prior_text(description.default_prior)}):"]
    lines += [_item(c.name, c.help) for c in description.priors]
    params = description.default_parameters()
    values = ", ".join(
        f"{k} {description.learned_rule(k) or number(getattr(params, k))}" for k in PARAMETER_HELP
    )
    schedule = f"denoiser σ {number(params.sigma_end)}"
    if params.sigma_steps:
        schedule = f"denoiser σ {number(params.sigma_start)} → {number(params.sigma_end)} over "
        schedule += f"{int(params.sigma_steps)} iterations"
    lines += ["", "parameters (at the default options):"]
    lines.append(textwrap.fill(f"{values}; {schedule}", 78, initial_indent="  "))
    lines.append(f"sample image: {description.sample} (resources/samples)")
    return "\n".join(lines)


def tasks_text(task: str | None = None, options: bool = True) -> str:
    """``fima tasks``: one line per task; ``fima tasks T``: task T's description."""
    if task:
        return description_text(describe_task(task), options)
    lines = [f"  {d.name:9} {d.summary}" for d in descriptions()]
    return "\n".join(["tasks (fima tasks T for one task's options and defaults):", *lines])


def task_in(argv: list[str]) -> str | None:
    """The task named by ``--task T`` / ``--task=T`` in ``argv`` (to tailor ``--help``)."""
    for i, arg in enumerate(argv):
        value = None
        if arg == "--task" and i + 1 < len(argv):
            value = argv[i + 1]
        elif arg.startswith("--task="):
            value = arg.split("=", 1)[1]
        if value in task_names():
            return value
    return None
