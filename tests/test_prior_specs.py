"""What a prior declares it can do, the prior texts the engine takes, and a session's weight file.

Every prior class has ``smooth``, ``learned``, ``weight_from_step`` and ``fixed_weight`` as declared
class attributes (the engine and the explorer read them, never probe). A ``wavelet`` prior takes any
orthogonal PyWavelets family and ℓp; a learned prior built from another weight file than the
shipped one keeps that file through its ``describe()``, so a session reopens with it.
"""

from __future__ import annotations

import shutil

import pytest
import torch

import core.tasks.retinex  # noqa: F401  (its prior class)
import core.tasks.streaks  # noqa: F401  (its prior class)
from core.io import resources_dir, save_image
from core.learned_prior import GradientStepPrior, default_gs_weights_path
from core.learned_prox_prior import ProximalGradientStepPrior
from core.prior_registry import make_prior
from core.priors import Box, NoPrior, Prior, WaveletSparsity
from core.session import Session, load_session, save_session
from core.tasks import build_task
from core.tasks.base import make_task_prior, parse_prior_spec

CAPABILITIES = ("smooth", "learned", "weight_from_step", "fixed_weight")


def _prior_classes() -> list[type]:
    found, todo = [], [Prior]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return found


def _declared(cls: type, name: str) -> bool:
    return any(name in vars(klass) for klass in cls.__mro__ if klass is not object)


def test_every_prior_class_declares_its_capabilities():
    classes = _prior_classes()
    names = {cls.__name__ for cls in classes}
    assert {"GradientStepPrior", "ProximalGradientStepPrior", "StreakPrior"} <= names
    assert {"IlluminationBox", "Box", "NoPrior", "WaveletSparsity", "TotalVariation"} <= names
    for cls in classes:
        for name in CAPABILITIES:
            assert _declared(cls, name), f"{cls.__name__} does not declare {name}"
            assert isinstance(getattr(cls, name), bool), f"{cls.__name__}.{name}"


def test_the_capabilities_say_what_each_prior_is():
    declared = {cls: tuple(getattr(cls, n) for n in CAPABILITIES) for cls in _prior_classes()}
    assert declared[GradientStepPrior] == (True, True, False, False)  # smooth, learned
    assert declared[ProximalGradientStepPrior] == (False, True, True, True)  # λ = 1/γ
    assert declared[WaveletSparsity] == (False, False, False, False)
    assert declared[Box] == declared[NoPrior] == (False, False, False, True)


@pytest.mark.parametrize(
    ("text", "wavelet", "p"),
    [
        ("wavelet", "haar", 1.0),
        ("wavelet:wavelet=db4", "db4", 1.0),
        ("wavelet:family=db4", "db4", 1.0),
        ("wavelet:wavelet=sym8", "sym8", 1.0),
        ("wavelet:wavelet=coif2,p=0.5", "coif2", 0.5),
        ("wavelet:p=0.5", "haar", 0.5),
        ("wavelet:p=0", "haar", 0.0),
        ("wavelet:family=sym8,p=0", "sym8", 0.0),
    ],
)
def test_wavelet_prior_texts_take_any_family_and_lp(text, wavelet, p):
    prior = make_task_prior(text, {"name": "wavelet", "levels": 3}, 0.1)
    assert isinstance(prior, WaveletSparsity)
    assert (prior.wavelet, prior.p, prior.weight) == (wavelet, p, 0.1)
    assert make_prior(prior.describe()).describe() == prior.describe()


def test_the_family_alias_is_read_as_the_wavelet_option():
    assert parse_prior_spec("wavelet:family=sym8,p=0.5") == {
        "name": "wavelet",
        "wavelet": "sym8",
        "p": 0.5,
    }


def test_the_shipped_weights_are_not_written_into_describe():
    assert "weights" not in make_prior({"name": "gs"}).describe()
    assert "weights" not in make_prior({"name": "gs-prox"}).describe()
    shipped = {"name": "gs", "weights": str(default_gs_weights_path())}
    assert "weights" not in make_prior(shipped).describe()


@pytest.mark.parametrize(("task", "prior"), [("deblur", "gs"), ("denoise", "gs-prox")])
def test_a_session_keeps_a_learned_priors_weight_file(tmp_path, task, prior):
    """A run on a copy of gs.pt saves the copy's path; the session reopens with that file."""
    weights = tmp_path / "my_gs.pt"
    shutil.copyfile(resources_dir() / "weights" / "gs.pt", weights)
    image = tmp_path / "image.png"
    save_image(image, torch.rand(1, 1, 32, 32, generator=torch.Generator().manual_seed(0)))
    spec = {"name": prior, "weights": str(weights)}
    setup = build_task(task, str(image), module="none", prior=spec, device="cpu")
    assert setup.settings["prior"]["weights"] == str(weights.resolve())
    path = tmp_path / "session.toml"
    save_session(path, Session(setup.settings, setup.parameters, {}, ["fima"], 3))
    session = load_session(path)
    rebuilt = build_task(task, session.task["image"], **session.build_options())
    learned = rebuilt.problem.prior
    potential = learned.potential if isinstance(learned, ProximalGradientStepPrior) else learned
    assert learned.name == prior and potential.weights.resolve() == weights.resolve()
    assert rebuilt.problem.prior.describe() == setup.problem.prior.describe()


def test_a_prior_text_may_name_a_weight_file(tmp_path):
    weights = tmp_path / "other.pt"
    shutil.copyfile(resources_dir() / "weights" / "gs.pt", weights)
    assert parse_prior_spec(f"gs:weights={weights},sigma=0.04")["weights"] == str(weights)
    prior = make_task_prior(f"gs-prox:weights={weights}", {"name": "tv"}, 0.1)
    assert prior.potential.weights == weights
