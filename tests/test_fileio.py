"""Atomic writes: an interrupted or failed write leaves the earlier file intact and no debris."""

import errno
import os

import numpy as np
import pytest
import torch

from core.fileio import WriteError, atomic_write, atomic_write_text
from core.io import save_image
from core.params import Parameters
from core.session import Session, save_session


def test_interrupted_write_keeps_the_old_file_and_leaves_no_partial(tmp_path):
    target = tmp_path / "trace.csv"
    target.write_text("old contents")

    def half_then_crash(tmp):
        tmp.write_text("half of the new")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        atomic_write(target, half_then_crash)
    assert target.read_text() == "old contents"
    assert [p.name for p in tmp_path.iterdir()] == ["trace.csv"]


def test_full_disk_gives_a_clear_error_and_keeps_earlier_files(tmp_path, monkeypatch):
    target = tmp_path / "result.png"
    save_image(target, torch.zeros(1, 1, 8, 8))
    before = target.read_bytes()

    def no_space(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "replace", no_space)
    with pytest.raises(WriteError, match="No space left"):
        save_image(target, torch.ones(1, 1, 8, 8))
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["result.png"]


@pytest.mark.skipif(os.geteuid() == 0, reason="root ignores folder permissions")
def test_read_only_folder_gives_a_clear_error(tmp_path):
    folder = tmp_path / "ro"
    folder.mkdir()
    (folder / "session.toml").write_text("old")
    folder.chmod(0o500)
    try:
        with pytest.raises(WriteError, match="cannot write"):
            save_session(folder / "session.toml", Session({"task": "deblur"}, Parameters()))
        assert (folder / "session.toml").read_text() == "old"
    finally:
        folder.chmod(0o700)


def test_a_file_in_place_of_the_folder_gives_a_clear_error(tmp_path):
    blocker = tmp_path / "out"
    blocker.write_text("I am a file")
    with pytest.raises(WriteError, match="cannot write"):
        atomic_write_text(blocker / "trace.csv", "x")


def test_npy_and_tiff_round_trip(tmp_path):
    import tifffile

    x = torch.rand(1, 1, 9, 7)
    save_image(tmp_path / "r.npy", x)
    save_image(tmp_path / "r.tif", x)
    assert np.array_equal(np.load(tmp_path / "r.npy"), x[0, 0].numpy())
    assert np.array_equal(tifffile.imread(tmp_path / "r.tif"), x[0, 0].numpy())


def test_permission_denied_gives_a_clear_error_even_as_root(tmp_path, monkeypatch):
    import tempfile

    (tmp_path / "session.toml").write_text("old")

    def denied(*args, **kwargs):
        raise PermissionError(errno.EACCES, "Permission denied")

    monkeypatch.setattr(tempfile, "mkstemp", denied)
    with pytest.raises(WriteError, match="Permission denied"):
        save_session(tmp_path / "session.toml", Session({"task": "deblur"}, Parameters()))
    assert (tmp_path / "session.toml").read_text() == "old"


def test_written_files_get_ordinary_permissions(tmp_path):
    import stat

    atomic_write_text(tmp_path / "a.txt", "x")
    mask = os.umask(0)
    os.umask(mask)
    assert stat.S_IMODE((tmp_path / "a.txt").stat().st_mode) == 0o666 & ~mask
