"""Export: every file written and read back; atomic writes (interrupted, full disk, read-only
folder) that leave earlier files intact; the Export dialog's choices."""

from __future__ import annotations

import errno
import json
import math
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import tifffile
from PySide6.QtGui import QImage

from core.movie import mp4_available
from core.session import load_session
from core.trace import COLUMNS, read_trace_csv
from gui.export import ALL_ITEMS, ExportOptions
from tests.conftest import run_to_limit

ITERATIONS = 5


def _same(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    return a == b


def _partials(folder: Path) -> list[str]:
    return [p.name for p in folder.iterdir() if ".part" in p.name]


@pytest.fixture
def ran(qtbot, loaded):
    """The loaded window after a 5-iteration run of fima and pg."""
    run_to_limit(qtbot, loaded, ITERATIONS)
    return loaded


def test_export_writes_every_file_and_each_reads_back(ran, tmp_path):
    window = ran
    out = tmp_path / "export"
    options = ExportOptions(plot_width=900, movie_frames=4)
    assert window.files.export_to(out, options), window.last_error
    names = {p.name for p in out.iterdir()}
    expected = {
        "trace.csv",
        "trace.json",
        "result.png",
        "result_16bit.png",
        "result.tif",
        "result.npy",
        "observation.png",
        "ground_truth.png",
        "error_map.png",
        "error_map.npy",
        "d_map.png",
        "d_map.npy",
        "plots.png",
        "iterates.gif",
        "session.toml",
    } | ({"iterates.mp4"} if mp4_available() else set())
    assert names == expected
    rows = window.runner.history.all_rows(["fima", "pg"])
    read = read_trace_csv(out / "trace.csv")
    assert len(read) == len(rows) == 2 * ITERATIONS
    for mine, back in zip(rows, read, strict=True):
        assert all(_same(mine[c], back[c]) for c in COLUMNS), mine["k"]
    data = json.loads((out / "trace.json").read_text())
    assert [(r["variant"], r["k"]) for r in data] == [(r["variant"], r["k"]) for r in rows]
    result = window.files.result_image()
    np.testing.assert_array_equal(np.load(out / "result.npy"), result)
    np.testing.assert_array_equal(tifffile.imread(out / "result.tif"), result)
    png8, png16 = iio.imread(out / "result.png"), iio.imread(out / "result_16bit.png")
    assert png8.shape == png16.shape == result.shape
    assert png8.dtype == np.uint8 and png16.dtype == np.uint16
    assert np.abs(png16 / 65535 - result.clip(0, 1)).max() < 1e-4
    for name in ("observation.png", "ground_truth.png", "error_map.png"):
        assert iio.imread(out / name).shape == result.shape, name
    error = np.load(out / "error_map.npy")
    truth = window.images.image("truth")
    np.testing.assert_allclose(error, np.abs(result - truth), atol=1e-7)
    plots = QImage(str(out / "plots.png"))
    assert plots.width() == 900 and plots.height() > 100
    frames = iio.imread(out / "iterates.gif", index=None)
    assert frames.shape == (4, *result.shape, 3)  # x⁰ … x⁵ spread over 4 frames
    session = load_session(out / "session.toml")
    assert session.iterations == ITERATIONS and session.variants == ["fima", "pg"]
    assert not _partials(out)


def test_export_only_the_chosen_items(ran, tmp_path):
    out = tmp_path / "some"
    assert ran.files.export_to(out, ExportOptions(items={"trace_csv", "movie"}, movie_frames=50))
    assert {p.name for p in out.iterdir()} >= {"trace.csv", "iterates.gif"}
    assert not (out / "result.png").exists()
    assert iio.imread(out / "iterates.gif", index=None).shape[0] == ITERATIONS + 1


def test_an_interrupted_export_leaves_no_partial_file(ran, tmp_path, monkeypatch):
    window = ran
    out = tmp_path / "export"
    assert window.files.export_to(out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    original = iio.imwrite

    def dies_half_way(uri, image, *args, **kwargs):
        if str(kwargs.get("extension", "")).endswith("gif"):
            Path(uri).write_bytes(b"GIF89a half a movie")
            raise KeyboardInterrupt  # the user pressed Ctrl+C in the middle of writing
        return original(uri, image, *args, **kwargs)

    monkeypatch.setattr(iio, "imwrite", dies_half_way)
    with pytest.raises(KeyboardInterrupt):
        window.files.export_to(out)
    assert (out / "iterates.gif").read_bytes() == before["iterates.gif"]  # the old one, whole
    assert not _partials(out)
    assert iio.imread(out / "iterates.gif", index=None).shape[0] >= 2


def test_a_full_disk_gives_a_message_and_keeps_earlier_files(ran, tmp_path, monkeypatch, dialogs):
    window = ran
    out = tmp_path / "export"
    assert window.files.export_to(out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    original = tifffile.imwrite

    def disk_full(path, data, *args, **kwargs):
        Path(path).write_bytes(b"II*\x00 partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tifffile, "imwrite", disk_full)
    assert not window.files.export_to(out)
    assert "No space left on device" in window.last_error and "result.tif" in window.last_error
    assert dialogs == [window.last_error]
    monkeypatch.setattr(tifffile, "imwrite", original)
    assert (out / "result.tif").read_bytes() == before["result.tif"]
    assert not _partials(out)


def test_a_folder_that_cannot_be_written_gives_a_clear_message(ran, tmp_path, dialogs):
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    assert not ran.files.export_to(blocker / "out")
    assert ran.last_error.startswith("Export failed: cannot create the folder")
    assert "\n" not in ran.last_error and dialogs == [ran.last_error]


def test_a_read_only_folder_gives_a_clear_message(ran, tmp_path, monkeypatch):
    import tempfile

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    assert not ran.files.export_to(tmp_path / "ro")
    assert "Permission denied" in ran.last_error and "cannot write in" in ran.last_error


def test_session_save_is_atomic_on_failure(ran, tmp_path, monkeypatch):
    import os

    path = tmp_path / "s.toml"
    assert ran.files.save_session_file(path)
    before = path.read_bytes()

    def no_space(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", no_space)
    ran.parameter_panel.spin("C").setValue(0.2)
    assert not ran.files.save_session_file(path)
    assert "No space left on device" in ran.last_error
    assert path.read_bytes() == before
    assert not _partials(tmp_path)


def test_export_dialog_choices_are_remembered(loaded, tmp_path):
    from gui.dialogs.export_dialog import ExportDialog

    dialog = ExportDialog(str(tmp_path), loaded)
    assert dialog.options().items == set(ALL_ITEMS)
    dialog.boxes["movie"].setChecked(False)
    dialog.width_spin.setValue(777)
    dialog.remember()
    again = ExportDialog(str(tmp_path), loaded)
    options = again.options()
    assert "movie" not in options.items and options.plot_width == 777
    assert again.folder() == str(tmp_path)
    again.boxes["movie"].setChecked(True)
    again.remember()


def test_file_export_menu(ran, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QDialog

    from gui.dialogs.export_dialog import ExportDialog

    def accept(dialog):
        dialog.folder_edit.setText(str(tmp_path / "menu"))
        for item in ("plots", "movie", "error_map"):
            dialog.boxes[item].setChecked(False)
        return QDialog.DialogCode.Accepted

    monkeypatch.setattr(ExportDialog, "exec", accept)
    assert ran.actions.export_run.shortcut().toString() == "Ctrl+E"
    ran.actions.export_run.trigger()
    names = {p.name for p in (tmp_path / "menu").iterdir()}
    assert "trace.csv" in names and "result.tif" in names and "plots.png" not in names
