"""``fima study plot``: the heatmap's numbers, the PNG on disk, the 2C = μ line, and bad requests."""

from __future__ import annotations

import imageio.v3 as iio
import numpy as np
import pytest

from core.cli import main
from core.io import InputError
from core.study import SerialBackend, StudyStore, load_spec, run_study
from core.study.plot import acceptance_where, axis_values, heatmap_data, parse_where

from .test_study_run import write_spec


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    """A finished 2 images × 2 variants × C 2 × μ 3 study (serial, 2 iterations, module none)."""
    tmp_path = tmp_path_factory.mktemp("plot")
    grid = "C = [0.05, 0.2]\nmu = {log = [0.1, 1.0, 3]}"
    spec = write_spec(tmp_path, grid, iterations=2, fixed='module = "none"')
    run_study(load_spec(spec), tmp_path / "out", SerialBackend(), progress=False)
    return tmp_path / "out"


def crimson_pixels(path) -> int:
    """How many pixels are close to the line's crimson (viridis has no red)."""
    image = iio.imread(path)[..., :3].astype(int)
    target = np.array([220, 20, 60])
    return int((np.abs(image - target).sum(axis=-1) < 60).sum())


def test_heatmap_averages_the_other_axes_and_fixes_where(study):
    store = StudyStore.read(study)
    try:
        axes = axis_values(store)
        assert list(axes) == ["image", "variant", "C", "mu"]
        where = parse_where(["variant=fima", "image=img1.png"], axes)
        assert where["variant"] == "fima" and where["image"].endswith("img1.png")
        heat = heatmap_data(store, "mu", "C", "psnr", where)
        assert heat.values.shape == (2, 3) and (heat.counts == 1).all()
        rows = store.rows("variant = 'fima' AND image = ?", (where["image"],))
        for r in rows:
            i, j = heat.ys.index(r["C"]), heat.xs.index(r["mu"])
            assert heat.values[i, j] == pytest.approx(r["psnr"])
        mean = heatmap_data(store, "mu", "C", "psnr", {"variant": "pg"})
        assert (mean.counts == 2).all() and mean.averaged == ["image"]
        pg = store.rows("variant = 'pg' AND C = 0.05 AND mu = 0.1")
        assert mean.values[0, 0] == pytest.approx(np.mean([r["psnr"] for r in pg]))
    finally:
        store.close()


def test_the_png_is_written_with_its_size_and_the_guarantee_line(study, tmp_path):
    out = tmp_path / "heat.png"
    args = ["study", "plot", str(study), "--x", "C", "--y", "mu", "--metric", "accept_rate"]
    assert main([*args, "--out", str(out), "--where", "variant=fima"]) == 0
    image = iio.imread(out)
    assert image.shape[:2] == (640, 800)
    assert crimson_pixels(out) > 50  # the dashed 2C = μ line

    small = tmp_path / "small.png"
    other = ["study", "plot", str(study), "--x", "variant", "--y", "C", "--metric", "psnr"]
    assert main([*other, "--out", str(small), "--size", "640x480"]) == 0
    assert iio.imread(small).shape[:2] == (480, 640)
    assert crimson_pixels(small) == 0  # no line unless the axes are C and μ


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--x", "colour", "--y", "C", "--metric", "psnr"], "--x colour: no such axis"),
        (["--x", "C", "--y", "C", "--metric", "psnr"], "two different axes"),
        (["--x", "C", "--y", "mu", "--metric", "psnr", "--where", "mu=0.1"], "already"),
        (["--x", "C", "--y", "mu", "--metric", "psnr", "--where", "variant=best"], "not a value"),
        (["--x", "C", "--y", "mu", "--metric", "psnr", "--where", "variant"], "AXIS=VALUE"),
        (["--x", "C", "--y", "mu", "--metric", "speed"], "invalid choice"),
    ],
)
def test_bad_plot_requests_exit_2_with_one_line(study, tmp_path, capsys, extra, message):
    out = tmp_path / "x.png"
    try:
        status = main(["study", "plot", str(study), *extra, "--out", str(out)])
    except SystemExit as exc:  # argparse's own refusals
        status = exc.code
    assert status == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err
    assert not out.exists()


def test_plot_refuses_a_non_png_name(study, tmp_path, capsys):
    out = tmp_path / "heat.jpg"
    args = ["--x", "C", "--y", "mu", "--metric", "psnr", "--out", str(out)]
    assert main(["study", "plot", str(study), *args]) == 2
    assert ".png" in capsys.readouterr().err


def test_accept_rate_with_no_variant_chosen_is_fimas_not_an_average_with_pg(
    study, tmp_path, capsys
):
    """Issue 30: the README's own command averaged fima's rate with pg's (no proposals)."""
    store = StudyStore.read(study)
    try:
        heat = heatmap_data(store, "mu", "C", "accept_rate")
        fima = heatmap_data(store, "mu", "C", "accept_rate", {"variant": "fima"})
        by_variant = heatmap_data(store, "variant", "C", "accept_rate")
    finally:
        store.close()
    assert heat.where == {"variant": "fima"} and "variant" not in heat.averaged
    np.testing.assert_array_equal(heat.values, fima.values)
    assert by_variant.where == {} and by_variant.xs == ["fima", "pg"]  # variant an axis: as asked
    assert np.isnan(by_variant.values[:, 1]).all()  # pg: no rate
    out = tmp_path / "accept.png"
    args = ["study", "plot", str(study), "--x", "C", "--y", "mu", "--metric", "accept_rate"]
    capsys.readouterr()
    assert main([*args, "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "fima's cells only" in err and "averaging over variants" not in err
    assert out.stat().st_size > 0


def test_accept_rate_over_variants_without_fima_asks_for_one():
    axes = {"image": ["a.png"], "variant": ["unchecked", "pg"], "C": [0.1], "mu": [1.0]}
    with pytest.raises(InputError, match="--where variant=NAME"):
        acceptance_where(axes, "C", "mu", "accept_rate", {})
    assert acceptance_where(axes, "C", "mu", "accept_rate", {"variant": "pg"}) == {"variant": "pg"}
    assert acceptance_where(axes, "C", "mu", "psnr", {}) == {}
