"""The explorer learns what a task offers from the task's description — options, choices, modules,
priors and defaults — without building a task or reading a signature."""

from __future__ import annotations

import pytest

import core
import core.tasks
import core.tasks.base
from core.tasks import describe_task, task_names
from gui.state import module_choices, prior_choices, problem_spec, task_catalog
from gui.views.task_options import option_tip


@pytest.fixture
def no_builds(monkeypatch):
    """Building a task fails: what the GUI reads must come from the descriptions alone."""

    def refuse(*_args, **_kwargs):
        raise AssertionError("a task was built to read what it offers")

    for module in (core, core.tasks, core.tasks.base, problem_spec, prior_choices, module_choices):
        if hasattr(module, "build_task"):
            monkeypatch.setattr(module, "build_task", refuse)


@pytest.mark.parametrize("task", task_names())
def test_the_explorer_reads_each_task_from_its_description(task, no_builds):
    description = describe_task(task)
    options = task_catalog.task_options(task)
    assert list(options)[: len(description.options)] == list(description.option_names())
    for option in description.options:
        assert options[option.name] == option.default
        assert problem_spec.option_choices(task, option.name) == (option.choices or None)
    assert {"module", "prior", "device"} <= set(options)
    assert prior_choices.default_prior(task) == dict(description.default_prior)
    assert prior_choices.offered_priors(task)[0] == prior_choices.default_prior_key(task)
    assert set(prior_choices.offered_priors(task)) == set(description.prior_keys())
    assert module_choices.default_module(task) == description.default_module_name()
    assert module_choices.task_modules(task) == description.module_names()


def test_task_specific_choices_come_from_the_descriptions():
    assert problem_spec.option_choices("mri", "noise_model") == ("gaussian", "rician")
    assert problem_spec.option_choices("lowlight", "darken") == ("auto", "yes", "no")
    assert problem_spec.extra_options("deblur") == {"grayscale": False}
    assert module_choices.module_label("lowlight", "none") == "none (closed-form step)"
    assert "streak" in module_choices.module_tip("derain", "none")
    assert prior_choices.task_priors("derain") == ("streaks", "streaks:p=1")
    assert prior_choices.carried_prior("deblur", "streaks") is None
    assert prior_choices.carried_prior("lowlight", "tv") == "tv"
    assert "fraction of pixels" in option_tip("derain", "rain", 0.003)
    assert option_tip("derain", "rain", 0.003).endswith("default 0.003")
