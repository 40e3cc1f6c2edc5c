"""`fima run` on each of the four newer tasks, from its bundled sample, and a session replay."""

import pytest
import torch

from core.cli import main
from core.tasks import build_task, task_names


def test_all_six_tasks_are_registered():
    assert task_names() == ("deblur", "denoise", "mri", "smooth", "lowlight", "derain")


@pytest.mark.parametrize("task", ["mri", "smooth", "lowlight", "derain"])
def test_cli_runs_each_task_from_its_sample(task, tmp_path, device):
    out = tmp_path / task
    args = ["run", "--task", task, "--iters", "3", "--module", "tv", "--device", device]
    assert main([*args, "--out", str(out)]) == 0
    for name in ("trace.csv", "result.png", "observation.png", "ground_truth.png", "session.toml"):
        assert (out / name).is_file(), name
    rows = (out / "trace.csv").read_text().strip().splitlines()
    assert len(rows) == 4
    replay = tmp_path / f"{task}-replay"
    replay_args = ["run", "--session", str(out / "session.toml"), "--device", device]
    assert main([*replay_args, "--out", str(replay)]) == 0
    assert (replay / "trace.csv").read_text().splitlines()[1].split(",")[2] == rows[1].split(",")[2]


def test_cli_refuses_options_a_task_does_not_take(tmp_path, capsys):
    assert main(["run", "--task", "smooth", "--mask", "radial:20", "--out", str(tmp_path)]) == 2
    assert "do not apply" in capsys.readouterr().err


def test_lowlight_result_is_the_enhanced_colour_picture(tmp_path, device):
    import numpy as np

    from core.cli import main

    out = tmp_path / "ll"
    args = ["run", "--task", "lowlight", "--iters", "2", "--module", "none", "--device", device]
    assert main([*args, "--out", str(out)]) == 0
    result = np.load(out / "result.npy")
    assert result.ndim == 3 and result.shape[-1] == 3  # colour, not the illumination map
    assert np.load(out / "variable.npy").ndim == 2


def test_a_named_prior_keeps_the_tasks_layout_but_not_its_exponent():
    """``wavelet`` on deblur uses deblur's 4 levels; ``wavelet`` on smooth is ℓ1, not smooth's ℓ0."""
    image = torch.rand(1, 1, 64, 64)
    common = {"module": "none", "device": "cpu"}
    deblur = build_task("deblur", image, prior="wavelet", **common).settings["prior"]
    assert deblur["levels"] == 4 and deblur["p"] == 1.0
    assert build_task("deblur", image, prior="wavelet:p=0", **common).settings["prior"]["p"] == 0
    smooth = build_task("smooth", image, prior="wavelet", **common).settings["prior"]
    assert smooth["p"] == 1.0


def test_denoise_run_ends_at_the_denoiser_output_and_says_lam_does_not_apply(
    tmp_path, capsys, device
):
    """`fima run --task denoise` (Prox-PnP Ψ) ends at D_σ(y), the session replays it; --lam warns."""
    import numpy as np

    from core.io import load_image

    image = tmp_path / "small.png"
    t = torch.linspace(0, 1, 48)
    clean = 0.5 + 0.3 * torch.sin(6 * t).view(1, -1) * torch.cos(4 * t).view(-1, 1)
    from core.io import save_image

    save_image(image, clean.view(1, 1, 48, 48))
    out = tmp_path / "den"
    args = ["run", "--task", "denoise", "--image", str(image), "--iters", "4", "--lam", "0.5"]
    args += ["--device", device]
    assert main([*args, "--module", "none", "--out", str(out), "--quiet"]) == 0
    err = capsys.readouterr().err
    assert "--lam does not apply to the gs-prox prior" in err and "Traceback" not in err
    setup = build_task("denoise", load_image(image), module="none", device=device)
    target = setup.problem.prior.denoise(setup.problem.observation_image).squeeze().cpu().numpy()
    result = np.load(out / "result.npy")
    assert np.abs(result - target).max() < 0.02
    replay = tmp_path / "den-replay"
    replay_args = ["run", "--session", str(out / "session.toml"), "--device", device]
    assert main([*replay_args, "--out", str(replay), "--quiet"]) == 0
    assert np.abs(np.load(replay / "result.npy") - result).max() < 1e-5
    naive = ["run", "--task", "denoise", "--image", str(image), "--iters", "2", "--module", "none"]
    naive += ["--device", device]
    assert main([*naive, "--variant", "naive", "--out", str(tmp_path / "nv")]) == 0
    assert "Ψ +∞ (φ_σ unknown at this iterate)" in capsys.readouterr().out
