"""What the image panels are given: the error map |x − truth| and finite float32 arrays."""

from __future__ import annotations

import numpy as np

from gui.views.image_arrays import displayable, error_map, to_8bit


def test_error_map_is_the_absolute_difference_averaged_over_colour():
    rng = np.random.default_rng(0)
    x, truth = rng.random((2, 6, 5, 3))
    before = x.copy(), truth.copy()
    gray = error_map(x[..., 0], truth[..., 0])
    assert gray.dtype == np.float32 and gray.flags.c_contiguous
    np.testing.assert_allclose(gray, np.abs(x[..., 0] - truth[..., 0]), atol=1e-7)
    colour = error_map(x.astype(np.float32), truth.astype(np.float32))
    assert colour.shape == (6, 5) and colour.flags.c_contiguous
    np.testing.assert_allclose(colour, np.abs(x - truth).mean(axis=-1), atol=1e-6)
    np.testing.assert_array_equal(x, before[0])  # the inputs are left as they were
    np.testing.assert_array_equal(truth, before[1])
    assert error_map(x, None) is None and error_map(x[:3], truth) is None


def test_displayable_is_finite_float32_and_leaves_finite_input_alone():
    finite = np.arange(6, dtype=np.float32).reshape(2, 3)
    assert displayable(finite) is finite  # already what an ImageItem wants: no copy
    bad = np.array([[np.nan, np.inf], [-np.inf, 0.5]])
    shown = displayable(bad)
    assert shown.dtype == np.float32 and np.isfinite(shown).all()
    assert shown[0, 0] == 0 and shown[1, 1] == 0.5 and shown[0, 1] > 1e5 > -1e5 > shown[1, 0]
    assert displayable(None) is None


def test_the_8bit_picture_is_what_pyqtgraph_draws_from_the_floats(qapp):
    import pyqtgraph as pg

    rng = np.random.default_rng(1)
    for arr, levels in (
        (rng.random((9, 7), dtype=np.float32) * 1.4 - 0.2, (0.0, 1.0)),  # some values outside
        (rng.random((9, 7, 3), dtype=np.float32), (0.0, 1.0)),  # colour
        (rng.random((9, 7), dtype=np.float32) * 0.3, (0.0, 0.2)),  # an error map's own levels
    ):
        drawn = []
        for data, item_levels in ((arr, levels), (to_8bit(arr, levels), (0, 255))):
            item = pg.ImageItem(axisOrder="row-major")
            item.setImage(data, autoLevels=False, levels=item_levels)
            item.render()
            drawn.append(pg.functions.ndarray_from_qimage(item.qimage).copy())
        np.testing.assert_array_equal(drawn[1], drawn[0])
    flat = to_8bit(np.full((2, 2), 0.5, np.float32), (1.0, 1.0))  # no range: all black
    assert flat.dtype == np.uint8 and not flat.any()
