"""`fima run` as a new user meets it: a summary line at the end, help that explains every option
with its default (per task), the tasks' own options from the command line, colour kept (B1), the
low-light ground truth that the result is scored against (B4), and the 0-255 warning of
`fima denoise --sigma`."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from core.cli import build_parser, main
from core.io import load_image, save_image
from core.session import load_session, save_session
from core.tasks import describe_task, task_names
from core.trace import read_trace_csv

from .helpers import cartoon


@pytest.fixture()
def colour(tmp_path):
    """A 40×40 colour image (three different channels)."""
    grey = cartoon(40)
    picture = torch.cat([grey, grey.flip(-1), 1 - grey], dim=1).clamp(0, 1)
    path = tmp_path / "colour.png"
    save_image(path, picture)
    return path


def _stdout_lines(capsys) -> list[str]:
    return capsys.readouterr().out.strip().splitlines()


# ---- the summary line ------------------------------------------------------------------------
def test_run_ends_with_one_summary_line_and_quiet_silences_it(tmp_path, colour, capsys):
    out = tmp_path / "out"
    argv = ["run", "--task", "denoise", "--image", str(colour), "--module", "none", "--iters", "3"]
    capsys.readouterr()
    assert main([*argv, "--out", str(out)]) == 0
    lines = _stdout_lines(capsys)
    assert len(lines) == 1, lines
    line = lines[0]
    rows = read_trace_csv(out / "trace.csv")
    accepted = round(100 * sum(r["accepted"] for r in rows) / len(rows))
    for part in (
        "denoise",
        "fima",
        "3 iterations",
        f"Ψ {rows[-1]['objective']:.6g}",
        f"PSNR {rows[-1]['psnr']:.2f} dB",
        f"SSIM {rows[-1]['ssim']:.4f}",
        f"accepted {accepted} %",
        "conditions held",
        str(out),
    ):
        assert part in line, (part, line)
    assert main([*argv, "--quiet", "--out", str(tmp_path / "quiet")]) == 0
    assert capsys.readouterr().out == ""


def test_the_summary_says_when_the_conditions_did_not_hold(tmp_path, colour, capsys):
    argv = ["run", "--task", "denoise", "--image", str(colour), "--module", "none", "--iters", "2"]
    capsys.readouterr()
    assert main([*argv, "--preset", "paper", "--variant", "pg", "--out", str(tmp_path / "o")]) == 0
    line = _stdout_lines(capsys)[-1]
    assert "conditions NOT held from k = 0 (2C < μ violated)" in line
    assert "accepted" not in line  # pg has no learned step


# ---- help --------------------------------------------------------------------------------------
def _help(capsys, argv: list[str]) -> str:
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 0
    return capsys.readouterr().out


def _options(text: str) -> dict[str, str]:
    """Each ``--flag`` of a help text with its (joined) help."""
    body = text.split("options:", 1)[1].split("\n\n", 1)[0]
    found: dict[str, str] = {}
    for chunk in re.split(r"\n  (?=-)", "\n" + body):
        chunk = " ".join(chunk.split())
        flag = re.match(r"(-[-\w]+)", chunk)
        if flag:
            found[flag.group(1)] = chunk
    return found


def test_every_run_option_says_its_default(capsys):
    options = _options(_help(capsys, ["run", "--help"]))
    assert {"--noise-model", "--darken", "--smoothness", "--rain", "--angle", "--texture"} <= set(
        options
    )
    assert "--grayscale" in options
    for flag, text in options.items():
        if flag in ("-h", "--force", "--quiet", "--out", "--session"):
            continue
        assert "default" in text, flag
    assert "0.01 = 1 %" in options["--noise"]  # the scale
    assert "smooth 0.12" in options["--C"]  # per task where the tasks differ


def test_the_readme_lists_every_run_option(capsys):
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Command line", 1)[1].split("\n## ", 1)[0]
    for flag in _options(_help(capsys, ["run", "--help"])):
        if flag != "-h":
            assert f"`{flag}" in section, flag


def test_run_help_of_one_task_lists_its_options_choices_and_defaults(capsys):
    text = _help(capsys, ["run", "--task", "mri", "--help"])
    options = _options(text)
    assert "--kernel" not in options and "--darken" not in options
    assert "one of gaussian, rician; default gaussian" in options["--noise-model"]
    assert "default radial:20" in options["--mask"]
    assert "default 0.003" in options["--lam"]  # mri's λ (TV), not deblur's learned rule
    assert "priors (--prior; default tv" in text
    assert text == _help(capsys, ["run", "--help", "--task", "mri"])  # either order


def test_fima_tasks_prints_the_description_the_explorer_reads(capsys):
    assert main(["tasks"]) == 0
    listing = capsys.readouterr().out
    assert all(task in listing for task in task_names())
    assert main(["tasks", "lowlight"]) == 0
    text = capsys.readouterr().out
    description = describe_task("lowlight")
    for option in description.options:
        assert f"{option.flag}: " in text
        assert f"default {option.describe_default()}" in text
    assert "one of auto, yes, no" in text and "illumination_box" in text


# ---- task options from the command line ------------------------------------------------------
def test_task_options_reach_the_task_from_the_command_line(tmp_path, capsys):
    out = tmp_path / "mri"
    argv = ["run", "--task", "mri", "--noise-model", "rician", "--mask", "lines:30"]
    assert main([*argv, "--module", "none", "--iters", "1", "--out", str(out)]) == 0
    task = load_session(out / "session.toml").task
    assert task["noise_model"] == "rician" and task["mask"] == "lines:30"
    args = build_parser().parse_args(["run", "--task", "lowlight", "--darken", "no", "--out", "x"])
    assert args.darken == "no" and args.smoothness is None


@pytest.mark.parametrize(
    "argv, match",
    [
        (["--task", "lowlight", "--darken", "maybe"], "darken must be one of auto, yes, no"),
        (["--task", "lowlight", "--smoothness", "0"], "smoothness must be in (0, 10000]"),
        (["--task", "derain", "--rain", "0.5"], "rain must be in [0, 0.2]"),
        (["--task", "derain", "--angle", "x"], "expected a number"),
        (["--task", "mri", "--noise-model", "laplace"], "noise_model must be one of"),
        (["--task", "mri", "--grayscale"], "do not apply to task mri"),
        (["--task", "smooth", "--seed", "1.5"], "whole number"),
    ],
)
def test_bad_task_options_exit_2_with_one_line(tmp_path, monkeypatch, capsys, argv, match):
    monkeypatch.chdir(tmp_path)
    code = None
    try:
        code = main(["run", *argv, "--module", "none", "--iters", "1", "--out", "o"])
    except SystemExit as exc:  # argparse's own refusals
        code = exc.code
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and match in err, err


# ---- B1: colour stays colour, and the session keeps it ---------------------------------------
@pytest.mark.parametrize("task", ["deblur", "denoise"])
def test_a_colour_photo_stays_colour_and_its_session_replays_it(task, tmp_path, colour):
    out, replay = tmp_path / "a", tmp_path / "b"
    argv = ["run", "--task", task, "--image", str(colour), "--module", "none", "--iters", "2"]
    if task == "deblur":
        argv += ["--kernel", "gauss:1"]
    assert main([*argv, "--out", str(out)]) == 0
    result = np.load(out / "result.npy")
    assert result.shape == (40, 40, 3)
    assert load_image(out / "result.png").shape == (1, 3, 40, 40)
    assert load_image(out / "ground_truth.png").shape == (1, 3, 40, 40)
    assert load_session(out / "session.toml").task["grayscale"] is False
    assert main(["run", "--session", str(out / "session.toml"), "--out", str(replay)]) == 0
    np.testing.assert_array_equal(np.load(replay / "result.npy"), result)
    strip = lambda rows: [{k: v for k, v in r.items() if k != "seconds"} for r in rows]  # noqa: E731
    assert strip(read_trace_csv(replay / "trace.csv")) == strip(read_trace_csv(out / "trace.csv"))
    grey = tmp_path / "grey"
    assert main([*argv, "--grayscale", "--out", str(grey)]) == 0
    assert np.load(grey / "result.npy").shape == (40, 40)
    assert load_session(grey / "session.toml").task["grayscale"] is True


def test_a_format_1_session_of_deblur_still_replays_grey(tmp_path, colour):
    out = tmp_path / "new"
    argv = [
        "run",
        "--image",
        str(colour),
        "--module",
        "none",
        "--iters",
        "1",
        "--kernel",
        "gauss:1",
    ]
    assert main([*argv, "--out", str(out)]) == 0
    session = load_session(out / "session.toml")
    del session.task["grayscale"]
    save_session(tmp_path / "old.toml", session)
    text = (tmp_path / "old.toml").read_text().replace("format_version = 2", "format_version = 1")
    (tmp_path / "old.toml").write_text(text)
    assert main(["run", "--session", str(tmp_path / "old.toml"), "--out", str(tmp_path / "r")]) == 0
    assert np.load(tmp_path / "r" / "result.npy").shape == (40, 40)  # as format 1 ran it


# ---- B4: the low-light ground truth is the clean picture -------------------------------------
def test_lowlight_ground_truth_is_the_clean_picture_and_the_illumination_is_beside_it(tmp_path):
    from core.tasks import build_task

    out = tmp_path / "ll"
    argv = ["run", "--task", "lowlight", "--downscale", "4", "--module", "none", "--iters", "1"]
    assert main([*argv, "--out", str(out)]) == 0
    setup = build_task("lowlight", downscale=4, module="none", device="cpu")
    truth = load_image(out / "ground_truth.png")
    clean = setup.problem.info["clean"].cpu()
    assert truth.shape == clean.shape == (1, 3, 64, 64)
    assert float((truth - clean).abs().max()) <= 0.5 / 255 + 1e-6
    light = load_image(out / "true_illumination.png")
    assert light.shape == (1, 1, 64, 64)
    assert float((light - setup.problem.ground_truth.cpu()).abs().max()) <= 0.5 / 255 + 1e-6
    result = load_image(out / "result.png")
    assert result.shape == truth.shape  # what is scored and what it is scored against


# ---- fima denoise --sigma --------------------------------------------------------------------
def test_denoise_warns_when_sigma_looks_like_the_unit_scale(tmp_path, capsys):
    noisy = tmp_path / "noisy.npy"
    np.save(noisy, cartoon(32)[0, 0].numpy())
    argv = ["denoise", "--image", str(noisy), "--module", "tv", "--out", str(tmp_path / "o.npy")]
    capsys.readouterr()
    assert main([*argv, "--sigma", "0.1"]) == 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "0-255 scale" in err[0] and "--sigma 25.5" in err[0]
    assert main([*argv, "--sigma", "25"]) == 0
    assert capsys.readouterr().err == ""
