"""Issue 30: the window appears at once — a splash is painted before torch is imported, then the window.

Order, not time, is asserted here (``benchmarks/startup.py`` measures the seconds).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from gui import splash as startup

ROOT = Path(__file__).resolve().parents[1]
LOADED_AT_IMPORT = (
    "import sys, {0}; print(sorted(m for m in ('torch', 'core') if m in sys.modules))"
)


def _environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", PYTHONPATH=str(ROOT))
    env.update(XDG_CONFIG_HOME=str(tmp_path / "config"), **extra)
    return env


@pytest.mark.parametrize("module", ["gui.splash", "gui.app", "gui.__init__"])
def test_the_start_up_path_imports_neither_torch_nor_the_engine(module, tmp_path):
    probe = [sys.executable, "-c", LOADED_AT_IMPORT.format(module.removesuffix(".__init__"))]
    done = subprocess.run(probe, env=_environment(tmp_path), capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_splash_is_painted_before_torch_loads_and_the_window_after(tmp_path):
    shot = tmp_path / "window.png"
    command = [sys.executable, "-m", "gui", "--screenshot", str(shot)]
    env = _environment(tmp_path, FIMA_REPORT_FIRST_PAINT="1")
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    events = [
        line.split(" after ")[0]
        for line in done.stderr.splitlines()
        if line.endswith(" s") and " after " in line
    ]
    assert events == [startup.FIRST_PAINT, startup.TORCH_IMPORTED, startup.READY]
    assert shot.is_file() and shot.stat().st_size > 10_000  # the window, not the splash


def test_without_the_report_variable_nothing_is_printed(tmp_path):
    command = [sys.executable, "-m", "gui", "--task", "nope", "--screenshot", str(tmp_path / "x")]
    done = subprocess.run(command, env=_environment(tmp_path), capture_output=True, text=True)
    assert done.returncode == 2  # bad input after the splash: one line, the splash gone
    assert done.stderr.strip().splitlines() == [
        line for line in done.stderr.strip().splitlines() if "invalid choice: 'nope'" in line
    ]


def test_splash_paints_says_and_finishes_once(qtbot, monkeypatch):
    monkeypatch.setenv(startup.REPORT_VARIABLE, "1")
    monkeypatch.setattr(startup, "_reported", set())
    shown = startup.Splash.open("FIMA Explorer", "subtitle", "Loading the engine…")
    try:
        assert shown.painted and shown.isVisible()
        assert shown.message == "Loading the engine…"
        shown.say("Opening the window…")
        assert shown.message == "Opening the window…"
        assert startup._reported == {startup.FIRST_PAINT}
    finally:
        shown.finish()
        shown.finish()  # again: nothing happens
    assert shown.closed and not shown.isVisible()


def test_report_prints_each_event_once_and_only_when_asked(monkeypatch, capsys):
    monkeypatch.setattr(startup, "_reported", set())
    monkeypatch.delenv(startup.REPORT_VARIABLE, raising=False)
    startup.report(startup.READY)
    assert capsys.readouterr().err == ""
    monkeypatch.setenv(startup.REPORT_VARIABLE, "1")
    startup.report(startup.READY)
    startup.report(startup.READY)
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("ready after ")


def test_a_display_is_needed_only_on_linux_without_a_platform(monkeypatch):
    monkeypatch.setattr(sys, "platform", "linux")
    for name in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY"):
        monkeypatch.delenv(name, raising=False)
    assert not startup.display_available()
    monkeypatch.setenv("DISPLAY", ":99")
    assert startup.display_available()
    monkeypatch.delenv("DISPLAY")
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert startup.display_available()


def test_a_dialog_shown_while_loading_closes_the_splash(qtbot):
    from PySide6.QtWidgets import QMessageBox

    shown = startup.Splash.open("FIMA Explorer", "subtitle", "Loading…")
    question = QMessageBox(QMessageBox.Icon.Information, "A slow run", "About 19 s per iteration")
    qtbot.addWidget(question)
    try:
        assert not shown.closed
        question.show()  # e.g. the slow-run offer during the initial load: never under the splash
        assert shown.closed and not shown.isVisible()
    finally:
        question.close()
        shown.finish()
