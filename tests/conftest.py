"""Shared test setup: Qt runs offscreen; GUI tests get isolated QSettings and no modal dialogs;
the device lane (``device``: cpu, and cuda where available)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# OpenMP threads that spin while they wait starve the GUI tests' worker threads on a small machine
# (a worker's convolution stalled for minutes in the full suite); before torch is first imported
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402

from tests.helpers import record_message_boxes  # noqa: E402

CUDA = torch.cuda.is_available()
DEVICES = ("cpu", pytest.param("cuda", marks=pytest.mark.skipif(not CUDA, reason="no CUDA device")))


@pytest.fixture(params=DEVICES)
def device(request) -> str:
    """The device lane: every core test that builds a problem runs on the CPU and on CUDA (that
    parameter is skipped, with its reason, where no CUDA device is available)."""
    return request.param


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests on the device lane (those taking ``device``) carry the ``device_lane`` marker."""
    for item in items:
        if "device" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.device_lane)


def _is_gui_test(request: pytest.FixtureRequest) -> bool:
    return request.node.path.name.startswith("test_gui")


@pytest.fixture(scope="session")
def qt_settings_dir(tmp_path_factory: pytest.TempPathFactory):
    """Point QSettings at a temporary folder so tests never touch the user's settings."""
    from PySide6.QtCore import QSettings

    folder = tmp_path_factory.mktemp("qsettings")
    QSettings.setDefaultFormat(QSettings.Format.IniFormat)
    QSettings.setPath(QSettings.Format.IniFormat, QSettings.Scope.UserScope, str(folder))
    return folder


@pytest.fixture(autouse=True)
def _gui_guard(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch):
    """For GUI tests: fresh isolated settings, error dialogs recorded instead of shown, and
    cycles collected by the GUI thread only (as in the application), all of them at the end."""
    if not _is_gui_test(request):
        yield []
        return
    request.getfixturevalue("qt_settings_dir")
    from gui.garbage_collection import collect_anywhere, collect_in_gui_thread

    collect_in_gui_thread(request.getfixturevalue("qapp"))
    request.addfinalizer(collect_anywhere)  # after qtbot closed the test's widgets
    from PySide6.QtCore import QSettings

    QSettings().clear()  # every GUI test starts from a fresh install
    shown = record_message_boxes(monkeypatch)
    from core.speed import slow_run_text
    from gui.run_checks import RunChecks

    def keep(_checks, slow) -> str:  # a slow-run offer is recorded too, and the size kept
        shown.append(slow_run_text(slow))
        return "keep"

    monkeypatch.setattr(RunChecks, "speed_dialog", keep)
    yield shown


@pytest.fixture
def dialogs(_gui_guard) -> list[str]:
    """Messages of the dialogs a GUI test made (they are recorded, not shown)."""
    return _gui_guard


def synthetic_image(size: int = 64) -> np.ndarray:
    """Piecewise-smooth shapes in [0, 1] (a disc and a bar on a ramp), float32 (size, size)."""
    yy, xx = np.mgrid[0:size, 0:size] / (size - 1)
    img = 0.2 + 0.3 * xx
    img = np.where((xx - 0.35) ** 2 + (yy - 0.4) ** 2 < 0.05, 0.85, img)
    img = np.where((xx > 0.6) & (xx < 0.9) & (yy > 0.55) & (yy < 0.85), 0.1, img)
    return img.astype(np.float32)


@pytest.fixture
def image_file(tmp_path):
    """A 64×64 grayscale PNG."""
    import imageio.v3 as iio

    path = tmp_path / "shapes.png"
    iio.imwrite(path, np.round(synthetic_image(64) * 255).astype(np.uint8))
    return path


@pytest.fixture
def window(qtbot, _gui_guard):
    """A real MainWindow (not shown); closing it at the end must stop and join every run."""
    from gui.main_window import MainWindow
    from gui.run.solver_run import detached_runs

    win = MainWindow()
    qtbot.addWidget(win)
    yield win
    run = win.runner.run
    win.close()
    assert win.runner.run is None
    if run is not None:
        assert not run.is_thread_running()
    assert not any(r.is_thread_running() for r in detached_runs())


GUI_TIMEOUT_MS = 30_000


def run_to_limit(qtbot, window, iterations: int) -> None:
    """Run the loaded problem for ``iterations`` iterations and pull everything into the window."""
    window.solver_panel.set_limit(iterations)
    assert window.runner.start_run()
    qtbot.waitUntil(lambda: window.runner.run_state() in ("limit", "ended"), timeout=GUI_TIMEOUT_MS)
    window.runner.refresh_now()


@pytest.fixture
def loaded(window, image_file):
    """The window with the 64×64 test image loaded as a deblurring problem with the TV module."""
    from gui.state.problem_spec import ProblemSpec

    assert window.load_problem(ProblemSpec("deblur", str(image_file), {"module": "tv"}))
    return window
