"""The parameter panel is bound to the explorer state: an edit of C — a slider move or a typed value —
goes from the widget through the panel to ExplorerState.edit and on to the running timeline's
submit, through at most five files, is validated once, and is heard exactly once (no echo: neither
the panel nor the run's pulls send it again)."""

from __future__ import annotations

import traceback
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from core.params import ParameterTimeline
from tests.conftest import GUI_TIMEOUT_MS

ROOT = Path(__file__).resolve().parents[1]
MAX_FILES = 5


@pytest.fixture
def paused(loaded):
    """The loaded window with a paused run (so edits go to its timeline)."""
    assert loaded.runner.start_run(running=False)
    return loaded


@pytest.fixture
def submits(monkeypatch) -> list[list[str]]:
    """Every ParameterTimeline.submit call: the project files it passed, from the widget to
    core/params.py where submit is."""
    calls: list[list[str]] = []
    original = ParameterTimeline.submit

    def submit(self, **changes):
        files = [Path(f.filename).resolve() for f in traceback.extract_stack()]
        ours = [
            f for f in files if f.is_relative_to(ROOT / "gui") or f.is_relative_to(ROOT / "core")
        ]
        path = [str(f.relative_to(ROOT)) for f in ours] + ["core/params.py"]
        calls.append(list(dict.fromkeys(path)))
        return original(self, **changes)

    monkeypatch.setattr(ParameterTimeline, "submit", submit)
    return calls


def _heard(window) -> list:
    events: list = []
    window.state.events.parameters.connect(events.append)
    return events


def _step_and_pull(qtbot, window) -> None:
    """One iteration, pulled into the views (the state follows the run)."""
    seen = window.runner.run.worker.row_count("fima")
    window.runner.step_run()
    qtbot.waitUntil(
        lambda: window.runner.run.worker.row_count("fima") > seen, timeout=GUI_TIMEOUT_MS
    )
    qtbot.waitUntil(window.runner.run.worker.is_idle, timeout=GUI_TIMEOUT_MS)
    window.runner.refresh_now()


def test_a_slider_move_is_one_edit_one_event_and_no_echo(qtbot, paused, submits):
    window, panel = paused, paused.parameter_panel
    events, edits = _heard(window), []
    panel.changed.connect(edits.append)
    slider = panel.sliders["C"].slider
    slider.setValue(slider.value() - 100)
    C = panel.spin("C").value()
    assert len(submits) == 1 and len(events) == 1 and edits == [{"C": C}]
    assert events[0].C == C == window.state.timeline.pending["C"]
    assert len(submits[0]) <= MAX_FILES, submits[0]
    assert submits[0][0] == "gui/views/log_slider.py"
    assert submits[0][-2:] == ["gui/state/explorer_state.py", "core/params.py"]
    _step_and_pull(qtbot, window)  # the run takes it at its next boundary: nothing new to show
    _step_and_pull(qtbot, window)
    assert len(events) == 1 and len(submits) == 1
    assert window.runner.history.rows("fima")[-1]["C"] == C
    assert panel.parameters().C == C and window.state.initial.C == C


def test_a_typed_value_is_one_edit_one_event_and_no_echo(qtbot, paused, submits):
    window, panel = paused, paused.parameter_panel
    events = _heard(window)
    spin = panel.spin("C")
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, "0.123")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert len(submits) == 1 and len(events) == 1
    assert events[0].C == 0.123 and spin.value() == 0.123
    assert len(submits[0]) <= MAX_FILES, submits[0]
    assert submits[0][0] == "gui/views/guarded_spin.py"
    qtbot.keyClick(spin, Qt.Key.Key_Return)  # the same value again: nothing happens
    _step_and_pull(qtbot, window)
    assert len(events) == 1 and len(submits) == 1


def test_a_refused_value_reaches_neither_the_state_nor_the_run(qtbot, paused, submits, dialogs):
    window, panel = paused, paused.parameter_panel
    events, before = _heard(window), panel.parameters()
    spin = panel.spin("mu")
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, "-2")
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(dialogs) == 1, timeout=5000)
    assert "must be positive" in dialogs[0] and "refused" in dialogs[0]
    assert submits == [] and events == [] and panel.parameters() == before
