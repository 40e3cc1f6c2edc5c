"""Fuzzing the loaders: arbitrary bytes either load or raise InputError — never anything else."""

import numpy as np
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from core.io import InputError, load_image, load_kernel, save_image
from core.session import parse_session

FUZZ = settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


def _valid_png_bytes(tmp_path) -> bytes:
    path = tmp_path / "seed.png"
    save_image(path, torch.rand(1, 1, 16, 16, generator=torch.Generator().manual_seed(0)))
    return path.read_bytes()


@FUZZ
@given(
    data=st.binary(max_size=2048),
    suffix=st.sampled_from([".png", ".jpg", ".tif", ".npy", ".mat", ".bmp"]),
)
def test_random_bytes_never_crash_the_image_loader(tmp_path, data, suffix):
    path = tmp_path / f"f{suffix}"
    path.write_bytes(data)
    try:
        x = load_image(path)
    except InputError as exc:
        assert str(exc) and "\n" not in str(exc)
    else:
        assert x.ndim == 4 and torch.isfinite(x).all()


@FUZZ
@given(cut=st.integers(min_value=0, max_value=400), flips=st.lists(st.integers(0, 399), max_size=8))
def test_damaged_pngs_never_crash(tmp_path, cut, flips):
    data = bytearray(_valid_png_bytes(tmp_path))
    for i in flips:
        if i < len(data):
            data[i] ^= 0xFF
    path = tmp_path / "d.png"
    path.write_bytes(bytes(data[: max(cut, 1)] if cut < len(data) else data))
    try:
        load_image(path)
    except InputError:
        pass


@FUZZ
@given(
    arr=st.lists(st.floats(allow_nan=True, allow_infinity=True, width=32), min_size=1, max_size=64)
)
def test_random_kernels_are_validated(tmp_path, arr):
    n = int(np.sqrt(len(arr)))
    k = np.array(arr[: n * n] or arr[:1], dtype=np.float64).reshape(max(n, 1), -1)
    np.save(tmp_path / "k.npy", k)
    try:
        out = load_kernel(tmp_path / "k.npy")
    except InputError:
        return
    assert np.isfinite(out).all() and (out >= 0).all() and abs(out.sum() - 1) < 1e-9


@FUZZ
@given(text=st.text(max_size=400))
def test_random_session_text_never_crashes(text):
    try:
        parse_session(text)
    except InputError as exc:
        assert str(exc)


@FUZZ
@given(
    params=st.dictionaries(
        st.sampled_from(["C", "mu", "gamma", "lam", "rho", "sigma_steps", "zeta"]),
        st.one_of(st.floats(), st.integers(-5, 5), st.text(max_size=3), st.booleans()),
        max_size=4,
    )
)
def test_structured_session_fuzz(params):
    import tomli_w

    try:
        text = tomli_w.dumps(
            {"format_version": 1, "task": {"task": "deblur"}, "parameters": params}
        )
    except Exception:
        return
    try:
        session = parse_session(text)
    except InputError:
        return
    assert session.parameters.C > 0 and session.parameters.mu > 0
