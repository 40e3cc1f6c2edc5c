"""``fima-explorer`` from the command line: scripted runs, exports, screenshots, bad input."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from core import build_task
from core.movie import mp4_available
from core.session import Session, save_session
from core.trace import read_trace_csv
from gui.app import main
from gui.export import ITEMS

ROOT = Path(__file__).resolve().parents[1]
RUN_FILES = (
    "trace.csv",
    "result.png",
    "result.npy",
    "observation.png",
    "ground_truth.png",
    "session.toml",
)


@pytest.fixture
def session_file(image_file, tmp_path):
    """A session on the 64×64 test image with the fast TV module, variants fima and pg."""
    setup = build_task("deblur", str(image_file), module="tv")
    path = tmp_path / "tv.toml"
    save_session(path, Session(setup.settings, setup.parameters, {}, ["fima", "pg"], 50))
    return path


def test_run_quit_after_export(session_file, tmp_path, _gui_guard):
    out = tmp_path / "out"
    code = main(
        ["--session", str(session_file), "--run", "--quit-after", "5", "--export", str(out)]
    )
    assert code == 0
    for name in RUN_FILES:
        assert (out / name).is_file(), name
    for names, _label in ITEMS.values():  # and everything File → Export… writes
        for name in names:
            optional = name == "iterates.mp4" and not mp4_available()
            assert (out / name).is_file() or optional, name
    rows = read_trace_csv(out / "trace.csv")
    assert [r["variant"] for r in rows] == ["fima"] * 5 + ["pg"] * 5
    assert [r["k"] for r in rows[:5]] == [0, 1, 2, 3, 4]
    import numpy as np

    assert np.load(out / "result.npy").shape == (64, 64)
    text = (out / "session.toml").read_text()
    assert "iterations = 5" in text and 'module = "tv"' in text


def test_screenshot_in_a_real_process(session_file, tmp_path):
    shot = tmp_path / "window.png"
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "XDG_CONFIG_HOME": str(tmp_path)}
    result = subprocess.run(
        [sys.executable, "-m", "gui", "--session", str(session_file), "--run", "--quit-after", "2"]
        + ["--screenshot", str(shot)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert shot.is_file() and shot.stat().st_size > 10_000
    assert "QThread" not in result.stderr
    from PySide6.QtGui import QImage

    image = QImage(str(shot))
    assert image.width() > 800 and image.height() > 500


def test_screenshot_at_start(session_file, tmp_path, _gui_guard):
    shot = tmp_path / "start.png"
    assert main(["--session", str(session_file), "--screenshot", str(shot)]) == 0
    assert shot.is_file()


def test_unreadable_image_scripted_exits_2(tmp_path, capsys, _gui_guard):
    bad = tmp_path / "bad.png"
    bad.write_text("no image here")
    assert main([str(bad), "--quit-after", "2"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "bad.png" in err[0]


def test_bad_session_scripted_exits_2(tmp_path, capsys, _gui_guard):
    assert main(["--session", str(tmp_path / "missing.toml"), "--screenshot", "x.png"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "missing.toml" in err[0]


def test_usage_error_exits_2(capsys):
    assert main(["--quit-after", "0"]) == 2
    assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_interactive_bad_image_shows_a_dialog_and_falls_back(qapp, tmp_path, dialogs, monkeypatch):
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    import gui.main_window

    built = []
    original = gui.main_window.MainWindow.load_problem

    def load_problem(self, spec, *args, **kwargs):
        spec = spec.with_option("module", "tv")  # keep the fallback fast, whatever is bundled
        ok = original(self, spec, *args, **kwargs)
        built.append((spec.image, ok))
        return ok

    monkeypatch.setattr(gui.main_window.MainWindow, "load_problem", load_problem)
    bad = tmp_path / "bad.png"
    bad.write_text("no image here")
    QTimer.singleShot(300, lambda: QApplication.instance().exit(0))
    assert main([str(bad)]) == 0
    assert len(dialogs) == 1 and "bad.png" in dialogs[0]
    assert built == [(str(bad), False), (None, True)]  # then the bundled sample


def test_downscale_flag_shrinks_the_image(tmp_path, _gui_guard):
    from core.io import save_image

    image = tmp_path / "big.png"
    save_image(image, torch.rand(1, 1, 64, 48))
    out = tmp_path / "out"
    argv = [str(image), "--task", "denoise", "--downscale", "4", "--run", "--quit-after", "1"]
    assert main([*argv, "--export", str(out)]) == 0
    import numpy as np

    assert np.load(out / "result.npy").shape == (16, 12)
    assert "downscale = 4" in (out / "session.toml").read_text()


def test_downscale_with_a_session_is_refused(session_file, capsys):
    assert main(["--session", str(session_file), "--downscale", "2", "--screenshot", "x.png"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "downscale" in err[0]
