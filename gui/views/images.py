"""Image panels: observation, current iterate x^k, proposal u^k / ũ^k, ground truth, error map,
and the optimality-error map |d| (:mod:`gui.views.optimality_map`).

All panels share zoom and pan (linked view boxes), use fixed levels (0..1 for images, 0..E for the
error map, the d map's own) so nothing flickers while streaming, and take float32 C-contiguous
arrays in pyqtgraph's row-major orientation (a large one is drawn as an 8-bit picture made here).

The panel either follows the newest iterate of the chosen variant, or is pinned to a past
iteration k (the history scrubber): then x^k comes from a frame source (the run's iterate
history, which may hold the nearest earlier iterate once it has thinned), and the proposal panel is
empty (proposals are kept for the newest iterate only).

A task's :class:`gui.views.task_view.TaskView` adds to this: MRI's k-space mask beside the observation,
and for a task whose iterate is not the picture (low-light: the illumination t) the picture it
renders — for the displayed iterate only, cached per iterate — with a choice to see t itself.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pyqtgraph as pg
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QHBoxLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from ..busy import wait_cursor
from ..display import to_display_array
from ..state import ExplorerState, RunProgress
from .field_keys import install_field_keys
from .image_arrays import displayable, shown_error_map
from .image_grid import AdaptiveGrid, PanelTitle
from .mask_view import MaskView
from .optimality_map import OptimalityMaps, map_title, proposal_title
from .panel_pictures import PanelPictures, make_colormap
from .pixel_readout import PixelReadout
from .style import COLORMAPS, variant_label
from .task_view import RenderCache, TaskView, plain_title, task_view

pg.setConfigOptions(imageAxisOrder="row-major")

IMAGE_LEVELS = (0.0, 1.0)
DEFAULT_ERROR_MAX = 0.2
PANELS = ("observation", "x", "proposal", "truth", "error", "d")
TITLES = {
    "observation": "observation y",
    "x": "current x<sup>k</sup>",
    "proposal": "proposal",
    "truth": "ground truth",
    "error": "error |x<sup>k</sup> − truth|",
    "d": "|d|: none yet",
}
PROXIMAL_TITLE = "proximal ũ<sup>k</sup>"  # the u panel's title is the task view's (the module)
PICTURE, VARIABLE = "picture", "variable"  # what the x panel shows when the task renders
FrameSource = Callable[[str, int], "tuple[int, np.ndarray] | None"]


class ImagePanel(QWidget):
    """Five linked image views with a variant chooser, proposal chooser and colormap choice."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.variant_combo = QComboBox()
        self.variant_combo.setToolTip("Which variant's iterate and proposal are shown")
        self.proposal_combo = QComboBox()
        self.proposal_combo.addItem("uᵏ (module step)", "u")
        self.proposal_combo.addItem("ũᵏ (proximal)", "u_tilde")
        self.proposal_combo.setToolTip("uᵏ = A(xᵏ), the module's proposal; ũᵏ its proximal step")
        self.colormap_combo = QComboBox()
        self.colormap_combo.addItems(COLORMAPS)
        self.error_max = QDoubleSpinBox()
        self.error_max.setRange(0.001, 1.0)
        self.error_max.setDecimals(3)
        self.error_max.setSingleStep(0.01)
        self.error_max.setValue(DEFAULT_ERROR_MAX)
        install_field_keys(self.error_max)
        self.error_max.setToolTip("Error map levels: 0 … this value")
        self.readout = PixelReadout()
        self.render_combo = QComboBox()
        self.render_combo.setToolTip(
            "The iterate is not the picture here: show the picture it gives, or the iterate itself"
        )
        self.render_label = QLabel("x panel")

        bar = QHBoxLayout()
        for label, widget in (
            (QLabel("Show"), self.variant_combo),
            (self.render_label, self.render_combo),
            (QLabel("Proposal"), self.proposal_combo),
            (QLabel("Colormap"), self.colormap_combo),
            (QLabel("Error max"), self.error_max),
        ):
            bar.addWidget(label)
            bar.addWidget(widget)
        bar.addSpacing(12)
        bar.addWidget(self.readout, 1)  # elides rather than widening the panel
        self.mask_view = MaskView()

        self.graphics = AdaptiveGrid()
        self.views: dict[str, pg.ViewBox] = {}
        self.items: dict[str, pg.ImageItem] = {}
        self.labels: dict[str, pg.LabelItem] = {}
        for name in PANELS:
            cell = self.graphics.add_cell()
            self.labels[name] = PanelTitle(TITLES[name], size="9pt")
            cell.addItem(self.labels[name])
            cell.nextRow()
            view = self.graphics.add_view(cell, lockAspect=True, invertY=True, enableMenu=False)
            item = pg.ImageItem(axisOrder="row-major")
            view.addItem(item)
            view.sigRangeChangedManually.connect(self._on_user_zoom)
            if self.views:
                first = self.views[PANELS[0]]
                view.setXLink(first)
                view.setYLink(first)
            self.views[name] = view
            self.items[name] = item

        views = QHBoxLayout()
        views.setContentsMargins(0, 0, 0, 0)
        views.addWidget(self.mask_view)
        views.addWidget(self.graphics, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(bar)
        layout.addLayout(views, 1)

        self._arrays: dict[str, np.ndarray | None] = dict.fromkeys(PANELS)
        self._levels: dict[str, tuple[float, float]] = {}  # the values drawn black … white
        self._fitted = True  # views follow the panel's size (until the user zooms)
        self._latest: dict[str, dict[str, np.ndarray | None]] = {}
        self._iteration: dict[str, int] = {}
        self._proposals: dict[str, tuple[int, dict[str, np.ndarray | None]]] = {}  # last made
        self._start: np.ndarray | None = None
        self._truth: np.ndarray | None = None
        self._frame_source: FrameSource | None = None
        self.maps = OptimalityMaps()  # the |d| maps: newest per variant, past ones by source
        self._d_map: np.ndarray | None = None  # the |d| map shown, as the engine made it
        self._pinned: int | None = None  # iteration asked for while scrubbing
        self._shown_k: int | None = None  # iteration of the x actually shown (pinned)
        self._colormap = make_colormap("gray")
        self._colormap_version = 0  # counts colormap changes: a panel's LUT is set once per one
        self._mapped: dict[str, tuple[bool | None, int]] = {}  # panel → (colour?, version) set for
        self._d_title = TITLES["d"]
        self._view = TaskView()
        self._pictures: RenderCache | None = None
        self._shown_key: tuple[str | None, int] = (None, 0)  # (variant, k) of the x shown
        self._set_render_choices()
        self.variant_combo.currentIndexChanged.connect(self._rerender)
        self.render_combo.currentIndexChanged.connect(self._rerender)
        self.proposal_combo.currentIndexChanged.connect(self._rerender)
        self.colormap_combo.currentTextChanged.connect(self.set_colormap)
        self.error_max.valueChanged.connect(self._rerender)
        self.graphics.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.graphics.resized.connect(self._refit)
        ratio = self.graphics.devicePixelRatioF
        self._drawing = PanelPictures(self.views, ratio, self)  # what each item is given
        self._update_titles()

    # ---- public API -----------------------------------------------------------------------
    def set_variants(self, variants: list[str] | tuple[str, ...]) -> None:
        """Offer these variants in the "Show" chooser (keeps the current one if still offered)."""
        current = self.current_variant()
        self.variant_combo.blockSignals(True)
        self.variant_combo.clear()
        for v in variants:
            self.variant_combo.addItem(variant_label(v), v)
        index = self.variant_combo.findData(current)
        self.variant_combo.setCurrentIndex(max(index, 0))
        self.variant_combo.blockSignals(False)
        self._rerender()

    def current_variant(self) -> str | None:
        """The variant whose images are shown."""
        return self.variant_combo.currentData()

    def show_problem(self, state: ExplorerState) -> None:
        """The state's problem: its observation (MRI: the zero-filled image), x⁰, ground truth
        and the task's view."""
        problem = state.setup.problem
        observation = problem.observation_image
        with wait_cursor():  # a low-light picture is rendered from x⁰ (its denoise, once)
            self.set_problem(
                to_display_array(observation if observation is not None else problem.x0),
                to_display_array(problem.x0),
                to_display_array(problem.ground_truth),
                task_view(state.setup),
            )

    def set_problem(
        self,
        observation: np.ndarray | None,
        start: np.ndarray | None,
        truth: np.ndarray | None,
        view: TaskView | None = None,
    ) -> None:
        """Show a new problem: its observation, start x⁰, ground truth and the task's view
        (mask, titles, rendering; default: none of them); forget old iterates."""
        self._start = displayable(start)
        self._truth = displayable(truth)
        self._latest.clear()
        self._iteration.clear()
        self._proposals.clear()
        self.maps.clear()
        self._view = view or TaskView()
        self.readout.clear_readout()  # the old problem's values are stale
        self._pictures = RenderCache(self._view.render) if self._view.render else None
        self.mask_view.show_mask(self._view.mask, self._view.mask_title)
        self._set_render_choices()
        self._title("observation", self._view.observation_title)
        self._set("observation", displayable(observation))
        self._set("truth", self._truth)
        picture = self._start if self._start is not None else displayable(observation)
        if picture is not None and picture.ndim >= 2:
            self.graphics.set_aspect(picture.shape[1] / max(1, picture.shape[0]))
        self._rerender()
        self.fit_views()

    def task_view(self) -> TaskView:
        """The task view in use."""
        return self._view

    def shows_picture(self) -> bool:
        """True when the x panel shows the picture rendered from the iterate (not the iterate)."""
        return self._pictures is not None and self.render_combo.currentData() == PICTURE

    def show_picture(self, on: bool) -> None:
        """Show the rendered picture (True) or the iterate itself (False) in the x panel."""
        index = self.render_combo.findData(PICTURE if on else VARIABLE)
        if index >= 0:
            self.render_combo.setCurrentIndex(index)

    def fit_views(self) -> None:
        """Zoom all (linked) views to show the whole image, and keep fitting on resize (until
        the user zooms or pans)."""
        self._fitted = True
        first = self.views[PANELS[0]]
        for view in self.views.values():
            view.enableAutoRange(enable=False)
        first.autoRange(padding=0.0)

    def _refit(self) -> None:
        """The panels changed size: fit again unless the user zoomed or panned."""
        if self._fitted:
            self.fit_views()

    def _on_user_zoom(self, *_args) -> None:
        """The user zoomed or panned: keep their view across resizes."""
        self._fitted = False

    def bind_run(self, progress: RunProgress) -> None:
        """Show the run ``progress`` holds: x⁰ when it starts or is cleared, then its images."""
        progress.events.started.connect(self._on_run_started)
        progress.events.cleared.connect(self.reset_iterates)
        progress.events.images.connect(self._on_run_images)
        progress.events.numbers.connect(self._on_numbers)

    def _on_run_started(self, variants: tuple[str, ...]) -> None:
        self.reset_iterates()
        self.set_variants(variants)

    def reset_iterates(self) -> None:
        """Back to x⁰ (a run was reset)."""
        self._latest.clear()
        self._iteration.clear()
        self._proposals.clear()
        self.maps.clear()
        self._pinned = self._shown_k = None
        if self._pictures is not None:
            self._pictures.clear()
        self._rerender()

    def _on_run_images(self, images: dict[str, dict[str, np.ndarray | None]], k: int) -> None:
        """A pull's images, drawn now; their titles (with k) follow the run's numbers."""
        self.update_images(images, k, titles=False)

    def _on_numbers(self, _k: int) -> None:
        """The run's numbers are due (≤ 8/s running, at once paused): titles catch up."""
        self._update_titles()

    def update_images(
        self, images: dict[str, dict[str, np.ndarray | None]], k: int, titles: bool = True
    ) -> None:
        """Take the latest images per variant and redraw what is shown (``titles``: them too)."""
        for variant, arrays in images.items():
            self._latest[variant] = arrays
            self._iteration[variant] = k
            if arrays.get("u") is not None:  # row k − 1 made a proposal (else: keep the last)
                self._proposals[variant] = (k - 1, arrays)
        self.maps.take(images, k)
        if self.current_variant() in images and self._pinned is None:
            self._rerender(titles=titles)

    def set_frame_source(self, source: FrameSource | None) -> None:
        """Where past iterates come from: ``source(variant, k) -> (k_stored, x) | None``."""
        self._frame_source = source

    def show_iterate(self, k: int) -> int | None:
        """Pin the view to iterate x^k (or the nearest stored one before it); returns its k."""
        self._pinned = int(k)
        self._rerender()
        return self._shown_k

    def follow_latest(self) -> None:
        """Unpin: show the newest iterate again."""
        if self._pinned is not None:
            self._pinned = self._shown_k = None
            self._rerender()

    def pinned(self) -> int | None:
        """The iteration asked for while scrubbing (None: following the newest)."""
        return self._pinned

    def shown_iteration(self) -> int | None:
        """The iteration of the past iterate shown (None when following the newest)."""
        return self._shown_k

    def set_colormap(self, name: str) -> None:
        """Use colormap ``name`` for every single-channel panel."""
        if self.colormap_combo.currentText() != name:
            self.colormap_combo.setCurrentText(name)
            return
        self._colormap = make_colormap(name)
        self._colormap_version += 1
        for panel in PANELS:  # a large picture is made again: a table indexes 256 steps, not 255
            if self._arrays.get(panel) is not None:
                self._set(panel, self._arrays[panel], self._levels[panel])
            else:
                self._apply_colormap(panel)

    def image(self, panel: str) -> np.ndarray | None:
        """The array shown in ``panel`` (for tests and exports)."""
        arr = self._arrays.get(panel)
        return None if arr is None else np.asarray(arr)  # a large error map: computed now

    def levels(self, panel: str) -> tuple[float, float] | None:
        """The values ``panel`` draws as its darkest and brightest colour."""
        return self._levels.get(panel)

    def drawn_step(self, panel: str) -> int:
        """Every how many pixels ``panel``'s picture was sampled (1: all; a large image zoomed out)."""
        return self._drawing.drawn_step(panel)

    def shown_key(self) -> tuple[str | None, int]:
        """(variant, k) of the iterate in the x panel (variant None: the start x⁰)."""
        return self._shown_key

    # ---- rendering ------------------------------------------------------------------------
    def _rerender(self, *_args, titles: bool = True) -> None:
        variant = self.current_variant()
        latest = self._latest.get(variant or "", {})
        x = displayable(latest.get("x")) if latest else self._start
        k = self._iteration.get(variant or "", 0) if latest else 0
        made = self._proposals.get(variant or "")
        proposal = displayable(made[1].get(self.proposal_combo.currentData())) if made else None
        if self._pinned is not None:
            frame = self._past_frame(variant, self._pinned)
            self._shown_k, x = frame if frame is not None else (0, self._start)
            k = self._shown_k
            proposal = None
        self._shown_key = (variant if k else None, k)
        truth = self._truth
        if self.shows_picture() and x is not None:
            x = displayable(self._pictures.get(self._shown_key, x))
            truth = displayable(self._view.picture_truth)
        self._set("x", x)
        self._set("proposal", proposal)
        if truth is not self._arrays.get("truth"):
            self._set("truth", truth)
        self._set("error", shown_error_map(x, truth), (0.0, self.error_max.value()))
        self._show_d_map(variant, k)
        if titles:
            self._update_titles()

    def _show_d_map(self, variant: str | None, k: int) -> None:
        """The |d| map beside x^k: row k − 1's, or the last made before it (marked in the title)."""
        pinned = self._pinned is not None
        frame = self.maps.beside(variant, k) if pinned else self.maps.latest(variant)
        if frame is not None and frame[0] >= k:  # not beside x^k (a map of a later row)
            frame = None
        d_map = frame[1] if frame is not None else None
        top, self._d_map = self.maps.scale(d_map), d_map  # its own levels (in its title)
        self._set("d", displayable(d_map), (0.0, top))
        self._d_title = map_title(variant, frame, k - 1 if k else None, top)

    def _set_render_choices(self) -> None:
        view = self._view
        current = self.render_combo.currentData() or PICTURE
        self.render_combo.blockSignals(True)
        self.render_combo.clear()
        if view.render is not None:
            self.render_combo.addItem(plain_title(view.picture_title), PICTURE)
            self.render_combo.addItem(f"{view.variable_title} {view.variable}".strip(), VARIABLE)
            self.render_combo.setCurrentIndex(max(self.render_combo.findData(current), 0))
        self.render_combo.blockSignals(False)
        self.render_combo.setVisible(view.render is not None)
        self.render_label.setVisible(view.render is not None)

    def _past_frame(self, variant: str | None, k: int) -> tuple[int, np.ndarray] | None:
        if k == 0 or self._frame_source is None or variant is None:
            return None if k else (0, self._start)
        frame = self._frame_source(variant, k)
        if frame is None:
            return None
        return frame[0], displayable(frame[1])

    def _set(self, panel: str, arr: np.ndarray | None, levels=IMAGE_LEVELS) -> None:
        item = self.items[panel]
        shown, self._arrays[panel] = self._arrays.get(panel), arr
        if arr is None:
            if shown is not None:  # an empty panel is not cleared again at every image
                item.clear()
                self._drawing.cleared(panel)
            return
        self._levels[panel] = levels
        self._drawing.draw(panel, item, arr, levels, self._has_table(arr))
        if self._mapped.get(panel) != (arr.ndim == 3, self._colormap_version):
            self._apply_colormap(panel)

    def _apply_colormap(self, panel: str) -> None:
        """The panel's lookup table (kept across images): none for colour or gray (a table would
        be turned into 256 colours at every image), else the colormap."""
        arr = self._arrays.get(panel)
        item = self.items[panel]
        if self._has_table(arr):
            item.setColorMap(self._colormap)
        else:
            item.setLookupTable(None)
        self._mapped[panel] = (None if arr is None else arr.ndim == 3, self._colormap_version)

    def _has_table(self, arr: np.ndarray | None) -> bool:
        """Whether ``arr`` is drawn through the colormap's table (single-channel, not gray)."""
        return arr is not None and arr.ndim == 2 and self._colormap is not None

    def _update_titles(self) -> None:
        variant = self.current_variant()
        view = self._view
        proposal = view.proposal_title
        if self.proposal_combo.currentData() == "u_tilde":
            proposal = PROXIMAL_TITLE
        if view.variable_title:  # the proposal is an iterate, not a picture
            proposal = f"{view.variable_title}: {proposal}"
        picture = self.shows_picture()
        self._title("x", self._x_title(variant, picture))
        if self._pinned is not None:
            self._title("proposal", f"{proposal}: newest iterate only")
        else:
            k = self._iteration.get(variant or "")
            made = self._proposals.get(variant or "")
            row = None if k is None else k - 1
            self._title(
                "proposal", proposal_title(proposal, variant, made[0] if made else None, row)
            )
        truth = view.picture_truth if picture else self._truth
        title = view.picture_truth_title if picture else view.truth_title
        self._title("truth", title if truth is not None else f"{title} (none)")
        v = view.variable
        self._title(
            "error", view.picture_error_title if picture else f"error |{v}<sup>k</sup> − truth|"
        )
        self._title("d", self._d_title)

    def _x_title(self, variant: str | None, picture: bool) -> str:
        """x^k's title: which iterate (and variant), and whether it is shown rendered."""
        view, v = self._view, self._view.variable
        if picture:  # short: the panel is narrow, and "Show" names the variant
            if self._pinned is not None:
                return f"{view.picture_title}, k = {self._shown_k or 0} (history)"
            k = self._iteration.get(variant or "")
            return f"{view.picture_title}" + (f" of {v}⁰" if k is None else f", k = {k}")
        what = f"{view.variable_title} " if view.variable_title else ""
        if self._pinned is not None:
            name = f" — {variant_label(variant)}" if variant else ""
            return f"{what}{v}<sup>{self._shown_k or 0}</sup>{name} (history)"
        k = self._iteration.get(variant or "")
        suffix = f" — {variant_label(variant)}, k = {k}" if variant and k is not None else ""
        start = f"{what}{v}⁰" if what else f"start {v}⁰"
        return (f"{what}{v}<sup>k</sup>" if k is not None else start) + suffix

    def _title(self, panel: str, text: str) -> None:
        label = self.labels[panel]
        if label.text != text:
            label.setText(text)

    def _on_mouse_moved(self, pos) -> None:
        for view in self.views.values():
            if view.sceneBoundingRect().contains(pos):
                point = view.mapSceneToView(pos)
                row, col = int(np.floor(point.y())), int(np.floor(point.x()))
                total = self.maps.total(self._d_map)  # ‖d‖², for the shares
                self.readout.show_values(row, col, self._arrays, total)
                return
        self.readout.clear_readout()
