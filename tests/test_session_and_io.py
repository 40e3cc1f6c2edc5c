"""Sessions round-trip and refuse bad files; images and kernels load or fail with one clear line."""

import numpy as np
import pytest
import torch

from core.io import InputError, load_image, load_kernel, save_image
from core.params import Parameters
from core.session import Session, load_session, parse_session, save_session


def _session(image=None):
    task = {"task": "deblur", "kernel": "levin:4", "noise": 0.01, "seed": 3, "module": "tv"}
    if image:
        task["image"] = str(image)
    return Session(task, Parameters(C=0.3), {4: {"C": 0.2}, 9: {"mu": 2.0}}, ["fima", "pg"], 20)


def test_session_round_trip(tmp_path):
    path = tmp_path / "s.toml"
    save_session(path, _session())
    s = load_session(path)
    assert s.parameters == Parameters(C=0.3)
    assert s.changes == {4: {"C": 0.2}, 9: {"mu": 2.0}}
    assert s.variants == ["fima", "pg"] and s.iterations == 20
    assert s.build_options() == {"kernel": "levin:4", "noise": 0.01, "seed": 3, "module": "tv"}


def test_session_refuses_a_changed_or_moved_image(tmp_path):
    img = tmp_path / "a.png"
    save_image(img, torch.rand(1, 1, 16, 16))
    path = tmp_path / "s.toml"
    save_session(path, _session(img))
    assert load_session(path).task["image"] == str(img)
    save_image(img, torch.rand(1, 1, 16, 16))
    with pytest.raises(InputError, match="has changed"):
        load_session(path)
    img.unlink()
    with pytest.raises(InputError, match="moved or is gone"):
        load_session(path)


@pytest.mark.parametrize(
    "text, match",
    [
        ("not toml [[[", "not valid TOML"),
        ("format_version = 99\n[task]\ntask='deblur'", "newer FIMA Explorer"),
        ("format_version = 1\n", "missing \\[task\\]"),
        ("format_version = 1\n[task]\ntask='deblur'\n[parameters]\nC = -1.0", "positive"),
        ("format_version = 1\n[task]\ntask='deblur'\n[parameters]\nC = nan", "finite"),
        ("format_version = 1\n[task]\ntask='deblur'\n[parameters]\nzeta = 1.0", "unknown"),
        ("format_version = 1\n[task]\ntask='deblur'\n[[changes]]\nk=-1\nC=0.1", "k ≥ 0"),
        ("format_version = 1\n[task]\ntask='deblur'\n[[changes]]\nk=2\nmu=0.0", "bad parameter"),
    ],
)
def test_malformed_sessions_are_refused(text, match):
    with pytest.raises(InputError, match=match):
        parse_session(text)


def test_image_formats(tmp_path):
    import imageio.v3 as iio
    import tifffile

    rgba = (np.random.default_rng(0).random((20, 30, 4)) * 255).astype(np.uint8)
    iio.imwrite(tmp_path / "rgba.png", rgba)
    assert load_image(tmp_path / "rgba.png").shape == (1, 3, 20, 30)
    assert load_image(tmp_path / "rgba.png", grayscale=True).shape == (1, 1, 20, 30)
    sixteen = (np.arange(400).reshape(20, 20) * 100).astype(np.uint16)
    iio.imwrite(tmp_path / "s16.png", sixteen)
    x = load_image(tmp_path / "s16.png")
    assert float(x.max()) == pytest.approx(39900 / 65535, rel=1e-6)
    tifffile.imwrite(tmp_path / "f.tif", np.full((12, 12), 0.25, np.float32))
    assert float(load_image(tmp_path / "f.tif").mean()) == pytest.approx(0.25)
    la = np.dstack([np.full((10, 10), 128, np.uint8), np.full((10, 10), 255, np.uint8)])
    iio.imwrite(tmp_path / "la.png", la)
    assert load_image(tmp_path / "la.png").shape == (1, 1, 10, 10)


@pytest.mark.parametrize(
    "make, match",
    [
        (lambda p: p.write_bytes(b""), "is empty"),
        (lambda p: p.write_text("hello, not a picture"), "cannot read"),
        (lambda p: None, "not found"),
    ],
)
def test_bad_image_files(tmp_path, make, match):
    path = tmp_path / "bad.png"
    make(path)
    with pytest.raises(InputError, match=match):
        load_image(path)


def test_truncated_png_and_nan_npy(tmp_path):
    good = tmp_path / "g.png"
    save_image(good, torch.rand(1, 1, 64, 64))
    trunc = tmp_path / "t.png"
    trunc.write_bytes(good.read_bytes()[:200])
    with pytest.raises(InputError):
        load_image(trunc)
    arr = np.ones((16, 16), np.float32)
    arr[3, 3] = np.nan
    np.save(tmp_path / "n.npy", arr)
    with pytest.raises(InputError, match="NaN"):
        load_image(tmp_path / "n.npy")
    with pytest.raises(InputError, match="at least 8×8"):
        np.save(tmp_path / "tiny.npy", np.ones((1, 1), np.float32))
        load_image(tmp_path / "tiny.npy")


def test_kernels(tmp_path):
    k = load_kernel("levin:4")
    assert k.sum() == pytest.approx(1.0) and k.shape[0] % 2 == 1
    g = load_kernel("gauss:1.5")
    assert g.shape == (11, 11) and g.sum() == pytest.approx(1.0)
    np.save(tmp_path / "even.npy", np.ones((4, 4)))
    assert load_kernel(tmp_path / "even.npy").shape == (5, 5)
    np.save(tmp_path / "neg.npy", np.array([[1.0, -0.5], [0.2, 0.3]]))
    with pytest.raises(InputError, match="negative"):
        load_kernel(tmp_path / "neg.npy")
    np.save(tmp_path / "zero.npy", np.zeros((3, 3)))
    with pytest.raises(InputError, match="sums to zero"):
        load_kernel(tmp_path / "zero.npy")
    with pytest.raises(InputError, match="larger than the image"):
        load_kernel("gauss:5", max_size=(16, 16))
    for spec in ("levin:9", "gauss:abc", "gauss:-1"):
        with pytest.raises(InputError):
            load_kernel(spec)


def test_colour_16bit_png_is_written_and_reads_back(tmp_path):
    """Pillow has no 16-bit RGB writer; save_image writes one (imagecodecs) and it loads again."""
    import imagecodecs

    picture = torch.rand(1, 3, 12, 17)
    path = tmp_path / "c16.png"
    save_image(path, picture, bits=16)
    values = imagecodecs.png_decode(path.read_bytes())  # an independent decoder
    assert values.shape == (12, 17, 3) and values.dtype == np.uint16  # RGB, 16 bits a channel
    assert np.abs(values / 65535 - picture[0].permute(1, 2, 0).numpy()).max() < 1e-4
    again = load_image(path)
    assert again.shape == (1, 3, 12, 17)
    assert float((again - picture).abs().max()) < 1e-4  # all 16 bits come back
