"""The image panels re-flow to the space there is: six side by side in a wide window, a 3 × 2 grid
in a narrow one, every picture whole and as large as the grid allows, the user's zoom kept."""

from __future__ import annotations

import numpy as np
import pytest

from gui.views.image_grid import grid_columns, picture_side
from gui.views.images import PANELS, ImagePanel


def test_grid_columns_maximise_each_picture():
    assert grid_columns(6, 1250, 340) == 6  # a wide strip: one row
    assert grid_columns(6, 610, 340) == 3  # narrow: 3 × 2 shows each larger than 6 × 1
    assert grid_columns(6, 200, 1400) == 1  # a tall column: one picture a row
    best = grid_columns(6, 610, 340)
    for columns in range(1, 7):
        assert picture_side(6, columns, 610, 340, 1.0) <= picture_side(6, best, 610, 340, 1.0)
    # a wide picture (aspect 3) prefers rows to columns in the same area
    assert grid_columns(6, 800, 500, aspect=3.0) < grid_columns(6, 800, 500, aspect=1.0)


def _show(qtbot, width: int, height: int) -> ImagePanel:
    panel = ImagePanel()
    qtbot.addWidget(panel)
    panel.resize(width, height)
    panel.show()
    qtbot.waitExposed(panel)
    picture = np.linspace(0, 1, 96 * 64, dtype=np.float32).reshape(96, 64)  # 64 wide, 96 high
    panel.set_problem(picture, picture, picture)
    return panel


def _whole_picture_in_every_view(panel: ImagePanel) -> bool:
    for name in PANELS:
        (x0, x1), (y0, y1) = panel.views[name].viewRange()
        if not (x0 <= 0.5 and x1 >= 63.5 and y0 <= 0.5 and y1 >= 95.5):
            return False
        if min(x1 - x0 - 64, y1 - y0 - 96) > 1:  # fitted: one side touches the picture
            return False
    return True


@pytest.mark.parametrize(("width", "height", "rows"), [(1400, 300, 1), (620, 520, 2)])
def test_panels_reflow_and_fit_the_whole_picture(qtbot, width, height, rows):
    panel = _show(qtbot, width, height)
    grid = panel.graphics
    qtbot.waitUntil(lambda: _whole_picture_in_every_view(panel), timeout=5000)
    assert len(grid.cells) == len(PANELS)
    assert -(-len(PANELS) // grid.columns) == rows
    widths = {round(panel.views[name].width()) for name in PANELS}
    assert len(widths) == 1  # linked views share one size, so each shows the same region
    used_rows = {round(panel.views[name].mapToScene(0, 0).y()) for name in PANELS}
    assert len(used_rows) == rows


def test_resizing_refits_until_the_user_zooms(qtbot):
    panel = _show(qtbot, 1400, 300)
    qtbot.waitUntil(lambda: _whole_picture_in_every_view(panel), timeout=5000)
    assert panel.graphics.columns == 6
    panel.resize(620, 520)  # narrower: re-flows to 3 × 2 and fits again
    qtbot.waitUntil(lambda: panel.graphics.columns == 3, timeout=5000)
    qtbot.waitUntil(lambda: _whole_picture_in_every_view(panel), timeout=5000)

    view = panel.views["x"]
    view.scaleBy((0.25, 0.25))  # the user zooms in on a detail …
    view.sigRangeChangedManually.emit(view.state["mouseEnabled"])
    zoomed = view.viewRange()
    panel.resize(640, 540)  # … and a resize keeps their view rather than fitting again
    qtbot.wait(200)
    assert not _whole_picture_in_every_view(panel)
    assert np.allclose(view.viewRange()[0][0], zoomed[0][0], atol=8)
    panel.fit_views()  # a new problem (or Fit) fits again
    qtbot.waitUntil(lambda: _whole_picture_in_every_view(panel), timeout=5000)


def _drawn_range(view) -> tuple[float, float, float, float]:
    """The view-coordinate rectangle the view box actually draws (its child group's transform)."""
    inverse, invertible = view.childGroup.sceneTransform().inverted()
    assert invertible
    rect = inverse.mapRect(view.mapRectToScene(view.rect()))
    return rect.left(), rect.right(), rect.top(), rect.bottom()


def _draws_its_range(view) -> bool:
    (x0, x1), (y0, y1) = view.viewRange()
    return np.allclose(_drawn_range(view), (x0, x1, y0, y1), atol=1e-3 * max(x1 - x0, 1.0))


def test_grid_paints_in_cpp_and_still_draws_each_new_range(qtbot):
    from PySide6.QtWidgets import QGraphicsView

    panel = _show(qtbot, 1400, 300)
    assert type(panel.graphics).paintEvent is QGraphicsView.paintEvent  # no Python paintEvent
    qtbot.waitUntil(lambda: _whole_picture_in_every_view(panel), timeout=5000)
    view = panel.views["x"]
    assert _draws_its_range(view)
    view.scaleBy((0.25, 0.25))  # a zoom: applied at once, with no paint in between
    assert _draws_its_range(view) and _draws_its_range(panel.views["d"])  # linked ones too
    view.translateBy((5.0, 3.0))
    assert _draws_its_range(view)
    panel.resize(620, 520)  # a resize (no paint needed either)
    qtbot.waitUntil(lambda: panel.graphics.columns == 3, timeout=5000)
    assert all(_draws_its_range(panel.views[name]) for name in PANELS)


def test_a_large_picture_is_drawn_8bit_at_its_levels_and_follows_the_colormap(qtbot):
    from gui.views.image_arrays import EIGHT_BIT_MIN_PIXELS, to_8bit

    panel = ImagePanel()
    qtbot.addWidget(panel)
    side = int(np.sqrt(EIGHT_BIT_MIN_PIXELS))
    rng = np.random.default_rng(0)
    y, truth, x = (rng.random((side, side), dtype=np.float32) for _ in range(3))
    panel.set_problem(y, y, truth)
    panel.set_variants(["pg"])
    panel.update_images({"pg": {"x": x}}, 1)
    error = np.abs(x - truth)
    assert panel.image("x") is x and panel.levels("error") == (0.0, panel.error_max.value())
    np.testing.assert_allclose(panel.image("error"), error, atol=1e-7)
    for name, lut in (("gray", False), ("viridis", True), ("gray", False)):
        panel.set_colormap(name)
        step = panel.drawn_step("x")  # the unshown panel is small: sampled
        np.testing.assert_array_equal(
            panel.items["x"].image, to_8bit(x[::step, ::step], (0.0, 1.0), lut=lut)
        )
        drawn, step = panel.items["error"].image, panel.drawn_step("error")
        sampled = panel.image("error")[::step, ::step]
        np.testing.assert_array_equal(drawn, to_8bit(sampled, panel.levels("error"), lut=lut))
        assert (panel.items["truth"].lut is not None) == lut


def _wheel_zoom_in(panel: ImagePanel, view) -> None:
    """Turn the mouse wheel eight notches forward over the middle of ``view``."""
    from PySide6.QtCore import QPoint, QPointF, Qt
    from PySide6.QtGui import QWheelEvent
    from PySide6.QtWidgets import QApplication

    viewport = panel.graphics.viewport()
    at = QPointF(panel.graphics.mapFromScene(view.sceneBoundingRect().center()))
    event = QWheelEvent(
        at,
        QPointF(viewport.mapToGlobal(at.toPoint())),
        QPoint(0, 0),
        QPoint(0, 8 * 120),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(viewport, event)


def test_a_large_image_zoomed_out_is_drawn_from_fewer_pixels_and_in_full_when_zoomed_in(qtbot):
    from gui.views.image_arrays import to_8bit

    panel = ImagePanel()
    qtbot.addWidget(panel)
    panel.resize(700, 450)
    panel.show()
    side = 1024
    rng = np.random.default_rng(5)
    y, x = (rng.random((side, side), dtype=np.float32) for _ in range(2))
    panel.set_problem(y, y, y)
    panel.set_variants(["pg"])
    qtbot.waitUntil(lambda: panel.drawn_step("observation") >= 2, timeout=5000)
    panel.update_images({"pg": {"x": x}}, 1)
    item, step = panel.items["x"], panel.drawn_step("x")
    assert step >= 2 and item.image.shape == (-(-side // step),) * 2
    np.testing.assert_array_equal(item.image, to_8bit(x[::step, ::step], (0.0, 1.0)))
    covered = item.mapRectToParent(item.boundingRect())  # the sampled picture spans the image
    assert covered.left() == covered.top() == 0 and side <= covered.width() < side + step
    assert panel.image("x") is x  # the readout and exports keep every pixel
    _wheel_zoom_in(panel, panel.views["x"])  # as a user zooms in: every pixel
    qtbot.waitUntil(lambda: panel.drawn_step("x") == 1, timeout=5000)
    np.testing.assert_array_equal(item.image, to_8bit(x, (0.0, 1.0)))
    assert item.mapRectToParent(item.boundingRect()).width() == side
    assert panel.drawn_step("observation") == 1  # the linked views followed
