"""The smooth task: cartoon + texture, ℓ0-Haar model, the ℓ0-gradient module, monotone FIMA."""

import torch
import torch.nn.functional as F

from core.algorithm import run
from core.io import load_image, resources_dir
from core.metrics import psnr
from core.modules.edge import guided_filter, l0_gradient_smoothing
from core.tasks import build_task

from .helpers import random_module
from .test_tasks_mri import assert_monotone


def small_cartoon(n: int = 64) -> torch.Tensor:
    image = load_image(resources_dir() / "samples" / "cartoon.png", grayscale=True)
    return F.interpolate(image, size=(n, n), mode="nearest")


def test_build_from_the_sample_and_without_ground_truth(device):
    setup = build_task("smooth", module="l0", device=device)
    problem = setup.problem
    assert problem.ground_truth is not None and problem.x0.shape == (1, 1, 256, 256)
    assert setup.parameters.conditions_hold(problem.lipschitz)
    assert setup.settings["module"] == "l0" and setup.settings["texture"] == 0.1
    plain = build_task(
        "smooth", small_cartoon(), texture=0.0, noise=0.0, module="l0", device=device
    )
    assert plain.problem.ground_truth is None


def test_edge_preserving_smoothers_flatten_texture_and_keep_steps(device):
    clean = small_cartoon()
    textured = build_task("smooth", clean, module="l0", device=device).problem.x0
    for smooth in (
        l0_gradient_smoothing(textured, 0.01),
        guided_filter(textured, textured, 2, 0.01),
    ):
        assert psnr(smooth, clean) > psnr(textured, clean) + 3
    assert torch.equal(l0_gradient_smoothing(clean, 0.0), clean)


def test_fima_is_monotone_and_beats_the_input_and_pg(device):
    setup = build_task("smooth", small_cartoon(), module="l0", device=device)
    problem = setup.problem
    records = run(problem, setup.module, setup.parameters, "fima", iterations=15)
    assert_monotone(records)
    pg = run(problem, None, setup.parameters, "pg", iterations=15)
    assert records[-1].psnr > psnr(problem.x0, problem.ground_truth) + 2
    assert records[-1].psnr > pg[-1].psnr + 1
    assert_monotone(run(problem, random_module(), setup.parameters, "fima", iterations=15))


def test_fima_is_monotone_with_the_guided_filter_module(device):
    setup = build_task("smooth", small_cartoon(48), module="guided", device=device)
    records = run(setup.problem, setup.module, setup.parameters, "fima", iterations=15)
    assert_monotone(records)
