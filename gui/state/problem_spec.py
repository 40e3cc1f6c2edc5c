"""What the user asked to solve: task, image and the task's options — turned into a TaskSetup."""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from core import TaskSetup, build_task
from core.tasks import TaskOption
from core.tasks.description import BUILD_OPTIONS, COMMON_OPTIONS

from .module_choices import accepts_module, default_module
from .prior_choices import carried_prior, is_default_prior
from .task_catalog import task_description, task_options

# options the explorer has controls for; a task uses those its description declares
KNOWN_OPTIONS = ("kernel", "mask", "noise", "seed", *COMMON_OPTIONS)
# kept across task switches ("module" and "prior" only when the new task accepts them: with_task)
CARRIED_OVER = ("kernel", "mask", "seed", *BUILD_OPTIONS)


def extra_options(task: str) -> dict[str, object]:
    """Options of ``task`` beyond the common ones (e.g. ``darken``, ``texture``), with defaults."""
    return {k: v for k, v in task_options(task).items() if k not in KNOWN_OPTIONS}


def option_choices(task: str, name: str) -> tuple[str, ...] | None:
    """The allowed values of option ``name`` as the task's description lists them (else None)."""
    option = task_option(task, name)
    return option.choices if option is not None and option.choices else None


def task_option(task: str, name: str) -> TaskOption | None:
    """The description of option ``name`` of ``task`` (None when the task does not declare it)."""
    description = task_description(task)
    return description.option(name) if description is not None else None


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

        A module or prior is in ``options`` only when it was chosen (the task's default is never
        stored); it is kept when the new task takes it (a registry module or a TorchScript file; a
        general prior, as its key), and dropped when it belongs to the old task only (smooth's
        ``l0``, low-light's ``illumination_box``, derain's ``streaks``): the new task's default.
        """
        accepted = {**task_options(task), **BUILD_OPTIONS}
        options = {k: v for k, v in self.options.items() if k in CARRIED_OVER and k in accepted}
        module = options.get("module")
        if module is not None and not accepts_module(task, str(module)):
            del options["module"]
        if "prior" in options:
            options["prior"] = carried_prior(task, options["prior"])
            if options["prior"] is None:
                del options["prior"]
        return ProblemSpec(task, self.image, options)

    def without_default_module(self) -> ProblemSpec:
        """A copy that leaves the module to the task when it names the task's default (a session
        file records the module used, chosen or not)."""
        if self.options.get("module") == default_module(self.task):
            return self.with_option("module", None)
        return self

    def without_defaults(self) -> ProblemSpec:
        """A copy that leaves module and prior to the task where they are its defaults (a session
        file records both, chosen or not)."""
        spec = self.without_default_module()
        if is_default_prior(spec.task, spec.options.get("prior")):
            return spec.with_option("prior", None)
        return spec

    def value(self, name: str) -> object:
        """An option's value, or the task's default for it."""
        if name in self.options:
            return self.options[name]
        return task_options(self.task).get(name, BUILD_OPTIONS.get(name))

    def accepts(self, name: str) -> bool:
        """True when the task takes option ``name``."""
        return name in task_options(self.task) or name in BUILD_OPTIONS

    def build_options(self) -> dict:
        """The options passed to :func:`core.build_task` (only those the task accepts)."""
        accepted = {**task_options(self.task), **BUILD_OPTIONS}
        return {k: v for k, v in self.options.items() if k in accepted and v is not None}

    def build(self) -> TaskSetup:
        """Build the task (raises core.InputError / ValueError on bad input)."""
        return build_task(self.task, self.image, **self.build_options())
