"""The explorer's export writes the ``fima run`` files through core/outputs: the same names and
contents as ``fima run``, the low-light ground truth being the clean picture the result is scored
against (B4), and a colour photo exported in colour with a session that keeps it (B1)."""

from __future__ import annotations

import numpy as np
import torch

from core.cli import main
from core.io import load_image, save_image
from core.session import load_session
from gui.display import to_display_array
from gui.state.problem_spec import ProblemSpec
from tests.conftest import run_to_limit

from .helpers import cartoon


def test_the_lowlight_export_has_the_clean_picture_as_ground_truth(qtbot, window, tmp_path):
    spec = ProblemSpec("lowlight", None, {"module": "none", "downscale": 4})
    assert window.load_problem(spec), window.last_error
    window.solver_panel.set_variants(["fima"])
    run_to_limit(qtbot, window, 1)
    out = tmp_path / "export"
    assert window.files.export_to(out), window.last_error
    problem = window.setup.problem
    clean = to_display_array(problem.info["clean"])
    truth = load_image(out / "ground_truth.png")
    assert truth.shape == (1, 3, 64, 64)
    assert np.abs(to_display_array(truth) - clean).max() <= 0.5 / 255 + 1e-6
    light = to_display_array(load_image(out / "true_illumination.png"))
    assert np.abs(light - to_display_array(problem.ground_truth)).max() <= 0.5 / 255 + 1e-6

    headless = tmp_path / "headless"  # fima run writes the same reference files
    argv = ["run", "--task", "lowlight", "--downscale", "4", "--module", "none", "--iters", "1"]
    assert main([*argv, "--device", "cpu", "--quiet", "--out", str(headless)]) == 0
    for name in ("ground_truth.png", "true_illumination.png", "observation.png"):
        assert (out / name).read_bytes() == (headless / name).read_bytes(), name


def test_a_colour_photo_is_explored_and_exported_in_colour(qtbot, window, tmp_path):
    grey = cartoon(40)
    path = tmp_path / "colour.png"
    save_image(path, torch.cat([grey, grey.flip(-1), 1 - grey], dim=1).clamp(0, 1))
    assert window.load_problem(ProblemSpec("deblur", str(path), {"module": "none"}))
    assert window.images.image("observation").shape == (40, 40, 3)
    window.solver_panel.set_variants(["fima"])
    run_to_limit(qtbot, window, 1)
    out = tmp_path / "export"
    assert window.files.export_to(out), window.last_error
    assert np.load(out / "result.npy").shape == (40, 40, 3)
    assert load_session(out / "session.toml").task["grayscale"] is False
