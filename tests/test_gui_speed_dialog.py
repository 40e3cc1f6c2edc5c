"""The slow-run dialog: it says how slow, offers the advised downscale, and keeping is the default
answer to closing it (the problem stays)."""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from core.speed import SlowRun, slow_run_text
from gui.dialogs.memory_dialog import DOWNSCALE
from gui.dialogs.speed_dialog import KEEP, SpeedDialog

SLOW = SlowRun(20.0, 1, 5, height=1024, width=1024, channels=3, runs=2)


def _dialog(qtbot, slow: SlowRun) -> SpeedDialog:
    dialog = SpeedDialog(slow)
    qtbot.addWidget(dialog)
    return dialog


def test_the_dialog_says_how_slow_and_what_the_advised_factor_gives(qtbot):
    dialog = _dialog(qtbot, SLOW)
    assert dialog.windowTitle() == "A slow run"
    assert dialog.text() == f"{slow_run_text(SLOW)}."
    assert "About 20 s per iteration" in dialog.text()
    assert dialog.informativeText() == (
        "Area-averaging the image by 5 makes it about 1.2 it/s. "  # 20 s × (1/5)² = 0.8 s
        "You can keep the full size: the run works, only slowly."
    )
    assert dialog.downscale_button is not None
    assert dialog.downscale_button.text() == "Use downscale ÷ 5"
    assert dialog.keep_button.text() == "Keep full size"
    assert dialog.defaultButton() is dialog.downscale_button
    assert dialog.escapeButton() is dialog.keep_button


def test_the_answer_is_the_button_clicked_and_keep_when_closed(qtbot):
    dialog = _dialog(qtbot, SLOW)
    assert dialog.choice() == KEEP  # nothing clicked yet: closing keeps the problem
    dialog.downscale_button.click()
    assert dialog.choice() == DOWNSCALE == "downscale"
    other = _dialog(qtbot, SLOW)
    other.keep_button.click()
    assert other.choice() == KEEP == "keep"


def test_exec_returns_with_the_downscale_chosen(qtbot):
    dialog = _dialog(qtbot, SLOW)

    def click() -> None:
        modal = QApplication.activeModalWidget()
        assert modal is dialog
        dialog.downscale_button.click()

    QTimer.singleShot(0, click)
    dialog.exec()
    assert dialog.choice() == DOWNSCALE


def test_escape_keeps_the_size(qtbot):
    dialog = _dialog(qtbot, SLOW)
    QTimer.singleShot(0, lambda: qtbot.keyClick(dialog, Qt.Key.Key_Escape))
    dialog.exec()
    assert dialog.clickedButton() is dialog.keep_button
    assert dialog.choice() == KEEP


def test_without_a_usable_downscale_only_keeping_is_offered(qtbot):
    slow = SlowRun(500.0, 1, None, height=256, width=256)
    dialog = _dialog(qtbot, slow)
    assert dialog.downscale_button is None
    texts = [button.text() for button in dialog.buttons()]
    assert texts == ["Keep full size"]
    assert "No downscale makes it interactive" in dialog.informativeText()
    assert dialog.choice() == KEEP


def test_a_downscaled_image_keeps_its_factor(qtbot):
    slow = SlowRun(8.0, 2, 6, height=512, width=512)
    dialog = _dialog(qtbot, slow)
    assert dialog.keep_button.text() == "Keep ÷ 2"
    assert "by 6" in dialog.informativeText() and "keep this size (÷ 2)" in (
        dialog.informativeText()
    )
    assert dialog.downscale_button.text() == "Use downscale ÷ 6"
    assert QMessageBox.ButtonRole.AcceptRole == dialog.buttonRole(dialog.downscale_button)
