"""Every task in the explorer: each opens on its bundled sample from the task selector; MRI shows its
k-space mask and the zero-filled image; low-light shows the enhanced picture of the displayed
illumination iterate (or t itself); colour tasks show colour; the module list is the task's own;
a task switch keeps the module only when the user chose it and the new task takes it."""

from __future__ import annotations

import threading
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import pytest
import torch

import gui.views.task_view
from core import build_task
from core.outputs import write_run_outputs
from core.session import Session, save_session
from core.tasks import default_module_name
from core.tasks.base import TASKS
from gui.display import to_display_array
from tests.conftest import run_to_limit
from tests.gui_actions import choose_module, choose_task

COLOUR_TASKS = ("lowlight", "derain")  # the picture a user sees is colour


def _channels(arr: np.ndarray) -> int:
    return 1 if arr.ndim == 2 else arr.shape[-1]


def _read_rgb16_png(path: Path) -> np.ndarray:
    """A 16-bit RGB PNG as (H, W, 3) uint16, by an independent decoder (Pillow reads it as 8-bit)."""
    import imagecodecs

    pixels = imagecodecs.png_decode(path.read_bytes())
    assert pixels.dtype == np.uint16 and pixels.ndim == 3 and pixels.shape[-1] == 3
    return pixels


def _rendered(setup, x: np.ndarray) -> np.ndarray:
    """The engine's picture of illumination ``x`` (display array (H, W))."""
    t = torch.from_numpy(np.ascontiguousarray(x))[None, None].to(setup.problem.device)
    return to_display_array(setup.problem.info["render"](t))


@pytest.fixture
def sample_window(window):
    """The window with the deblurring sample open (what a fresh start shows)."""
    from gui.state.problem_spec import ProblemSpec

    assert window.load_problem(ProblemSpec("deblur"))
    return window


# ---- every task opens -------------------------------------------------------------------------
def test_every_task_opens_from_the_selector_on_its_sample(qtbot, sample_window, dialogs):
    window = sample_window
    window.solver_panel.set_variants(["fima"])
    for task in TASKS:
        choose_task(window, task)
        assert dialogs == [], f"{task}: {dialogs}"
        assert window.setup.settings["task"] == task
        assert window.spec.image is None and "sample" in window.windowTitle()
        images = window.images
        colour = 3 if task in COLOUR_TASKS else 1
        assert _channels(images.image("observation")) == colour, task
        assert _channels(images.image("x")) == colour, task
        assert images.image("truth") is not None, task
        assert window.solver_panel.module() == window.setup.settings["module"], task
        assert images.mask_view.isVisibleTo(window) == (task == "mri"), task
        run_to_limit(qtbot, window, 2)  # the sample runs, too
        assert window.runner.run_state() == "limit" and window.last_error is None, task
        assert images.shown_key() == ("fima", 2), task
        assert _channels(images.image("x")) == colour, task
        window.runner.reset_run()  # done with it: the next task is not asked about an unsaved run
    assert dialogs == []


# ---- MRI: the mask and the zero-filled image --------------------------------------------------
def test_mri_shows_its_mask_and_the_zero_filled_image(sample_window):
    window = sample_window
    choose_task(window, "mri")
    info = window.setup.problem.info
    mask_view = window.images.mask_view
    assert mask_view.isVisibleTo(window)
    rate = 100 * info["sampling_rate"]
    assert mask_view.text() == f"k-space mask — radial, {rate:.1f} % sampled"
    np.testing.assert_array_equal(mask_view.mask(), np.asarray(info["mask"], dtype=np.float32))
    assert "zero-filled" in window.images.labels["observation"].text
    zero_filled = to_display_array(window.setup.problem.observation_image)
    np.testing.assert_array_equal(window.images.image("observation"), zero_filled)

    combo = window.problem_panel.mask_combo  # the user picks another mask
    combo.setCurrentIndex(combo.findText("lines:25"))
    combo.activated.emit(combo.currentIndex())
    assert window.setup.settings["mask"] == "lines:25"
    new = window.setup.problem.info
    assert mask_view.text() == f"k-space mask — lines, {100 * new['sampling_rate']:.1f} % sampled"
    np.testing.assert_array_equal(mask_view.mask(), np.asarray(new["mask"], dtype=np.float32))
    assert not np.array_equal(np.asarray(new["mask"]), np.asarray(info["mask"]))

    choose_task(window, "deblur")
    assert not mask_view.isVisibleTo(window)
    assert window.images.labels["observation"].text == "observation y"


def test_a_mask_file_is_named_in_the_title(sample_window, tmp_path):
    window = sample_window
    choose_task(window, "mri")
    mask = np.zeros((256, 256), dtype=np.float32)
    mask[96:160, 96:160] = 1.0
    path = tmp_path / "centre.npy"
    np.save(path, mask)
    assert window.set_option("mask", str(path)), window.last_error
    assert window.images.mask_view.text() == "k-space mask — centre.npy, 6.2 % sampled"


# ---- low-light: the enhanced picture of the displayed iterate ---------------------------------
@pytest.fixture
def lowlight(qtbot, sample_window, monkeypatch):
    """The low-light sample, with the threads that render pictures recorded."""
    threads: list[str] = []
    make = gui.views.task_view.display_renderer

    def recording(render, device):
        on_arrays = make(render, device)

        def wrapped(x):
            threads.append(threading.current_thread().name)
            return on_arrays(x)

        return wrapped

    monkeypatch.setattr(gui.views.task_view, "display_renderer", recording)
    window = sample_window
    choose_task(window, "lowlight")
    window.render_threads = threads
    return window


def test_lowlight_shows_the_enhanced_picture_of_the_shown_iterate(qtbot, lowlight):
    window, images = lowlight, lowlight.images
    setup = window.setup
    x0 = to_display_array(setup.problem.x0)
    assert x0.ndim == 2  # the engine's variable is the grey illumination map
    np.testing.assert_allclose(images.image("x"), _rendered(setup, x0), atol=1e-6)
    assert images.image("x").shape == (*x0.shape, 3)
    assert "enhanced (y / t<sup>γ</sup>)" in images.labels["x"].text
    assert images.render_combo.isVisibleTo(window)
    clean = to_display_array(setup.problem.info["clean"])
    np.testing.assert_array_equal(images.image("truth"), clean)
    assert images.labels["truth"].text == "clean picture R"

    run_to_limit(qtbot, window, 4)
    assert images.shown_key() == ("fima", 4)
    newest = window.scrubber.frame("fima", 4)[1]
    np.testing.assert_allclose(images.image("x"), _rendered(setup, newest), atol=1e-6)
    np.testing.assert_allclose(
        images.image("error"), np.abs(images.image("x") - clean).mean(axis=-1), atol=1e-6
    )
    window.runner.scrub_to(2)  # history: the picture of t², not of the newest t
    stored = window.scrubber.frame("fima", 2)[1]
    np.testing.assert_allclose(images.image("x"), _rendered(setup, stored), atol=1e-6)
    assert images.labels["x"].text == "enhanced (y / t<sup>γ</sup>), k = 2 (history)"

    window.runner.scrub_to(3)
    window.runner.scrub_to(2)
    renders = len(window.render_threads)
    for k in (3, 2, 3, 2):  # each iterate is rendered once: scrubbing back and forth is free
        window.runner.scrub_to(k)
    assert len(window.render_threads) == renders
    assert set(window.render_threads) == {threading.main_thread().name}  # never in the worker

    images.show_picture(False)  # the raw illumination map t
    np.testing.assert_array_equal(images.image("x"), stored)
    assert images.labels["x"].text.startswith("illumination t<sup>2</sup>")
    assert images.labels["truth"].text == "true illumination t"
    np.testing.assert_array_equal(
        images.image("truth"), to_display_array(setup.problem.ground_truth)
    )
    window.runner.follow_live()
    np.testing.assert_array_equal(images.image("x"), newest)
    images.show_picture(True)
    np.testing.assert_allclose(images.image("x"), _rendered(setup, newest), atol=1e-6)


def test_lowlight_export_writes_what_fima_run_writes(qtbot, lowlight, tmp_path):
    window = lowlight
    setup = window.setup
    run_to_limit(qtbot, window, 3)
    out = tmp_path / "export"
    assert window.files.export_to(out), window.last_error
    t = window.scrubber.frame("fima", 3)[1]
    picture = _rendered(setup, t)
    np.testing.assert_allclose(np.load(out / "result.npy"), picture, atol=1e-6)
    np.testing.assert_array_equal(np.load(out / "variable.npy"), t)
    assert iio.imread(out / "result.png").shape == picture.shape
    png16 = _read_rgb16_png(out / "result_16bit.png")  # colour, 16 bits a channel
    assert np.abs(png16 / 65535 - picture).max() < 1e-4
    clean = to_display_array(setup.problem.info["clean"])
    np.testing.assert_allclose(
        np.load(out / "error_map.npy"), np.abs(picture - clean).mean(axis=-1), atol=1e-6
    )
    frames = iio.imread(out / "iterates.gif")  # the movie shows pictures, not t
    last = frames[-1][40:, :].astype(np.float32) / 255  # below the burnt-in label
    assert np.abs(last - picture[40:]).mean() < 0.05
    # the headless writer, given the same iterate, writes the same result
    headless = tmp_path / "headless"
    t_tensor = torch.from_numpy(t)[None, None]
    write_run_outputs(headless, setup.problem, [], t_tensor, window.files.current_session())
    for name in ("result.npy", "variable.npy"):
        np.testing.assert_allclose(np.load(out / name), np.load(headless / name), atol=1e-6)


# ---- the module list --------------------------------------------------------------------------
def test_the_module_list_is_the_tasks_own(sample_window):
    window = sample_window
    panel = window.solver_panel
    choose_task(window, "smooth")
    assert panel.module_names()[:2] == ["l0", "guided"]
    assert panel.module() == "l0" and panel.module_combo.currentData() == "l0"
    assert {"tv", "none"} <= set(panel.module_names())
    choose_task(window, "deblur")
    assert not {"l0", "guided"} & set(panel.module_names())
    assert panel.module_combo.currentData() == default_module_name()
    choose_task(window, "lowlight")
    assert panel.module_combo.currentData() == "none"
    assert panel.module_combo.currentText() == "none (closed-form step)"
    assert "l0" not in panel.module_names()
    choose_module(window, "tv")  # a denoiser on t: the list offers what the task takes
    assert window.setup.settings["module"] == "tv" and window.last_error is None


# ---- the module on a task switch --------------------------------------------------------------
def test_a_task_switch_gives_each_task_its_default_module(sample_window):
    window = sample_window
    choose_task(window, "smooth")
    assert window.setup.settings["module"] == "l0"
    choose_task(window, "deblur")  # l0 is smooth's own: not carried
    assert window.setup.settings["module"] == default_module_name()
    choose_task(window, "smooth")  # deblur's default is not a choice: smooth keeps its own
    assert window.setup.settings["module"] == "l0"
    choose_module(window, "guided")
    assert window.setup.settings["module"] == "guided"
    choose_task(window, "derain")  # chosen, but smooth's own
    assert window.setup.settings["module"] == default_module_name()
    assert window.solver_panel.module_combo.currentData() == default_module_name()
    assert window.last_error is None


def test_a_chosen_module_that_the_new_task_takes_is_kept(sample_window):
    window = sample_window
    choose_module(window, "tv")
    choose_task(window, "smooth")
    assert window.setup.settings["module"] == "tv"
    assert window.solver_panel.module_combo.currentData() == "tv"
    choose_task(window, "lowlight")
    assert window.setup.settings["module"] == "tv"


def test_a_torchscript_module_is_kept_across_tasks(sample_window, tmp_path):
    class Identity(torch.nn.Module):
        def forward(self, x: torch.Tensor) -> torch.Tensor:
            return x

    path = str(tmp_path / "mine.pt")
    torch.jit.save(torch.jit.script(Identity()), path)
    window = sample_window
    assert window.set_module(path), window.last_error
    for task in ("smooth", "derain", "denoise"):
        choose_task(window, task)
        assert window.setup.settings["module"] == path, task
        assert window.solver_panel.module_combo.currentData() == path, task
    assert window.solver_panel.module_names().count(path) == 1
    choose_module(window, "tv")  # the file stays on offer after another choice
    assert path in window.solver_panel.module_names()


def test_a_sessions_default_module_is_not_a_choice(sample_window, tmp_path):
    setup = build_task("deblur")
    path = tmp_path / "deblur.toml"
    save_session(path, Session(setup.settings, setup.parameters, {}, ["fima"], 5))
    window = sample_window
    assert window.files.load_session_file(path)
    assert window.setup.settings["module"] == default_module_name()
    choose_task(window, "smooth")
    assert window.setup.settings["module"] == "l0"
