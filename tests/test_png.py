"""PNG and image files in and out: exports re-read identically (8/16-bit, grey/colour) through
imagecodecs/Pillow, and unreadable files are reported in the project's words."""

from __future__ import annotations

import imagecodecs
import numpy as np
import pytest
import torch

from core.io import InputError, load_image, read_array, save_image

SHAPES = {"grey": (1, 1, 12, 17), "colour": (1, 3, 12, 17)}


def _picture(kind: str, seed: int = 0) -> torch.Tensor:
    gen = torch.Generator().manual_seed(seed)
    return torch.rand(SHAPES[kind], generator=gen)


@pytest.mark.parametrize("kind", ["grey", "colour"])
@pytest.mark.parametrize("bits", [8, 16])
def test_png_exports_read_back_identically(tmp_path, kind, bits):
    picture = _picture(kind)
    path = tmp_path / f"{kind}{bits}.png"
    save_image(path, picture, bits=bits)
    top = 2**bits - 1
    stored = np.round(picture[0].permute(1, 2, 0).numpy().clip(0, 1) * top)
    stored = stored[..., 0] if kind == "grey" else stored

    raw = path.read_bytes()  # a real PNG of that depth and colour type, per an independent decoder
    assert raw[:8] == b"\x89PNG\r\n\x1a\n"
    decoded = imagecodecs.png_decode(raw)
    assert decoded.dtype == (np.uint16 if bits == 16 else np.uint8)
    assert np.array_equal(decoded, stored.astype(decoded.dtype))

    assert np.array_equal(read_array(path), decoded)  # our reader: the same integers
    again = load_image(path)
    assert again.shape == picture.shape
    assert np.allclose(again.numpy(), np.moveaxis(np.atleast_3d(stored), -1, 0)[None] / top)
    save_image(tmp_path / "again.png", again, bits=bits)  # and a second round trip is exact
    assert np.array_equal(read_array(tmp_path / "again.png"), decoded)


def test_sixteen_bit_colour_keeps_its_precision(tmp_path):
    """A 16-bit colour PNG loads with its 16 bits (Pillow alone would give 8)."""
    ramp = np.linspace(0, 65535, 16 * 16 * 3).astype(np.uint16).reshape(16, 16, 3)
    path = tmp_path / "ramp.png"
    path.write_bytes(imagecodecs.png_encode(ramp))  # filtered by libpng, as other tools write
    loaded = load_image(path)
    assert loaded.shape == (1, 3, 16, 16)
    assert np.allclose(loaded[0].permute(1, 2, 0).numpy() * 65535, ramp, atol=1e-2)
    grey_alpha = np.dstack([ramp[..., 0], np.full((16, 16), 65535, np.uint16)])
    path.write_bytes(imagecodecs.png_encode(grey_alpha))
    assert load_image(path).shape == (1, 1, 16, 16)  # alpha dropped, 16 bits kept
    assert np.allclose(load_image(path)[0, 0].numpy() * 65535, ramp[..., 0], atol=1e-2)


def test_save_clips_and_writes_nan_as_zero(tmp_path):
    picture = torch.tensor([[-0.5, 0.25], [float("nan"), 2.0]]).repeat(4, 4)[None, None]
    save_image(tmp_path / "c.png", picture, bits=16)
    values = read_array(tmp_path / "c.png")
    assert values.dtype == np.uint16 and values.shape == (8, 8)
    assert set(np.unique(values)) == {0, 16384, 65535}


@pytest.mark.parametrize("name", ["broken.png", "broken.jpg", "broken.gif", "broken.bmp"])
def test_a_text_file_renamed_as_an_image_is_said_to_be_no_image(tmp_path, name):
    """B10: a text file called .png: one line in our words, not the reader library's."""
    path = tmp_path / name
    path.write_text("hello, I am a text file\n")
    with pytest.raises(InputError) as info:
        load_image(path)
    message = str(info.value)
    assert "\n" not in message and name in message
    assert "not an image or is damaged" in message
    assert "pillow" not in message.lower() and "uri" not in message


@pytest.mark.parametrize(
    "name, data",
    [
        ("cut.png", None),  # a real PNG cut short
        ("bad.tif", b"II*\x00 not really a tiff"),
        ("bad.npy", b"\x93NUMPY garbage"),
        ("bad.mat", b"MATLAB 5.0 MAT-file, but nothing else"),
    ],
)
def test_damaged_files_are_said_to_be_damaged(tmp_path, name, data):
    path = tmp_path / name
    if data is None:
        save_image(tmp_path / "good.png", _picture("grey"))
        data = (tmp_path / "good.png").read_bytes()[:60]
    path.write_bytes(data)
    with pytest.raises(InputError) as info:
        load_image(path)
    message = str(info.value)
    assert "\n" not in message and name in message and "damaged" in message


def test_compressed_tiffs_read(tmp_path):
    """LZW and deflate TIFFs (scanners, microscopes) read, through tifffile with imagecodecs."""
    import tifffile

    data = (np.arange(16 * 16, dtype=np.uint16) * 200).reshape(16, 16)
    for compression in ("lzw", "zlib"):
        tifffile.imwrite(tmp_path / f"{compression}.tif", data, compression=compression)
        assert np.array_equal(read_array(tmp_path / f"{compression}.tif"), data)


def test_matlab_v73_files_are_named_as_such(tmp_path):
    """scipy reads .mat up to v7; a v7.3 (HDF5) file gets its own message, not "damaged"."""
    header = b"MATLAB 7.3 MAT-file, Platform: GLNXA64".ljust(116, b" ") + bytes(8)
    path = tmp_path / "new.mat"
    path.write_bytes(header + b"\x00\x02IM" + bytes(512))  # version 0x0200, little-endian
    with pytest.raises(InputError, match="v7.3"):
        load_image(path)
