"""``fima run --save-maps [N]``: the optimality-error maps on disk, their norms the trace's residuals."""

import math

import numpy as np
import pytest
import torch

from core.cli import main
from core.io import load_image, save_image
from core.outputs import MapSaver, write_d_map
from core.trace import read_trace_csv

from .helpers import cartoon


@pytest.fixture()
def image(tmp_path):
    path = tmp_path / "img.png"
    save_image(path, cartoon(48))
    return path


def run_args(image, out, *extra) -> list[str]:
    return ["run", "--task", "deblur", "--image", str(image), "--kernel", "gauss:1.2",
            "--noise", "0.01", "--module", "tv", "--variant", "fima", "--iters", "7",
            "--propose", "always", "--out", str(out), *extra]  # fmt: skip


def saved_maps(out) -> dict[int, np.ndarray]:
    """k → map, from ``maps/d_fima_<k>.npy``."""
    return {int(p.stem.rsplit("_", 1)[1]): np.load(p) for p in (out / "maps").glob("d_fima_*.npy")}


def test_save_maps_every_n_writes_maps_whose_norms_are_the_trace(tmp_path, image):
    out = tmp_path / "out"
    assert main(run_args(image, out, "--save-maps", "3")) == 0
    rows = read_trace_csv(out / "trace.csv")
    maps = saved_maps(out)
    assert sorted(maps) == [0, 3, 6]  # every 3rd; the last (k = 6) is one of them
    for k, d_map in maps.items():
        assert d_map.shape == (48, 48) and d_map.dtype == np.float32
        norm = float(np.linalg.norm(d_map.astype(np.float64)))
        assert norm == pytest.approx(rows[k]["residual"], rel=1e-5)
        png = load_image(out / "maps" / f"d_fima_{k:04d}.png")
        assert png.shape == (1, 1, 48, 48) and float(png.max()) == pytest.approx(1.0)
    assert (out / "result.npy").is_file()  # the usual files are still written


def test_save_maps_alone_writes_the_last_map_made(tmp_path, image):
    out = tmp_path / "out"
    assert main(run_args(image, out, "--save-maps")) == 0
    rows = read_trace_csv(out / "trace.csv")
    maps = saved_maps(out)
    assert list(maps) == [6]
    assert float(np.linalg.norm(maps[6])) == pytest.approx(rows[6]["residual"], rel=1e-5)
    plain = tmp_path / "plain"
    assert main(run_args(image, plain)) == 0
    assert not (plain / "maps").exists()


def test_a_skipped_proposal_leaves_the_last_map_made(tmp_path):
    saver = MapSaver(tmp_path, every=0)
    first = np.full((4, 5), 0.5, np.float32)
    saver.offer("fima", 0, torch.from_numpy(first))
    saver.offer("fima", 1, None)  # skipped: no map
    saver.offer("pg", 0, None)
    saver.finish("fima")
    saver.finish("pg")
    assert [p.name for p in saver.written] == ["d_fima_0000.npy", "d_fima_0000.png"]
    assert np.array_equal(np.load(tmp_path / "maps" / "d_fima_0000.npy"), first)


def test_d_map_png_is_scaled_and_a_zero_map_is_black(tmp_path):
    arr = np.zeros((8, 8), np.float32)
    arr[0, :3] = (0.1, 0.2, 0.4)
    write_d_map(tmp_path / "a", arr, scale=0.2)
    png = load_image(tmp_path / "a.png")[0, 0].numpy()
    assert png[0, 0] == pytest.approx(0.5, abs=1 / 255) and png[0, 1] == png[0, 2] == 1.0
    write_d_map(tmp_path / "zero", np.zeros((8, 8), np.float32))
    assert float(load_image(tmp_path / "zero.png").max()) == 0.0
    assert not math.isnan(float(np.load(tmp_path / "zero.npy").sum()))


def test_save_maps_takes_a_positive_n(tmp_path, image, capsys):
    with pytest.raises(SystemExit) as exit_status:
        main(run_args(image, tmp_path / "o", "--save-maps", "0"))
    assert exit_status.value.code == 2
    assert capsys.readouterr().err.strip().endswith("expected a positive number, got 0")
