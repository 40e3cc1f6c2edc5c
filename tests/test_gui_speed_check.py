"""Issue 30 item 2: before a run on a large image the window times one iteration on a small copy
and, when the run would be slower than one iteration a second, offers the downscale that makes it
interactive — the user may keep the size, and is not asked again for the same problem and runs."""

from __future__ import annotations

import imageio.v3 as iio
import numpy as np
import pytest

import core.speed
import gui.run_checks
from gui.state.problem_spec import ProblemSpec

SLOW_S = 20.0  # the estimate the tests impose: 20 s an iteration at full size


@pytest.fixture
def photo(tmp_path):
    """A 400×400 grayscale image: above the size from which the window times a run."""
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:400, 0:400] / 400
    image = 0.5 + 0.3 * np.sin(8 * xx) * np.cos(6 * yy) + 0.05 * rng.standard_normal((400, 400))
    path = tmp_path / "photo.png"
    iio.imwrite(path, np.round(np.clip(image, 0, 1) * 255).astype(np.uint8))
    return path


@pytest.fixture
def slow(monkeypatch):
    """slow_run with the measured seconds replaced by SLOW_S × (pixels / full size); the calls."""
    calls: list[tuple[tuple[int, ...], tuple[str, ...]]] = []

    def imposed(setup, variants, downscale=1, seconds=None):
        calls.append((tuple(setup.problem.x0.shape[-2:]), tuple(variants)))
        scale = 1.0 / downscale**2
        return core.speed.slow_run(setup, variants, downscale, SLOW_S * scale)

    monkeypatch.setattr(gui.run_checks, "slow_run", imposed)
    return calls


def _spec(photo) -> ProblemSpec:
    return ProblemSpec("deblur", str(photo), {"module": "tv", "prior": "tv"})


def test_a_slow_run_is_offered_the_downscale_that_makes_it_interactive(window, photo, slow):
    offers = []
    window.checks.speed_dialog = lambda s: offers.append(s) or "downscale"
    assert window.load_problem(_spec(photo))
    assert len(offers) == 1
    assert offers[0].seconds == SLOW_S and offers[0].suggested == 5  # 20/25 ≤ 1 < 20/16
    assert window.spec.value("downscale") == 5
    assert tuple(window.setup.problem.x0.shape[-2:]) == (80, 80)
    assert len(slow) == 1  # the downscaled problem is small: not timed again


def test_keeping_the_size_is_asked_once_per_problem_and_runs(window, photo, slow):
    offers = []
    window.checks.speed_dialog = lambda s: offers.append(s) or "keep"
    assert window.load_problem(_spec(photo))
    assert len(offers) == 1 and window.spec.value("downscale") in (None, 1)
    assert tuple(window.setup.problem.x0.shape[-2:]) == (400, 400)
    assert window.run_fits(2)  # the same runs: not asked again (nor timed)
    assert len(offers) == 1 and len(slow) == 1
    window.solver_panel.set_variants(["fima", "naive", "pg"])  # more runs: asked again
    assert window.run_fits(3)
    assert len(offers) == 2 and slow[-1][1] == ("fima", "naive", "pg")
    assert "Kept: About 20 s per iteration" in window.statusBar().currentMessage()


def test_scripted_windows_say_the_estimate_and_refuse_nothing(window, photo, slow):
    window.scripted = True
    window.checks.speed_dialog = lambda s: pytest.fail("a scripted window never asks")
    assert window.load_problem(_spec(photo))
    assert tuple(window.setup.problem.x0.shape[-2:]) == (400, 400)
    assert window.statusBar().currentMessage().startswith("About 20 s per iteration")


def test_small_images_are_not_timed(window, image_file, slow):
    assert window.load_problem(ProblemSpec("deblur", str(image_file), {"module": "tv"}))
    assert slow == []


def test_a_fast_run_is_timed_for_real_and_asks_nothing(window, photo, monkeypatch):
    timed = []
    real = core.speed.slow_run
    monkeypatch.setattr(gui.run_checks, "slow_run", lambda *a, **k: timed.append(1) or real(*a))
    window.checks.speed_dialog = lambda s: pytest.fail(f"asked: {s}")
    fast = ProblemSpec("deblur", str(photo), {"module": "tv", "prior": "wavelet"})
    assert window.load_problem(fast)  # wavelet prior: ~0.3 s estimated (TV prior: 1.1–1.2 s here)
    assert timed == [1] and window.setup is not None
