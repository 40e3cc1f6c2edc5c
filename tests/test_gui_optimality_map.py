"""The optimality-error map panel: the engine's |d| beside the error map, following the history
scrubber and the Show picker, the last map made marked, its own levels, the readout's share, and
the export's d_map files."""

from __future__ import annotations

import numpy as np
import pytest

from gui.views.images import ImagePanel
from gui.views.optimality_map import auto_top, nice_ceiling, share_text, squared_norm
from gui.views.pixel_readout import values_text
from tests.conftest import run_to_limit


def norm(arr: np.ndarray) -> float:
    return float(np.linalg.norm(arr.astype(np.float64)))


def residual(window, variant: str, row: int) -> float:
    return window.runner.history.rows(variant)[row]["residual"]


def blank_panel(qtbot, variants: list[str]) -> tuple[ImagePanel, np.ndarray]:
    """An image panel on an 8×8 black problem with ``variants``, and that black x."""
    panel = ImagePanel()
    qtbot.addWidget(panel)
    x = np.zeros((8, 8), np.float32)
    panel.set_problem(x, x, None)
    panel.set_variants(variants)
    return panel, x


def test_the_panel_shows_the_engines_d_and_follows_scrubber_and_show(qtbot, loaded):
    window = loaded
    run_to_limit(qtbot, window, 5)
    images = window.images
    row, newest = images.maps.latest("fima")
    assert images.current_variant() == "fima"
    np.testing.assert_array_equal(images.image("d"), newest)
    assert norm(newest) == pytest.approx(residual(window, "fima", row), rel=1e-5)
    assert f"k = {row}" in images.labels["d"].text
    for k in (3, 1):  # scrubbed: beside x^k, the map of row k − 1 from the history
        assert window.runner.scrub_to(k) == k
        stored_k, stored = window.scrubber.d_map("fima", k)
        np.testing.assert_array_equal(images.image("d"), stored)
        if stored_k == k:
            assert norm(stored) == pytest.approx(residual(window, "fima", k - 1), rel=1e-5)
            assert images.labels["d"].text.startswith(f"|d|, k = {k - 1} (≤ ")
    window.runner.scrub_to(0)  # x⁰: no step made it
    assert images.image("d") is None and "none yet" in images.labels["d"].text
    window.runner.scrub_to(2)
    images.variant_combo.setCurrentIndex(images.variant_combo.findData("pg"))
    assert images.image("d") is None and "no check" in images.labels["d"].text
    images.variant_combo.setCurrentIndex(images.variant_combo.findData("fima"))
    assert images.image("d") is not None
    window.runner.follow_live()
    np.testing.assert_array_equal(images.image("d"), newest)


def test_a_skipped_proposal_shows_the_last_map_made_marked(qtbot):
    panel, x = blank_panel(qtbot, ["fima"])
    first = np.full((8, 8), 0.25, np.float32)
    panel.update_images({"fima": {"x": x, "d": first}}, 1)
    assert panel.labels["d"].text == "|d|, k = 0 (≤ 0.5)"
    panel.update_images({"fima": {"x": x, "d": None}}, 2)  # row 1: skipped, no map
    np.testing.assert_array_equal(panel.image("d"), first)
    assert "k = 0 <span" in panel.labels["d"].text and "last made" in panel.labels["d"].text
    history = {("fima", 1): first}  # the scrubber's source: the map of row k − 1 stored at k
    panel.maps.set_source(lambda v, k: (1, history[(v, 1)]) if k >= 1 else None)
    panel.set_frame_source(lambda v, k: (k, x))
    panel.show_iterate(2)
    assert "last made" in panel.labels["d"].text
    panel.show_iterate(1)
    assert panel.labels["d"].text == "|d|, k = 0 (≤ 0.5)"
    panel.error_max.setValue(0.1)  # its own levels: not the error map's
    assert list(panel.levels("d")) == pytest.approx([0.0, 0.5])
    panel.reset_iterates()
    assert panel.image("d") is None


def test_a_skipped_proposal_shows_the_last_proposal_made_marked_and_pg_says_it_has_none(qtbot):
    panel, x = blank_panel(qtbot, ["fima", "pg"])
    u, u_tilde = np.full((8, 8), 0.3, np.float32), np.full((8, 8), 0.4, np.float32)
    assert panel.labels["proposal"].text.endswith("u<sup>k</sup>")  # x⁰: no row yet
    panel.update_images({"fima": {"x": x, "u": u, "u_tilde": u_tilde}, "pg": {"x": x}}, 1)
    np.testing.assert_array_equal(panel.image("proposal"), u)
    assert panel.labels["proposal"].text.endswith("(k = 0)")
    panel.update_images({"fima": {"x": x, "u": None, "u_tilde": None}, "pg": {"x": x}}, 2)
    np.testing.assert_array_equal(panel.image("proposal"), u)  # row 1 skipped: row 0's, marked
    assert "(k = 0) <span" in panel.labels["proposal"].text
    assert "last made" in panel.labels["proposal"].text
    panel.proposal_combo.setCurrentIndex(panel.proposal_combo.findData("u_tilde"))
    np.testing.assert_array_equal(panel.image("proposal"), u_tilde)
    panel.variant_combo.setCurrentIndex(panel.variant_combo.findData("pg"))
    assert panel.image("proposal") is None
    assert "none (PG takes no learned step)" in panel.labels["proposal"].text
    panel.reset_iterates()
    panel.variant_combo.setCurrentIndex(panel.variant_combo.findData("fima"))
    assert panel.image("proposal") is None and "last made" not in panel.labels["proposal"].text


def test_an_empty_panel_is_cleared_once_not_at_every_image(qtbot):
    panel, x = blank_panel(qtbot, ["pg", "fima"])
    u = np.full((8, 8), 0.3, np.float32)
    cleared = dict.fromkeys(panel.items, 0)

    def counting(name, clear):
        def counted():
            cleared[name] += 1
            clear()

        return counted

    for name, item in panel.items.items():
        item.clear = counting(name, item.clear)
    for k in range(1, 6):  # pg: no proposal and no |d| map, image after image
        panel.update_images({"pg": {"x": x}, "fima": {"x": x, "u": u, "u_tilde": u}}, k)
    assert cleared["proposal"] == cleared["d"] == 0
    assert panel.items["proposal"].image is None and panel.items["d"].image is None
    panel.variant_combo.setCurrentIndex(panel.variant_combo.findData("fima"))
    np.testing.assert_array_equal(panel.items["proposal"].image, u)
    panel.variant_combo.setCurrentIndex(panel.variant_combo.findData("pg"))
    assert cleared["proposal"] == 1 and panel.items["proposal"].image is None


def test_auto_levels_and_the_readouts_share():
    assert [nice_ceiling(v) for v in (0.0, 0.003, 0.01, 0.011, 0.3, 4.2, 7)] == [
        1.0,
        0.005,
        0.01,
        0.02,
        0.5,
        5.0,
        10.0,
    ]
    d_map = np.full((40, 40), 0.015, np.float32)
    d_map[0, 0] = 1.0  # one outlier does not set the levels
    assert auto_top(d_map) == pytest.approx(0.02)
    total = float(np.sum(d_map.astype(np.float64) ** 2))
    text = values_text(0, 0, {"x": np.zeros((40, 40)), "d": d_map}, total)
    assert text.endswith(f"|d| 1 ({share_text(1.0, total)})")
    assert share_text(1.0, total) == "74 %" and share_text(0.015, total) == "0.017 %"
    shares = sum(float(v) ** 2 / total for v in d_map.ravel())
    assert shares == pytest.approx(1.0)


def test_a_large_maps_norm_and_levels_match_the_whole_maps():
    rng = np.random.default_rng(3)
    d_map = (rng.random((1024, 1024), dtype=np.float32) * 0.4) ** 3  # skewed, like |d|
    exact = float(np.sum(d_map.astype(np.float64) ** 2))
    assert squared_norm(d_map) == pytest.approx(exact, rel=1e-7)
    assert squared_norm(None) == 0.0
    whole = nice_ceiling(float(np.percentile(d_map, 99.5)))
    assert auto_top(d_map) == whole  # from a subsample, the same rounded level


def test_export_writes_the_d_map_of_the_last_proposal(qtbot, loaded, tmp_path):
    window = loaded
    run_to_limit(qtbot, window, 4)
    out = tmp_path / "export"
    assert window.files.export_to(out), window.last_error
    row, newest = window.images.maps.latest("fima")
    d_map = np.load(out / "d_map.npy")
    np.testing.assert_array_equal(d_map, newest)
    assert norm(d_map) == pytest.approx(residual(window, "fima", row), rel=1e-5)
    import imageio.v3 as iio

    png = iio.imread(out / "d_map.png")
    assert png.shape == d_map.shape and png.dtype == np.uint8
    top = auto_top(d_map)  # the panel's levels
    assert window.images.levels("d")[1] == pytest.approx(top)
    np.testing.assert_allclose(png / 255, np.clip(d_map / top, 0, 1), atol=1 / 255)


def test_the_norm_for_the_readout_is_computed_once_and_only_when_asked():
    from gui.views.optimality_map import OptimalityMaps

    maps = OptimalityMaps()
    d_map = np.random.default_rng(7).random((64, 48), dtype=np.float32)
    top = maps.scale(d_map)
    assert top == auto_top(d_map) and maps.scale(d_map) == top
    assert maps.total(d_map) == pytest.approx(squared_norm(d_map), rel=1e-7)
    other = d_map * 2
    assert maps.total(other) == pytest.approx(4 * squared_norm(d_map), rel=1e-6)
    assert maps.total(None) == 0.0 and maps.scale(None) == 1.0
