"""What the user asked to solve: task, image and the task's options — turned into a TaskSetup."""

from __future__ import annotations

import importlib
import inspect
from dataclasses import dataclass, field, replace
from functools import cache

from core import TaskSetup, build_task

from .module_choices import accepts_module, default_module

# options the explorer has controls for; a task uses those its builder accepts
KNOWN_OPTIONS = ("kernel", "mask", "noise", "seed", "module", "prior", "device")
# kept across task switches ("module" only when the new task accepts it: see ProblemSpec.with_task)
CARRIED_OVER = ("kernel", "mask", "seed", "module", "prior", "device")


def _task_module(task: str):
    try:
        return importlib.import_module(f"core.tasks.{task}")
    except Exception:  # a task still being written must not take the window down
        return None


@cache
def task_options(task: str) -> dict[str, object]:
    """The options task ``task``'s builder accepts, with their defaults (image excluded)."""
    builder = getattr(_task_module(task), "build", None)
    if builder is None:
        return {}
    return {
        name: (None if p.default is inspect.Parameter.empty else p.default)
        for name, p in inspect.signature(builder).parameters.items()
        if name != "image"
    }


def extra_options(task: str) -> dict[str, object]:
    """Options of ``task`` beyond the common ones (e.g. ``darken``, ``texture``), with defaults."""
    return {k: v for k, v in task_options(task).items() if k not in KNOWN_OPTIONS}


@cache
def option_choices(task: str, name: str) -> tuple[str, ...] | None:
    """The allowed values of a text option, when the task module lists them in an upper-case
    tuple constant holding the default (``DARKEN = ("auto", "yes", "no")``); else None."""
    default = task_options(task).get(name)
    if not isinstance(default, str):
        return None
    module = _task_module(task)
    for constant, value in (vars(module) if module is not None else {}).items():
        if (
            constant.isupper()
            and isinstance(value, tuple)
            and value
            and all(isinstance(v, str) for v in value)
            and default in value
        ):
            return value
    return None


@dataclass(frozen=True)
class ProblemSpec:
    """Task name, image path (None: the task's bundled sample) and builder options."""

    task: str = "deblur"
    image: str | None = None
    options: dict = field(default_factory=dict)

    def with_option(self, name: str, value: object) -> ProblemSpec:
        """A copy with one option set (None removes it: the task's default applies)."""
        options = dict(self.options)
        if value is None:
            options.pop(name, None)
        else:
            options[name] = value
        return replace(self, options=options)

    def with_image(self, image: str | None) -> ProblemSpec:
        """A copy with another image (None: the bundled sample)."""
        return replace(self, image=image)

    def with_task(self, task: str) -> ProblemSpec:
        """A copy for another task: shared settings carried over, the rest back to defaults.

        A module is in ``options`` only when it was chosen (the task's default is never stored);
        it is kept when the new task takes it (a registry module or a TorchScript file), and
        dropped when it belongs to the old task only (smooth's ``l0``): the new task's default.
        """
        accepted = task_options(task)
        options = {k: v for k, v in self.options.items() if k in CARRIED_OVER and k in accepted}
        module = options.get("module")
        if module is not None and not accepts_module(task, str(module)):
            del options["module"]
        return ProblemSpec(task, self.image, options)

    def without_default_module(self) -> ProblemSpec:
        """A copy that leaves the module to the task when it names the task's default (a session
        file records the module used, chosen or not)."""
        if self.options.get("module") == default_module(self.task):
            return self.with_option("module", None)
        return self

    def value(self, name: str) -> object:
        """An option's value, or the task's default for it."""
        if name in self.options:
            return self.options[name]
        return task_options(self.task).get(name)

    def accepts(self, name: str) -> bool:
        """True when the task takes option ``name``."""
        return name in task_options(self.task)

    def build_options(self) -> dict:
        """The options passed to :func:`core.build_task` (only those the task accepts)."""
        accepted = task_options(self.task)
        return {k: v for k, v in self.options.items() if k in accepted and v is not None}

    def build(self) -> TaskSetup:
        """Build the task (raises core.InputError / ValueError on bad input)."""
        return build_task(self.task, self.image, **self.build_options())
