"""The prior list and the downscale factor as a user sees them: each task opens with the prior its
engine builds (mri: TV, low-light: its illumination box, derain: its streak prior), offers the
general priors besides, and a task switch keeps a chosen general prior but never a task's own;
the downscale box shrinks the image, survives task switches and session files, and a problem too
large for free memory is offered downscaled (cancel keeps the old one)."""

from __future__ import annotations

import tomllib

import imageio.v3 as iio
import numpy as np
import pytest
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

import core.memory
from core import build_task
from core.session import Session, save_session
from core.tasks import mri
from core.tasks.base import TASKS
from core.tasks.retinex import IlluminationBox
from core.tasks.streaks import StreakPrior
from gui.dialogs.memory_dialog import MemoryDialog
from gui.state.problem_spec import ProblemSpec
from tests.conftest import synthetic_image
from tests.gui_actions import choose_prior, choose_task

OWN_PRIORS = {"illumination_box", "streaks", "streaks:p=1"}  # a task's own: never carried
GENERAL = ("wavelet", "wavelet:p=0.5", "wavelet:p=0", "tv", "box", "none")
SAMPLE_SIDE = 256  # the bundled samples are 256 × 256
MIB = 2**20


def _key(describe: dict) -> str:
    """The list entry that names a built prior: its name, with p (symmetries for gs) where it is
    not the usual, and a wavelet family other than Haar."""
    name = describe["name"]
    option, usual = {
        "wavelet": ("p", 1.0),
        "streaks": ("p", 0.0),
        "gs": ("symmetries", 1),
        "gs-prox": ("symmetries", 1),
    }.get(name, (None, None))
    value = describe.get(option) if option else None
    named = [f"{option}={value:g}"] if value is not None and value != usual else []
    if name == "wavelet" and describe.get("wavelet", "haar") != "haar":
        named.append(f"wavelet={describe['wavelet']}")
    return f"{name}:{','.join(named)}" if named else name


def _assert_shown_is_built(window, where: str) -> str:
    """The prior list shows exactly the prior the engine built; returns its entry."""
    built = window.setup.settings["prior"]
    shown = window.solver_panel.prior()
    assert shown == window.solver_panel.prior_combo.currentData(), where
    assert shown.partition(":")[0] == built["name"], f"{where}: shows {shown}, runs {built}"
    assert shown == _key(built), f"{where}: shows {shown}, runs {built}"
    return shown


def _every_ordered_pair(items: tuple[str, ...]) -> list[str]:
    """A walk through ``items`` that takes every ordered pair (a, b), a ≠ b, once."""
    unused = {a: [b for b in items if b != a] for a in items}
    stack, walk = [items[0]], []
    while stack:
        here = stack[-1]
        if unused[here]:
            stack.append(unused[here].pop())
        else:
            walk.append(stack.pop())
    return walk[::-1]


@pytest.fixture(scope="module")
def defaults(tmp_path_factory) -> dict[str, str]:
    """Each task's default prior entry, as its engine builds it on the 64 × 64 test image."""
    path = tmp_path_factory.mktemp("img") / "shapes.png"
    iio.imwrite(path, np.round(synthetic_image(64) * 255).astype(np.uint8))
    return {t: _key(build_task(t, str(path), module="none").settings["prior"]) for t in TASKS}


@pytest.fixture
def sample_window(window):
    """The window with the deblurring sample open (what a fresh start shows)."""
    assert window.load_problem(ProblemSpec("deblur"))
    window.solver_panel.set_variants(["fima"])
    return window


@pytest.fixture
def small_window(window, image_file):
    """The window with the 64 × 64 test image as a deblurring problem, module ``none``."""
    assert window.load_problem(ProblemSpec("deblur", str(image_file), {"module": "none"}))
    window.solver_panel.set_variants(["fima"])
    return window


# ---- each task's own default ------------------------------------------------------------------
def test_each_task_opens_with_the_prior_its_engine_builds(sample_window, dialogs):
    window = sample_window
    expected = {
        "mri": mri.DESCRIPTION.default_prior["name"],
        "lowlight": IlluminationBox.name,
        "derain": StreakPrior.name,
    }
    for task in TASKS:
        choose_task(window, task)
        assert dialogs == [], f"{task}: {dialogs}"
        shown = _assert_shown_is_built(window, task)
        assert shown == _key(build_task(task).settings["prior"]), task
        assert window.solver_panel.prior_combo.currentIndex() == 0, f"{task}: default not first"
        assert "prior" not in window.spec.options, f"{task}: a default was stored as a choice"
        if task in expected:
            assert shown == expected[task], task
            assert shown != "wavelet", task
    choose_task(window, "smooth")  # its default is ℓ0 on wavelets, shown as such
    assert window.solver_panel.prior() == "wavelet:p=0"
    assert window.setup.settings["prior"]["p"] == 0.0


def test_each_task_offers_its_own_priors_and_the_general_ones(sample_window):
    window = sample_window
    panel = window.solver_panel
    for task in TASKS:
        choose_task(window, task)
        offered = panel.prior_names()
        assert set(GENERAL) <= set(offered), task
        own = set(offered) & OWN_PRIORS
        assert own == {
            "lowlight": {"illumination_box"},
            "derain": {"streaks", "streaks:p=1"},
        }.get(task, set()), task
        tips = [panel.prior_combo.itemData(i, 3) for i in range(panel.prior_combo.count())]
        assert all(tips), task  # every entry says what it is
        assert "default" in tips[0], task


def test_every_offered_prior_builds_and_is_shown(small_window, dialogs):
    window = small_window
    for task in TASKS:
        choose_task(window, task)
        for key in window.solver_panel.prior_names():
            choose_prior(window, key)
            assert dialogs == [], f"{task}/{key}: {dialogs}"
            assert _assert_shown_is_built(window, f"{task}/{key}") == key


def test_the_wavelet_families_and_lp_are_offered_and_built(small_window, dialogs):
    """Haar, db4 and sym8, each with ℓ1 and the nonconvex ℓp (p = 0.5), wherever wavelets are."""
    window = small_window
    families = {
        "wavelet": ("haar", 1.0),
        "wavelet:p=0.5": ("haar", 0.5),
        "wavelet:wavelet=db4": ("db4", 1.0),
        "wavelet:p=0.5,wavelet=db4": ("db4", 0.5),
        "wavelet:wavelet=sym8": ("sym8", 1.0),
        "wavelet:p=0.5,wavelet=sym8": ("sym8", 0.5),
    }
    for task in TASKS:
        choose_task(window, task)
        assert set(families) <= set(window.solver_panel.prior_names()), task
    choose_task(window, "deblur")
    for key, (family, p) in families.items():
        choose_prior(window, key)
        built = window.setup.settings["prior"]
        assert (built["name"], built["wavelet"], built["p"]) == ("wavelet", family, p), key
        tip = window.solver_panel.prior_combo.itemData(
            window.solver_panel.prior_combo.currentIndex(), 3
        )
        assert ("Haar" if family == "haar" else family) in tip, (key, tip)
    assert dialogs == []


# ---- task switches ----------------------------------------------------------------------------
def test_the_shown_prior_is_the_built_one_after_every_switch_order(small_window, defaults):
    window = small_window
    walk = _every_ordered_pair(TASKS)
    assert len(walk) == len(TASKS) * (len(TASKS) - 1) + 1
    for task in walk:
        choose_task(window, task)
        assert _assert_shown_is_built(window, f"→ {task}") == defaults[task]
        assert "prior" not in window.spec.options


def test_chosen_priors_follow_the_carry_over_rule_in_every_switch_order(small_window, defaults):
    """At each task the user picks the next entry of its list, then switches on: a chosen general
    prior is kept (also where it is the new task's default), a task's own prior, a learned prior
    the new task does not offer, or a task's default is not."""
    window = small_window
    chosen: str | None = None  # what the user chose and is still in force
    for step, task in enumerate(_every_ordered_pair(TASKS)):
        choose_task(window, task)
        if chosen in OWN_PRIORS or chosen not in window.solver_panel.prior_names():
            chosen = None
        expected = chosen or defaults[task]
        assert _assert_shown_is_built(window, f"step {step} → {task}") == expected
        offered = window.solver_panel.prior_names()
        pick = offered[step % len(offered)]
        choose_prior(window, pick)
        if pick != expected:  # picking the entry already shown changes nothing
            chosen = None if pick == defaults[task] else pick
        assert _assert_shown_is_built(window, f"step {step} {task}: {pick}") == pick
        assert window.spec.options.get("prior") == chosen, f"{task}: {pick}"
    assert window.last_error is None


def test_a_tasks_own_prior_is_not_carried_to_another_task(small_window, defaults):
    window = small_window
    choose_task(window, "derain")
    choose_prior(window, "streaks:p=1")
    assert window.setup.settings["prior"]["p"] == 1.0
    choose_task(window, "deblur")
    assert _assert_shown_is_built(window, "deblur") == defaults["deblur"]
    assert not OWN_PRIORS & set(window.solver_panel.prior_names())
    choose_task(window, "derain")  # not remembered either: derain's default again
    assert _assert_shown_is_built(window, "derain") == "streaks"
    choose_task(window, "lowlight")
    assert _assert_shown_is_built(window, "lowlight") == "illumination_box"
    choose_task(window, "mri")
    assert _assert_shown_is_built(window, "mri") == defaults["mri"]


def test_a_chosen_general_prior_is_carried_everywhere(small_window):
    window = small_window
    choose_prior(window, "tv")
    for task in ("lowlight", "derain", "smooth", "mri", "denoise", "deblur"):
        choose_task(window, task)
        assert _assert_shown_is_built(window, task) == "tv", task


def test_choosing_a_tasks_default_is_not_a_choice(small_window, defaults):
    window = small_window
    choose_task(window, "mri")
    choose_prior(window, "wavelet")
    choose_prior(window, defaults["mri"])  # mri's default: back to "the task decides"
    assert "prior" not in window.spec.options
    choose_task(window, "deblur")
    assert _assert_shown_is_built(window, "deblur") == defaults["deblur"]


def test_a_sessions_default_prior_is_not_a_choice(small_window, image_file, tmp_path, defaults):
    window = small_window
    setup = build_task("lowlight", str(image_file), module="none")
    path = tmp_path / "lowlight.toml"
    save_session(path, Session(setup.settings, setup.parameters, {}, ["fima"], 5))
    assert window.files.load_session_file(path), window.last_error
    assert _assert_shown_is_built(window, "session") == "illumination_box"
    choose_task(window, "mri")
    assert _assert_shown_is_built(window, "mri") == defaults["mri"]

    chosen = build_task("deblur", str(image_file), module="none", prior="tv")
    path = tmp_path / "tv.toml"
    save_session(path, Session(chosen.settings, chosen.parameters, {}, ["fima"], 5))
    assert window.files.load_session_file(path), window.last_error
    assert _assert_shown_is_built(window, "session") == "tv"
    choose_task(window, "smooth")  # a prior the session chose is a choice
    assert _assert_shown_is_built(window, "smooth") == "tv"


# ---- downscale --------------------------------------------------------------------------------
def _downscale(window, factor: int) -> None:
    """Set the downscale box, as a user does (the value is committed on its own)."""
    window.problem_panel.downscale_spin.setValue(factor)


def test_the_downscale_box_shrinks_the_image_and_survives_task_switches(sample_window):
    window = sample_window
    spin = window.problem_panel.downscale_spin
    assert spin.toolTip() == "area-average the image by this factor before solving"
    assert spin.value() == 1 and spin.isVisibleTo(window.problem_panel)
    _downscale(window, 2)
    assert window.setup.settings["downscale"] == 2
    assert tuple(window.setup.problem.x0.shape[-2:]) == (SAMPLE_SIDE // 2,) * 2
    assert window.images.image("x").shape[:2] == (SAMPLE_SIDE // 2,) * 2
    for task in ("mri", "lowlight", "derain"):
        choose_task(window, task)
        assert spin.value() == 2, task
        assert window.setup.settings["downscale"] == 2, task
        assert tuple(window.setup.problem.x0.shape[-2:]) == (SAMPLE_SIDE // 2,) * 2, task
    _downscale(window, 4)
    assert tuple(window.setup.problem.x0.shape[-2:]) == (SAMPLE_SIDE // 4,) * 2
    assert window.images.image("observation").shape[:2] == (SAMPLE_SIDE // 4,) * 2
    _downscale(window, 1)
    assert "downscale" not in window.spec.options and "downscale" not in window.setup.settings
    assert tuple(window.setup.problem.x0.shape[-2:]) == (SAMPLE_SIDE,) * 2
    assert window.last_error is None


def test_a_downscale_leaving_too_few_pixels_is_refused(small_window, dialogs):
    window = small_window
    _downscale(window, 2)
    before = window.setup
    _downscale(window, 16)  # 64 / 16 = 4 pixels a side
    assert dialogs and "8×8" in dialogs[-1]
    assert window.setup is before
    assert window.problem_panel.downscale_spin.value() == 2


def test_the_downscale_is_saved_and_restored_with_the_session(sample_window, tmp_path):
    window = sample_window
    choose_task(window, "mri")
    _downscale(window, 4)
    path = tmp_path / "small.toml"
    assert window.files.save_session_file(path)
    assert tomllib.loads(path.read_text())["task"]["downscale"] == 4
    _downscale(window, 1)
    choose_task(window, "deblur")
    assert window.files.load_session_file(path), window.last_error
    assert window.spec.task == "mri"
    assert window.problem_panel.downscale_spin.value() == 4
    assert tuple(window.setup.problem.x0.shape[-2:]) == (SAMPLE_SIDE // 4,) * 2


# ---- too large for memory ---------------------------------------------------------------------
@pytest.fixture
def little_memory(monkeypatch):
    """Free memory that a 256² run with two variants and the default module does not fit in,
    but the same run on a 128² image does (the estimate's buffers are core.memory's)."""

    def set_free(free: int) -> None:
        monkeypatch.setattr(core.memory, "available_bytes", lambda: free)

    return set_free


def _needed(side: int, window) -> int:
    module = window.setup.settings["module"]
    return core.memory.estimate_run_bytes((1, 1, side, side), 2, module)


def test_a_problem_too_large_for_memory_is_offered_downscaled(sample_window, little_memory):
    window = sample_window
    window.solver_panel.set_variants(["fima", "pg"])
    free = int((_needed(SAMPLE_SIDE, window) + _needed(SAMPLE_SIDE // 2, window)) / 2 / 0.9)
    little_memory(free)
    offers = []

    def answer(shortfall):
        offers.append(shortfall)
        return "downscale"

    window.memory_dialog = answer
    choose_task(window, "mri")
    assert len(offers) == 1
    assert offers[0].needed == _needed(SAMPLE_SIDE, window) and offers[0].free == free
    assert offers[0].suggested == 2
    assert window.spec.task == "mri" and window.setup.settings["downscale"] == 2
    assert tuple(window.setup.problem.x0.shape[-2:]) == (SAMPLE_SIDE // 2,) * 2
    assert window.problem_panel.downscale_spin.value() == 2
    assert window.last_error is None


def test_cancelling_the_memory_dialog_keeps_the_previous_problem(sample_window, little_memory):
    window = sample_window
    before_setup, before_spec = window.setup, window.spec
    little_memory(MIB)
    offers = []
    window.memory_dialog = lambda shortfall: offers.append(shortfall) or "cancel"
    choose_task(window, "derain")
    assert len(offers) == 1
    assert window.setup is before_setup and window.spec is before_spec
    assert window.problem_panel.task_combo.currentText() == "deblur"
    assert window.solver_panel.prior() == _key(before_setup.settings["prior"])
    assert "memory" in window.statusBar().currentMessage()


def test_load_anyway_loads_the_full_size_problem(sample_window, little_memory):
    window = sample_window
    little_memory(MIB)
    window.memory_dialog = lambda _shortfall: "anyway"
    choose_task(window, "denoise")
    assert window.spec.task == "denoise"
    assert tuple(window.setup.problem.x0.shape[-2:]) == (SAMPLE_SIDE,) * 2


def test_the_memory_dialog_says_what_is_needed_and_offers_the_factor(
    qtbot, sample_window, little_memory
):
    window = sample_window
    window.solver_panel.set_variants(["fima", "pg"])
    needed = _needed(SAMPLE_SIDE, window)
    little_memory(int(needed / 3.5 / 0.9))  # needs a factor 2 … 4: ⌈√3.5⌉ = 2
    seen: dict[str, str] = {}

    def click_downscale() -> None:
        dialog = QApplication.activeModalWidget()
        assert isinstance(dialog, MemoryDialog)
        seen["text"] = dialog.text()
        seen["button"] = dialog.downscale_button.text()
        dialog.downscale_button.click()

    QTimer.singleShot(0, click_downscale)
    choose_task(window, "smooth")
    assert "needs about" in seen["text"] and "only" in seen["text"] and "free" in seen["text"]
    assert f"{needed / MIB:.0f} MiB" in seen["text"]
    assert seen["button"] == "Use downscale ÷ 2"
    assert window.spec.task == "smooth" and window.setup.settings["downscale"] == 2


def test_a_scripted_window_refuses_a_problem_too_large_for_memory(sample_window, little_memory):
    window = sample_window
    window.scripted = True
    before = window.setup
    little_memory(MIB)
    choose_task(window, "mri")
    assert window.setup is before
    assert "needs about" in window.last_error and "Downscale" in window.last_error


def test_ticking_more_variants_is_checked_again_at_run_start(sample_window, little_memory):
    """Loaded with two variants it fits; four do not: Run asks again, and cancel starts nothing."""
    window = sample_window
    window.solver_panel.set_variants(["fima", "pg"])
    choose_task(window, "mri")
    module = window.setup.settings["module"]
    four = core.memory.estimate_run_bytes((1, 1, SAMPLE_SIDE, SAMPLE_SIDE), 4, module)
    little_memory(int((_needed(SAMPLE_SIDE, window) + four) / 2 / 0.9))
    window.solver_panel.set_variants(["fima", "unchecked", "naive", "pg"])
    offers = []
    window.memory_dialog = lambda shortfall: offers.append(shortfall) or "cancel"
    assert not window.runner.start_run(running=False)
    assert len(offers) == 1 and window.runner.run is None
    window.memory_dialog = lambda shortfall: "downscale"
    assert window.runner.start_run(running=False)
    assert window.setup.settings["downscale"] >= 2 and window.runner.run is not None
