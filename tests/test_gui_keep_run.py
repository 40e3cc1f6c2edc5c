"""Never lose a run (issue 30): an unsaved run is discarded only when the user agrees (changing
the variants or the problem, Reset of a long run, Quit); exports go into a new folder of their
own; File → Open and the command line give the same parameters; the New-study picker takes a
folder that does not exist yet; the rate in the status bar stands still while paused."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QFileDialog, QMessageBox

from gui import settings
from gui.main_window import RESET_ASKS_FROM

from .conftest import GUI_TIMEOUT_MS, run_to_limit

Button = QMessageBox.StandardButton


@pytest.fixture
def answer(monkeypatch):
    """Answer the next confirmations with ``answer.button``; ``answer.asked`` lists their texts."""

    class Answer:
        button = Button.Cancel
        asked: list[str] = []

    def question(_parent, _title, text, *args, **kwargs):
        Answer.asked.append(text)
        return Answer.button

    Answer.asked = []
    monkeypatch.setattr(QMessageBox, "question", staticmethod(question))
    yield Answer
    Answer.button = Button.Discard  # the window closing at the end discards


def test_unticking_a_variant_asks_and_cancel_keeps_the_run(qtbot, loaded, answer):
    run_to_limit(qtbot, loaded, 4)
    run, box = loaded.runner.run, loaded.solver_panel.variant_boxes["pg"]
    ticked = box.isChecked()
    box.click()  # the user ticks / unticks a variant
    assert len(answer.asked) == 1 and "4 iterations" in answer.asked[0]
    assert "Changing the variants" in answer.asked[0]
    assert loaded.runner.run is run and loaded.runner.iterations == 4  # the run is kept
    assert box.isChecked() == ticked  # the checkbox went back
    answer.button = Button.Discard
    box.click()
    assert loaded.runner.run is None and box.isChecked() != ticked


def test_saved_run_is_not_asked_about_until_it_goes_on(qtbot, loaded, answer, tmp_path):
    run_to_limit(qtbot, loaded, 3)
    assert loaded.files.export_to(tmp_path / "out")
    assert loaded.files.unsaved_iterations() == (3, 3)
    assert loaded.set_option("noise", 0.02)  # nothing unsaved: no question
    assert answer.asked == []
    run_to_limit(qtbot, loaded, 3)
    assert loaded.files.save_session_file(tmp_path / "s.toml")
    loaded.solver_panel.set_limit(5)
    loaded.runner.toggle_run()  # two more iterations, not saved
    qtbot.waitUntil(lambda: loaded.runner.run_state() == "limit", timeout=GUI_TIMEOUT_MS)
    assert not loaded.set_option("noise", 0.03)  # asked; Cancel keeps problem and run
    assert "2 of them since it was last saved" in answer.asked[-1]
    assert loaded.spec.options["noise"] == 0.02 and loaded.runner.iterations == 5


def test_save_answer_saves_the_session_then_goes_on(qtbot, loaded, answer, monkeypatch, tmp_path):
    run_to_limit(qtbot, loaded, 3)
    target = tmp_path / "kept.toml"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), ""))
    )
    answer.button = Button.Save
    assert loaded.set_task("denoise")
    assert target.is_file() and loaded.spec.task == "denoise"


def test_save_answer_with_the_picker_cancelled_keeps_everything(qtbot, loaded, answer, monkeypatch):
    run_to_limit(qtbot, loaded, 3)
    monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: ("", "")))
    answer.button = Button.Save
    assert not loaded.set_task("denoise")
    assert loaded.spec.task == "deblur" and loaded.runner.iterations == 3


def test_reset_asks_only_for_a_long_unsaved_run(qtbot, loaded, answer):
    run_to_limit(qtbot, loaded, 3)
    loaded.actions.reset.trigger()  # a short run: reset at once
    assert answer.asked == [] and loaded.runner.run is None
    run_to_limit(qtbot, loaded, RESET_ASKS_FROM)
    loaded.actions.reset.trigger()
    assert len(answer.asked) == 1 and loaded.runner.iterations == RESET_ASKS_FROM
    answer.button = Button.Discard
    loaded.actions.reset.trigger()
    assert loaded.runner.run is None


def test_quit_over_an_unsaved_run_asks_and_cancel_keeps_the_window(qtbot, loaded, answer):
    run_to_limit(qtbot, loaded, 3)
    event = QCloseEvent()
    loaded.closeEvent(event)
    assert not event.isAccepted() and "Quitting" in answer.asked[0]
    assert loaded.runner.run is not None and loaded.runner.iterations == 3
    answer.button = Button.Discard
    event = QCloseEvent()
    loaded.closeEvent(event)
    assert event.isAccepted() and loaded.runner.run is None


def test_scripted_window_never_asks(qtbot, loaded, answer):
    loaded.scripted = True
    run_to_limit(qtbot, loaded, 3)
    assert loaded.set_task("denoise") and answer.asked == []


def test_export_defaults_to_a_new_folder_beside_the_last_export(
    qtbot, loaded, monkeypatch, tmp_path
):
    first = Path(settings.default_export_folder("deblur"))
    assert first.parent == settings.documents_folder() and first.parent != Path.cwd()
    assert re.fullmatch(r"fima-deblur-\d{8}-\d{6}", first.name)
    assert not first.exists()  # made by the export, not by proposing it

    run_to_limit(qtbot, loaded, 2)
    chosen = tmp_path / "exports" / "fima-deblur-20240101-120000"
    assert loaded.files.export_to(chosen)
    proposed = Path(settings.default_export_folder("deblur"))
    assert proposed.parent == chosen.parent  # beside the last one, a new name
    assert loaded.files.export_to(tmp_path / "mine")  # a folder of the user's own naming
    assert Path(settings.default_export_folder("mri")).parent == tmp_path / "mine"

    seen = {}

    class Dialog:
        def __init__(self, folder, _parent):
            seen["folder"] = folder

        def exec(self):
            return 0  # cancelled

    monkeypatch.setattr("gui.window_files.ExportDialog", Dialog)
    loaded.files.open_export_dialog()
    assert Path(seen["folder"]).parent == tmp_path / "mine"
    assert Path(seen["folder"]).name.startswith("fima-deblur-")


def test_open_and_command_line_give_the_same_parameters(qtbot, window, image_file, monkeypatch):
    from gui.app import _initial_load, build_parser
    from gui.main_window import MainWindow

    assert _initial_load(window, build_parser().parse_args([str(image_file)]))
    by_argument = window.state.initial
    preset = window.parameter_panel.preset()

    other = MainWindow()
    qtbot.addWidget(other)
    try:
        assert _initial_load(other, build_parser().parse_args([]))  # the sample
        other.state.edit(C=0.05, mu=0.5)  # the previous image's own settings
        assert other.parameter_panel.preset() == "custom"
        monkeypatch.setattr(
            QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(image_file), ""))
        )
        other.actions.open_image.trigger()  # Ctrl+O
        assert other.spec.image == str(image_file)
        by_open = other.state.initial
        assert (by_open.C, by_open.mu, by_open.gamma) == (
            by_argument.C,
            by_argument.mu,
            by_argument.gamma,
        )
        assert other.parameter_panel.preset() == preset == "guaranteed"
    finally:
        other.close()


def test_new_study_folder_may_not_exist_yet(qtbot, tmp_path):
    from gui.dialogs.folder_dialog import NewFolderDialog

    dialog = NewFolderDialog(None, "New study: folder", tmp_path)
    qtbot.addWidget(dialog)
    dialog.selectFile(str(tmp_path / "not_yet"))
    dialog.accept()
    assert dialog.result() == QFileDialog.DialogCode.Accepted
    assert dialog.folder() == str(tmp_path / "not_yet")


def test_new_study_starts_in_a_folder_made_for_it(qtbot, tmp_path, monkeypatch):
    from gui.study import StudyWindow

    from .test_gui_study import write_spec

    spec = write_spec(tmp_path / "spec", iterations=1, grid="C = [0.1]\nmu = [1.0]")
    out = tmp_path / "new" / "study"
    monkeypatch.setattr(QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (spec, "")))
    monkeypatch.setattr("gui.study.study_window.choose_folder", lambda *a, **k: str(out))
    win = StudyWindow()
    qtbot.addWidget(win)
    win.workers.setValue(0)
    win.choose_spec()
    qtbot.waitUntil(lambda: not win.is_running(), timeout=180_000)
    assert (out / "study.db").is_file()
    win.close()


def test_rate_stands_still_while_paused(qtbot, loaded):
    status = loaded.status
    loaded.solver_panel.set_limit(1000)
    loaded.runner.start_run()
    qtbot.waitUntil(lambda: loaded.runner.iterations >= 3, timeout=GUI_TIMEOUT_MS)
    loaded.runner.pause_run()
    qtbot.waitUntil(lambda: loaded.runner.run.worker.is_idle(), timeout=GUI_TIMEOUT_MS)
    loaded.runner.refresh_now()
    shown = status.rate.text()
    assert shown == "– it/s" or shown.endswith("(paused)")
    for _ in range(2):  # steps while paused do not move the rate
        k = loaded.runner.iterations
        loaded.runner.step_run()
        qtbot.waitUntil(
            lambda k=k: loaded.runner.refresh_now() or loaded.runner.iterations > k,
            timeout=GUI_TIMEOUT_MS,
        )
        assert status.rate.text() == shown
    loaded.runner.toggle_run()  # going on measures afresh
    assert not status.rate.text().endswith("(paused)")
    loaded.runner.pause_run()
