"""Study specs: parsing, grid expansion, and every refusal naming its key before anything runs."""

from __future__ import annotations

import math

import imageio.v3 as iio
import numpy as np
import pytest

from core.cli import main
from core.io import InputError
from core.study.spec import SAMPLE_LABEL, load_spec, parse_spec

from .conftest import synthetic_image

EXAMPLE = """
task = "deblur"
images = ["photos/*.png"]
variants = ["fima", "pg"]
iterations = 100
[fixed]
kernel = "levin:4"
noise = 0.01
[grid]
C = {log = [0.01, 1.0, 6]}
mu = {log = [0.03, 3.0, 6]}
"""


@pytest.fixture()
def photos(tmp_path):
    """Three 32×32 PNGs in tmp_path/photos (and a text file the glob must skip)."""
    folder = tmp_path / "photos"
    folder.mkdir()
    for i in range(3):
        image = np.roll(synthetic_image(32), 3 * i, axis=1)
        iio.imwrite(folder / f"p{i}.png", np.round(image * 255).astype(np.uint8))
    (folder / "notes.txt").write_text("not an image")
    return folder


def spec_text(grid: str = "C = [0.1, 0.2]", fixed: str = "", top: str = "") -> str:
    """A small deblur spec on the photos fixture with the given tables."""
    return (
        'task = "deblur"\nimages = ["photos"]\niterations = 3\n'
        + top
        + "\n[fixed]\n"
        + fixed
        + "\n[grid]\n"
        + grid
        + "\n"
    )


def test_the_issue_example_expands_into_images_variants_and_grid(tmp_path, photos):
    spec = parse_spec(EXAMPLE, tmp_path, check=True)
    assert spec.task == "deblur" and spec.iterations == 100
    assert spec.variants == ("fima", "pg")
    assert [p.rsplit("/", 1)[-1] for p in spec.images] == ["p0.png", "p1.png", "p2.png"]
    assert spec.fixed == {"kernel": "levin:4", "noise": 0.01}
    (c_axis, mu_axis) = spec.axes
    assert c_axis.name == "C" and c_axis.scale == "log" and len(c_axis.values) == 6
    assert c_axis.values[0] == 0.01 and c_axis.values[-1] == 1.0
    ratios = np.diff(np.log(c_axis.values))
    assert np.allclose(ratios, ratios[0])
    assert mu_axis.values[0] == 0.03 and math.isclose(mu_axis.values[-1], 3.0)
    cells = spec.cells()
    assert len(cells) == 3 * 2 * 6 * 6
    assert [c.id for c in cells] == list(range(1, len(cells) + 1))
    keys = {(c.image, c.variant, c.values["C"], c.values["mu"]) for c in cells}
    assert len(keys) == len(cells)  # no cell twice
    first = cells[0]
    assert first.variant == "fima" and first.values == {"C": 0.01, "mu": 0.03}
    assert cells[1].values == {"C": 0.01, "mu": mu_axis.values[1]}  # the last axis runs fastest


def test_lin_lists_and_whole_numbers(tmp_path, photos):
    text = spec_text(
        'seed = {lin = [0, 4, 5]}\ngamma = {lin = [0.2, 0.8, 4]}\nmodule = ["tv", "none"]'
    )
    spec = parse_spec(text, tmp_path)
    seed, gamma, module = spec.axes
    assert seed.values == (0, 1, 2, 3, 4) and all(type(v) is int for v in seed.values)
    assert gamma.values == (0.2, 0.4, 0.6, 0.8)
    assert module.values == ("tv", "none") and module.scale == "list"
    assert len(spec.cells()) == 3 * 1 * 5 * 4 * 2


def test_a_job_maps_spec_keys_onto_build_options_and_parameters(tmp_path, photos):
    text = spec_text('C = [0.1]\nmodule = ["tv"]', fixed='preset = "paper"\nmu = 0.5\nnoise = 0.02')
    spec = parse_spec(text, tmp_path)
    job = spec.job(spec.cells()[0], threads=1)
    assert job["options"] == {"noise": 0.02, "module": "tv"}
    assert job["overrides"] == {"C": 0.1, "mu": 0.5}  # the preset, then the explicit values
    assert job["iterations"] == 3 and job["variant"] == "fima" and job["image"].endswith("p0.png")


def test_without_images_the_task_sample_is_used(tmp_path):
    spec = parse_spec('task = "denoise"\n[grid]\nC = [0.1]\n', tmp_path, check=True)
    assert spec.images == (SAMPLE_LABEL,)
    assert spec.job(spec.cells()[0])["image"] is None


BAD = [
    ('task = "deblur"\ncolour = 1\n[grid]\nC = [0.1]', "colour"),
    ('task = "nope"\n[grid]\nC = [0.1]', "task"),
    ('task = "deblur"\nimages = ["photos"]\n', "[grid]"),
    ('task = "deblur"\nimages = ["photos"]\n[grid]\n', "[grid] is empty"),
    (spec_text("C = []"), "[grid] C"),
    (spec_text("C = [0.1, 0.1]"), "[grid] C"),
    (spec_text("C = {log = [0, 1, 3]}"), "[grid] C"),
    (spec_text("C = {log = [0.1, 1]}"), "[grid] C"),
    (spec_text("C = {lin = [0.1, 1, 0]}"), "[grid] C"),
    (spec_text("C = {geom = [0.1, 1, 3]}"), "[grid] C"),
    (spec_text("C = {lin = [0.1, 1, 3], log = [0.1, 1, 3]}"), "[grid] C"),
    (spec_text("C = 0.1"), "[grid] C"),
    (spec_text("colour = [1, 2]"), "[grid] colour"),
    (spec_text(fixed="colour = 1"), "[fixed] colour"),
    (spec_text(fixed="C = 0.2"), "C is both"),
    (spec_text(fixed="kernel = [1, 2]"), "[fixed] kernel"),
    (spec_text(top='variants = ["fima", "best"]'), "variants"),
    (spec_text(top="variants = []"), "variants"),
    (spec_text(top="iterations = 0").replace("iterations = 3\n", ""), "iterations"),
    ('task = "deblur"\nimages = ["nowhere/*.png"]\n[grid]\nC = [0.1]', "images"),
    ('task = "deblur"\nimages = ["missing.png"]\n[grid]\nC = [0.1]', "images"),
    ("task = ", "TOML"),
]


@pytest.mark.parametrize("text, key", BAD)
def test_a_bad_spec_is_refused_naming_the_key(tmp_path, photos, text, key):
    with pytest.raises(InputError) as info:
        parse_spec(text, tmp_path, check=False)
    assert key in str(info.value)
    assert "\n" not in str(info.value)


BAD_VALUES = [
    (spec_text("C = [0.1, -0.2]"), "[grid] C = -0.2"),
    (spec_text("mu = [0.1, 1e9]"), "[grid] mu = 1000000000.0"),
    (spec_text("gamma = ['fast']"), "[grid] gamma = 'fast'"),
    (spec_text(fixed="preset = 'best'"), "[fixed] preset"),
    (spec_text('kernel = ["gauss:1", "levin:99"]'), "[grid] kernel = 'levin:99'"),
    (spec_text(fixed='kernel = "gauss:-1"'), "[fixed] kernel"),
    (spec_text("noise = [0.01, 2.0]"), "[grid] noise = 2.0"),
    (spec_text('module = ["tv", "transformer"]'), "[grid] module = 'transformer'"),
    (spec_text('module = ["tv", "missing.pt"]'), "[grid] module = 'missing.pt'"),
    (spec_text('prior = ["tv", "wavelet:p=x"]'), "[grid] prior = 'wavelet:p=x'"),
    (spec_text("downscale = [1, 8]"), "[grid] downscale = 8"),
    (spec_text(fixed='device = "tpu"'), "[fixed] device"),
]


@pytest.mark.parametrize("text, key", BAD_VALUES)
def test_a_value_the_run_would_refuse_is_refused_before_it_runs(tmp_path, photos, text, key):
    with pytest.raises(InputError) as info:
        parse_spec(text, tmp_path, check=True)
    assert key in str(info.value), str(info.value)


def test_an_unreadable_image_is_refused(tmp_path, photos):
    (photos / "broken.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(InputError, match="images"):
        parse_spec(spec_text(), tmp_path, check=True)


def test_a_corrupt_module_file_passes_validation_and_fails_in_its_cell(tmp_path, photos):
    (tmp_path / "broken.pt").write_bytes(b"not TorchScript")
    spec = parse_spec(spec_text('module = ["tv", "broken.pt"]'), tmp_path, check=True)
    job = spec.job(spec.cells()[1])
    assert job["options"]["module"] == str(tmp_path / "broken.pt")


def test_cli_bad_spec_exits_2_with_one_line_and_runs_nothing(tmp_path, photos, capsys):
    spec = tmp_path / "study.toml"
    spec.write_text(spec_text("C = [0.1, -1.0]"))
    out = tmp_path / "out"
    assert main(["study", "run", str(spec), "--out", str(out)]) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "[grid] C = -1.0" in err
    assert not (out / "study.db").exists()


def test_cli_missing_spec_and_missing_study(tmp_path, capsys):
    assert main(["study", "run", str(tmp_path / "none.toml"), "--out", str(tmp_path)]) == 2
    assert main(["study", "show", str(tmp_path / "nothing")]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert len(lines) == 2 and "not found" in lines[0] and "no study" in lines[1]


def test_load_spec_resolves_paths_beside_the_spec(tmp_path, photos, monkeypatch):
    (tmp_path / "study.toml").write_text(spec_text())
    monkeypatch.chdir(photos)  # the spec's folder counts, not the working directory
    spec = load_spec(tmp_path / "study.toml")
    assert len(spec.images) == 3 and spec.source.startswith('task = "deblur"')


def test_the_proposal_policy_is_a_fixed_key_or_an_axis(tmp_path, photos):
    spec = parse_spec(spec_text('propose = ["always", "adaptive"]'), tmp_path, check=True)
    jobs = [spec.job(cell) for cell in spec.cells()]
    assert {job["propose"] for job in jobs} == {"always", "adaptive"}
    assert all("propose" not in job["options"] for job in jobs)
    fixed = parse_spec(spec_text(fixed='propose = "always"'), tmp_path, check=True)
    assert fixed.job(fixed.cells()[0])["propose"] == "always"
    default = parse_spec(spec_text(), tmp_path)
    assert default.job(default.cells()[0])["propose"] == "adaptive"
    with pytest.raises(InputError, match="propose.*proposal policy"):
        parse_spec(spec_text(fixed='propose = "often"'), tmp_path, check=True)
