"""The lowlight task: illumination variable, box prior, monotone FIMA, the rendered colour output."""

import pytest
import torch
import torch.nn.functional as F

from core.algorithm import run
from core.io import InputError, load_image, resources_dir
from core.metrics import psnr
from core.tasks import build_task
from core.tasks.lowlight import enhance

from .helpers import random_module
from .test_tasks_mri import assert_monotone


def small(name: str, n: int = 64) -> torch.Tensor:
    return F.adaptive_avg_pool2d(load_image(resources_dir() / "samples" / name), n)


def test_build_from_the_sample(device):
    setup = build_task("lowlight", module="none", device=device)
    problem = setup.problem
    assert problem.observation_image.shape == (1, 3, 256, 256)
    assert problem.x0.shape == problem.ground_truth.shape == (1, 1, 256, 256)
    assert problem.info["synthetic"] and problem.info["clean"].shape == (1, 3, 256, 256)
    assert setup.parameters.conditions_hold(problem.lipschitz)
    assert float(problem.x0.min()) >= 0.02 and float(problem.x0.max()) <= 1.0


def test_a_dark_photo_is_enhanced_as_it_is(device):
    setup = build_task("lowlight", small("dark_coffee.png"), module="none", device=device)
    problem = setup.problem
    assert not problem.info["synthetic"] and problem.ground_truth is None
    picture = enhance(setup, problem.x0)
    assert picture.shape == (1, 3, 64, 64)
    assert float(picture.mean()) > 2 * float(problem.observation_image.mean())
    with pytest.raises(InputError, match="darken"):
        build_task("lowlight", small("coffee.png"), darken="maybe", module="none", device=device)


def test_fima_is_monotone_and_improves_the_enhanced_image(device):
    setup = build_task("lowlight", small("coffee.png"), module="none", device=device)
    problem = setup.problem
    clean = problem.info["clean"]
    records = run(problem, setup.module, setup.parameters, "fima", iterations=15)
    assert_monotone(records)
    assert any(r.accepted for r in records)
    before = psnr(problem.observation_image, clean)
    assert psnr(enhance(setup, records[-1].x), clean) > before + 5
    assert_monotone(run(problem, random_module(), setup.parameters, "fima", iterations=15))
    tv = build_task("lowlight", small("coffee.png"), module="tv", device=device)
    assert_monotone(run(tv.problem, tv.module, tv.parameters, "fima", iterations=15))


def test_trace_metrics_score_the_enhanced_picture_not_the_illumination(device):
    """PSNR/SSIM in the trace (and so in the explorer's plots) compare render(t) with the clean R."""
    setup = build_task("lowlight", small("coffee.png"), module="none", device=device)
    problem = setup.problem
    records = run(problem, setup.module, setup.parameters, "fima", iterations=3)
    last = records[-1]
    picture = problem.info["render"](last.x)
    assert last.psnr == pytest.approx(psnr(picture, problem.info["clean"]), abs=1e-6)
    assert last.psnr != pytest.approx(psnr(last.x, problem.ground_truth), abs=0.5)


def test_a_real_dark_photo_has_no_scores(device):
    setup = build_task("lowlight", darken="no", module="none", device=device)
    assert not setup.problem.has_reference
    records = run(setup.problem, setup.module, setup.parameters, "pg", iterations=2)
    assert all(r.psnr != r.psnr for r in records)  # NaN: nothing to compare with
