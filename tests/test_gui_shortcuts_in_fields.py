"""The window's Space / N / R shortcuts act while a number box has the focus (they are not numbers);
Esc leaves a box restoring its value, Return applies the value and leaves it."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt

from tests.conftest import GUI_TIMEOUT_MS

RUNNING = ("running", "limit", "ended")


@pytest.fixture
def shown(qtbot, loaded):
    """The loaded window, shown and active (window shortcuts only fire in the active window)."""
    loaded.solver_panel.set_limit(3)
    loaded.show()
    qtbot.waitExposed(loaded)
    loaded.activateWindow()
    qtbot.waitUntil(loaded.isActiveWindow, timeout=5000)
    return loaded


def _focus(qtbot, spin) -> None:
    """Put the keyboard focus into ``spin``, the cursor at the end of its text."""
    spin.setFocus(Qt.FocusReason.MouseFocusReason)
    qtbot.waitUntil(spin.hasFocus, timeout=5000)
    spin.lineEdit().deselect()
    spin.lineEdit().end(False)


def _triggered(action) -> list[bool]:
    hits: list[bool] = []
    action.triggered.connect(lambda *_: hits.append(True))
    return hits


def test_space_in_a_focused_box_runs_and_types_nothing(qtbot, shown):
    spin = shown.parameter_panel.spin("C")
    text, before = spin.lineEdit().text(), shown.parameter_panel.parameters()
    hits = _triggered(shown.actions.run_pause)
    _focus(qtbot, spin)
    qtbot.keyClick(spin, Qt.Key.Key_Space)
    assert hits == [True]
    assert shown.runner.run_state() in RUNNING
    assert spin.lineEdit().text() == text
    assert shown.parameter_panel.parameters() == before
    qtbot.waitUntil(lambda: shown.runner.run_state() in ("limit", "ended"), timeout=GUI_TIMEOUT_MS)


def test_n_steps_and_r_resets_from_a_focused_box(qtbot, shown):
    spin = shown.parameter_panel.spin("mu")
    text = spin.lineEdit().text()
    steps, resets = _triggered(shown.actions.step), _triggered(shown.actions.reset)
    _focus(qtbot, spin)
    qtbot.keyClick(spin, Qt.Key.Key_N)
    assert steps == [True] and shown.runner.run is not None
    assert spin.lineEdit().text() == text
    _focus(qtbot, spin)
    qtbot.keyClick(spin, Qt.Key.Key_R)
    assert resets == [True] and shown.runner.run_state() == "idle"
    assert spin.lineEdit().text() == text


def test_a_shortcut_applies_what_was_typed_first(qtbot, shown):
    spin = shown.parameter_panel.spin("C")
    _focus(qtbot, spin)
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, "0.01")
    qtbot.keyClick(spin, Qt.Key.Key_Space)
    assert shown.parameter_panel.parameters().C == 0.01
    assert not spin.hasFocus() and shown.runner.run_state() in RUNNING
    qtbot.waitUntil(lambda: shown.runner.run_state() in ("limit", "ended"), timeout=GUI_TIMEOUT_MS)


def test_escape_restores_the_value_and_leaves_the_box(qtbot, shown):
    spin = shown.parameter_panel.spin("C")
    text, before = spin.lineEdit().text(), shown.parameter_panel.parameters()
    _focus(qtbot, spin)
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, "0.5")
    assert spin.lineEdit().text() == "0.5"
    qtbot.keyClick(spin, Qt.Key.Key_Escape)
    assert spin.lineEdit().text() == text
    assert not spin.hasFocus()
    assert shown.parameter_panel.parameters() == before


def test_return_applies_the_value_and_leaves_the_box(qtbot, shown):
    spin = shown.parameter_panel.spin("C")
    hits = _triggered(shown.actions.run_pause)
    _focus(qtbot, spin)
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, "1e-3")  # the 'e' is typed: it is part of a number
    qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert shown.parameter_panel.parameters().C == 1e-3
    assert spin.lineEdit().text() == "0.001"
    assert not spin.hasFocus()
    assert hits == []
    qtbot.keyClick(shown, Qt.Key.Key_Space)  # the shortcuts work again
    assert hits == [True]
    qtbot.waitUntil(lambda: shown.runner.run_state() in ("limit", "ended"), timeout=GUI_TIMEOUT_MS)


def test_n_still_types_nan_and_inf(qtbot, shown, dialogs):
    steps = _triggered(shown.actions.step)
    for name, word in (("C", "nan"), ("mu", "inf")):
        spin = shown.parameter_panel.spin(name)
        _focus(qtbot, spin)
        spin.lineEdit().selectAll()
        qtbot.keyClicks(spin, word)
        assert spin.lineEdit().text() == word
        qtbot.keyClick(spin, Qt.Key.Key_Return)
    assert steps == [] and shown.runner.run is None
    qtbot.waitUntil(lambda: len(dialogs) == 2, timeout=5000)
    assert all("not a finite number" in message for message in dialogs)


def test_the_shortcuts_help_says_they_work_in_number_boxes():
    from gui.dialogs.help_dialogs import shortcuts_html

    text = shortcuts_html()
    assert "Esc" in text and "Return" in text and "number box" in text


@pytest.mark.parametrize("box", ["limit", "noise", "seed"])
def test_plain_number_boxes_give_way_to_the_shortcuts_too(qtbot, shown, box):
    spin = {
        "limit": shown.solver_panel.limit_spin,
        "noise": shown.problem_panel.noise_spin,
        "seed": shown.problem_panel.seed_spin,
    }[box]
    text = spin.lineEdit().text()
    hits = _triggered(shown.actions.run_pause)
    _focus(qtbot, spin)
    qtbot.keyClick(spin, Qt.Key.Key_Space)
    assert hits == [True] and spin.lineEdit().text() == text and not spin.hasFocus()
    qtbot.waitUntil(lambda: shown.runner.run_state() in ("limit", "ended"), timeout=GUI_TIMEOUT_MS)
    _focus(qtbot, spin)
    spin.lineEdit().selectAll()
    qtbot.keyClicks(spin, "7")
    qtbot.keyClick(spin, Qt.Key.Key_Escape)  # Esc: the value is kept, the box is left
    assert spin.lineEdit().text() == text and not spin.hasFocus()
