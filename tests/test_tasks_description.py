"""Each task declares itself once, in its DESCRIPTION: build_task checks options against it and
takes its defaults from it; nothing reflects on a builder's signature."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from core.io import InputError
from core.tasks import TaskDescription, build_task, describe_task, task_names
from core.tasks.description import COMMON_OPTIONS, GENERAL_PRIORS, TaskOption

ROOT = Path(__file__).resolve().parents[1]
SMALL = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize("task", task_names())
def test_every_task_is_built_from_its_description(task):
    description = describe_task(task)
    assert isinstance(description, TaskDescription) and description.name == task
    assert (ROOT / "resources" / "samples" / description.sample).is_file()
    setup = build_task(task, SMALL, module="none", device="cpu")
    for name, default in description.defaults().items():  # every option recorded, at its default
        assert setup.settings[name] == default, name
    expected = description.default_parameters()
    if setup.problem.learned:  # C, μ, γ, λ and σ of g_σ follow the noise and the estimated L
        learned = ("C", "mu", "gamma", "lam", "sigma_g")
        tuned = (
            description.learned
            if isinstance(description.learned, tuple)
            else (description.learned,)
        )
        if any(d is not None and d.module_schedule for d in tuned):  # and the module's σ^k
            learned = (*learned, "sigma_start", "sigma_steps")
        assert setup.parameters.with_changes(**{k: getattr(expected, k) for k in learned}) == (
            expected
        )
        assert setup.parameters.conditions_hold(setup.problem.lipschitz)
        assert setup.parameters.sigma_g == setup.problem.prior.sigma > 0
    else:
        assert setup.parameters == expected
    built = setup.settings["prior"]
    assert all(built[k] == v for k, v in description.default_prior.items())
    assert description.default_prior["name"] in description.prior_names()
    assert build_task(task, SMALL, device="cpu").settings["module"] == (
        description.default_module_name()
    )


def test_build_task_refuses_what_the_description_does_not_allow():
    with pytest.raises(InputError, match="do not apply to task denoise"):
        build_task("denoise", SMALL, kernel="levin:1")
    with pytest.raises(InputError, match=r"noise must be in \[0, 1\]"):
        build_task("deblur", SMALL, noise=2.0)
    with pytest.raises(InputError, match="darken must be one of auto, yes, no"):
        build_task("lowlight", SMALL, darken="maybe")
    with pytest.raises(InputError, match="seed must be a whole number"):
        build_task("smooth", SMALL, seed=1.5)
    with pytest.raises(InputError, match="grayscale must be yes or no"):
        build_task("deblur", SMALL, grayscale="perhaps")
    setup = build_task("lowlight", SMALL, module="none", device="cpu", smoothness="5")
    assert setup.settings["smoothness"] == 5.0  # text from a form or a file, parsed by its kind


def test_options_parse_by_their_kind():
    flag = TaskOption("flag", bool, False, "a switch")
    assert flag.parse("yes") is True and flag.parse(0) is False and flag.flag == "--flag"
    count = TaskOption("count_of_things", int, 3, "a count", bounds=(1, 9))
    assert count.parse("4") == 4 and count.parse(5.0) == 5 and count.flag == "--count-of-things"
    with pytest.raises(InputError, match=r"count_of_things must be in \[1, 9\], got 10"):
        count.parse(10)
    with pytest.raises(InputError, match="must be finite"):
        TaskOption("x", float, 1.0, "a number").parse("nan")
    with pytest.raises(InputError):
        TaskOption("bad", float, 5.0, "a default out of its own bounds", bounds=(0.0, 1.0))


def test_a_default_changes_in_one_place():
    """Another default (a parameter, a prior, an option) is one edit of the description."""
    from core.tasks import deblur

    original = deblur.DESCRIPTION
    changed = dataclasses.replace(
        original,
        parameters=lambda o: dataclasses.replace(original.parameters(o), C=0.1),
        default_prior={"name": "tv", "isotropic": True, "iterations": 30},
        options=tuple(
            dataclasses.replace(o, default=0.02) if o.name == "noise" else o
            for o in deblur.DESCRIPTION.options
        ),
    )
    deblur.DESCRIPTION = changed
    try:
        setup = build_task("deblur", SMALL, module="none", device="cpu")
    finally:
        deblur.DESCRIPTION = original
    assert setup.parameters.C == 0.1 and setup.settings["noise"] == 0.02
    assert setup.settings["prior"]["name"] == "tv"


def test_general_priors_are_offered_by_every_task_and_names_are_clean():
    for task in task_names():
        description = describe_task(task)
        assert set(c.name for c in GENERAL_PRIORS) <= set(description.prior_keys()), task
        assert not set(description.option_names()) & set(COMMON_OPTIONS), task


def test_no_signature_reflection_in_the_tasks_or_the_explorer():
    for folder in ("core/tasks", "gui"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            assert "inspect.signature" not in text and "import inspect" not in text, path
