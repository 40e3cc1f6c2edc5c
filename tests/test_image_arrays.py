"""What the image panels are given: the error map |x − truth| and finite float32 arrays."""

from __future__ import annotations

import numpy as np

from gui.views.image_arrays import EIGHT_BIT_MIN_PIXELS, ItemData, displayable, error_map, to_8bit


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
        (rng.random((9, 7), dtype=np.float32), (0.2, 0.9)),  # levels that do not start at 0
    ):
        for colormap in (None, "viridis") if arr.ndim == 2 else (None,):
            drawn = []
            picture = to_8bit(arr, levels, lut=colormap is not None)
            for data, item_levels in ((arr, levels), (picture, None)):
                item = pg.ImageItem(axisOrder="row-major")
                item.setImage(data, autoLevels=False, levels=item_levels)
                if colormap is not None:
                    item.setColorMap(pg.colormap.get(colormap))
                item.render()
                drawn.append(pg.functions.ndarray_from_qimage(item.qimage).copy())
            np.testing.assert_array_equal(drawn[1], drawn[0])
    flat = to_8bit(np.full((2, 2), 0.5, np.float32), (1.0, 1.0))  # no range: all black
    assert flat.dtype == np.uint8 and not flat.any()


def test_large_images_reach_their_items_as_8bit_pictures_small_ones_as_they_are():
    item_data = ItemData()
    small = np.full((8, 8), 0.25, np.float32)
    assert item_data(small, (0.0, 1.0), step=4) == (small, (0.0, 1.0), 1)  # never sampled
    assert item_data.scratch_bytes() == 0
    side = int(np.sqrt(EIGHT_BIT_MIN_PIXELS))
    large = np.random.default_rng(2).random((side, side), dtype=np.float32)
    data, levels, step = item_data(large, (0.0, 0.5))
    assert levels is None and step == 1 and data.dtype == np.uint8
    np.testing.assert_array_equal(data, to_8bit(large, (0.0, 0.5)))
    again, _, _ = item_data(large * 0.5, (0.0, 1.0))  # the next picture: one of its own
    assert again.max() <= 128
    np.testing.assert_array_equal(data, to_8bit(large, (0.0, 0.5)))  # the last one untouched
    assert item_data.scratch_bytes() == large.nbytes  # one buffer for the shape
    for extra in (3, 4):  # a colour image, then another problem: at most two shapes kept
        shaped = np.zeros((side, side + extra, 3), np.float32)
        assert item_data(shaped, (0.0, 1.0))[0].shape == shaped.shape
    assert item_data.scratch_bytes() == (side * (side + 3) + side * (side + 4)) * 3 * 4


def test_a_zoomed_out_large_image_is_made_from_every_step_th_pixel():
    item_data = ItemData()
    side = int(np.sqrt(EIGHT_BIT_MIN_PIXELS)) + 5  # not a multiple of the step
    gray = np.random.default_rng(3).random((side, side + 2), dtype=np.float32)
    data, levels, step = item_data(gray, (0.0, 1.0), lut=True, step=3)
    assert step == 3 and levels is None and data.shape == (-(-side // 3), -(-(side + 2) // 3))
    np.testing.assert_array_equal(data, to_8bit(gray[::3, ::3], (0.0, 1.0), lut=True))
    colour = np.random.default_rng(4).random((side, side, 3), dtype=np.float32)
    data, _, _ = item_data(colour, (0.0, 1.0), step=2)
    np.testing.assert_array_equal(data, to_8bit(colour[::2, ::2], (0.0, 1.0)))
    assert item_data(gray, (0.0, 1.0), step=0)[2] == 1  # no step below one pixel


def test_a_large_error_map_is_computed_where_it_is_read():
    from gui.views.image_arrays import LazyErrorMap, shown_error_map

    side = int(np.sqrt(EIGHT_BIT_MIN_PIXELS))
    rng = np.random.default_rng(6)
    x, truth = (rng.random((side, side + 1, 3), dtype=np.float32) for _ in range(2))
    lazy = shown_error_map(x, truth)
    assert isinstance(lazy, LazyErrorMap) and lazy.shape == (side, side + 1)
    whole = error_map(x, truth)
    np.testing.assert_array_equal(np.asarray(lazy), whole)
    np.testing.assert_array_equal(lazy[::5, ::3], whole[::5, ::3])
    picture, _, step = ItemData()(lazy, (0.0, 0.2), step=4)  # the panel's sampled picture
    assert step == 4
    np.testing.assert_array_equal(picture, to_8bit(whole[::4, ::4], (0.0, 0.2)))
    small = shown_error_map(x[:8, :8], truth[:8, :8])  # small: computed at once
    assert isinstance(small, np.ndarray) and small.shape == (8, 8)
    assert shown_error_map(x, None) is None


def test_a_large_image_is_not_scanned_and_its_picture_puts_infinities_at_the_ends():
    side = int(np.sqrt(EIGHT_BIT_MIN_PIXELS))
    large = np.full((side, side), 0.5, np.float32)
    large[0, :3] = np.inf, -np.inf, np.nan
    assert displayable(large) is large  # no scan: NaN and ±inf stay for the readout
    picture = to_8bit(large, (0.0, 1.0))
    assert picture[0, 0] == 255 and picture[0, 1] == 0 and picture[0, 3] == 127
    assert picture[0, 2] == 0  # NaN: the cast's byte on x86-64 and ARM, black as displayable has it
