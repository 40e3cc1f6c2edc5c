"""Settings remembered across launches: window layout, last folder, colormap, memory budget."""

from __future__ import annotations

from PySide6.QtWidgets import QDialog

from gui import settings
from gui.main_window import MainWindow


def test_settings_survive_a_restart(qtbot, tmp_path):
    first = MainWindow()
    qtbot.addWidget(first)
    first.images.set_colormap("viridis")
    first.set_history_budget_mb(64)
    settings.remember_folder(tmp_path / "some_file.png")
    first.certificate_dock.setVisible(False)
    first.views_splitter.setSizes([300, 500])
    sizes = first.views_splitter.sizes()
    first.close()

    second = MainWindow()
    qtbot.addWidget(second)
    assert second.images.colormap_combo.currentText() == "viridis"
    assert settings.budget_mb() == 64 and second.scrubber.budget_bytes == 64 * 2**20
    assert settings.last_folder() == str(tmp_path.resolve())
    assert second.certificate_dock.isHidden()
    assert second.views_splitter.sizes() == sizes
    second.close()


def test_preferences_dialog_sets_the_budget(loaded, monkeypatch):
    from gui.dialogs.preferences import PreferencesDialog

    def accept(dialog):
        assert dialog.budget_mb() == settings.DEFAULT_BUDGET_MB
        dialog.budget_spin.setValue(128)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(PreferencesDialog, "exec", accept)
    loaded.actions.preferences.trigger()
    assert settings.budget_mb() == 128
    assert loaded.scrubber.iterates.budget_bytes == 128 * 2**20


def test_corrupted_settings_fall_back_to_defaults(qapp):
    from PySide6.QtCore import QSettings

    QSettings().setValue(settings.BUDGET_KEY, "lots")
    QSettings().setValue(settings.LAST_FOLDER_KEY, "/no/such/folder")
    assert settings.budget_mb() == settings.DEFAULT_BUDGET_MB
    assert settings.last_folder() != "/no/such/folder"
