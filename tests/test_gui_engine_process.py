"""The engine process (gui/run/engine_process.py): the window's solver in a child process, with the
same results, controls, live edits and history as in a thread, and a clear way out when it can't."""

from __future__ import annotations

import functools
import os
import pickle
import signal
from multiprocessing import shared_memory

import numpy as np
import pytest
import torch

from core import ParameterTimeline, build_task
from core.history import IterateHistory
from gui.run import engine_process
from gui.run.engine_process import ENGINE_ENV
from gui.run.process_run import ProcessRun
from gui.run.runs import new_run
from gui.run.shared_images import SHARED_MIN_BYTES, ImageExport, ImageImport, SharedImage
from gui.run.solver_run import SolverRun
from gui.run.solver_worker import RunSpec
from tests.conftest import GUI_TIMEOUT_MS, run_to_limit

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="the engine tests need POSIX")


def _columns(window, variant: str, *names: str) -> list[tuple]:
    return [tuple(row[n] for n in names) for row in window.runner.history.rows(variant)]


def test_the_run_is_computed_in_another_process_as_a_thread_computes_it(qtbot, loaded, monkeypatch):
    window = loaded
    run_to_limit(qtbot, window, 6)
    run = window.runner.run
    assert isinstance(run, ProcessRun)
    child = engine_process.running_engine()
    assert child is not None and child.pid != os.getpid()
    in_process = {v: _columns(window, v, "k", "objective", "psnr") for v in run.variants}
    assert all(len(rows) == 6 for rows in in_process.values())
    fima = [objective for _k, objective, _p in in_process["fima"]]
    assert all(b <= a * (1 + 1e-6) for a, b in zip(fima, fima[1:], strict=False))  # Ψ monotone
    monkeypatch.setenv(ENGINE_ENV, "thread")
    run_to_limit(qtbot, window, 6)
    assert isinstance(window.runner.run, SolverRun)
    in_thread = {v: _columns(window, v, "k", "objective", "psnr") for v in run.variants}
    for variant, rows in in_thread.items():  # the same torch threads: the same numbers
        np.testing.assert_allclose(rows, in_process[variant], rtol=1e-6)


def test_controls_edits_and_the_history_reach_the_engine_and_come_back(qtbot, loaded):
    window = loaded
    runner = window.runner
    window.solver_panel.set_limit(10_000)
    runner.step_run()
    worker = runner.run.worker
    qtbot.waitUntil(
        lambda: worker.row_count("pg") == 1 and worker.is_idle(), timeout=GUI_TIMEOUT_MS
    )
    assert runner.run_state() == "paused" and not runner.run.is_running()
    window.parameter_panel.spin("C").setValue(0.25)
    runner.step_run()
    qtbot.waitUntil(
        lambda: worker.row_count("pg") == 2 and worker.is_idle(), timeout=GUI_TIMEOUT_MS
    )
    runner.refresh_now()
    # the edit went down to the engine's timeline, and the iteration it started at came back
    assert window.state.timeline.changes == {1: {"C": 0.25}}
    assert [row["C"] for row in runner.history.rows("fima")][1] == 0.25
    # the scrubber reads the engine's iterate history: x⁰ (the window's) and both iterates
    iterates = window.scrubber.iterates
    assert iterates.iterations("fima") == [0, 1, 2]
    k, newest = iterates.get("fima", 5)
    assert k == 2 and np.array_equal(newest, runner.latest_x["fima"])
    assert iterates.get("fima", 0)[1].shape == newest.shape
    assert iterates.variants() == ["fima", "pg"] and iterates.stored_bytes > 0
    # the limit, then a free run to it
    window.solver_panel.set_limit(4)
    runner.toggle_run()
    qtbot.waitUntil(lambda: runner.run_state() == "limit", timeout=GUI_TIMEOUT_MS)
    assert worker.row_count("fima") == 4 and worker.at_limit()


def test_an_engine_error_is_reported_and_the_window_goes_on(qtbot, loaded, dialogs):
    window = loaded
    problem = window.setup.problem
    owner, name = (
        (problem.fidelity, "prox") if problem.learned else (problem.prior, "prox_with_value")
    )
    setattr(owner, name, functools.partial(divmod, 1))  # picklable, and fails when called
    try:
        window.solver_panel.set_limit(5)
        window.runner.start_run()
        assert isinstance(window.runner.run, ProcessRun)
        qtbot.waitUntil(lambda: window.runner.run_state() == "error", timeout=GUI_TIMEOUT_MS)
        assert window.last_error.startswith("The solver stopped: TypeError: ")
    finally:
        delattr(owner, name)  # the class's own method again
    window.runner.toggle_run()
    qtbot.waitUntil(lambda: window.runner.run_state() == "limit", timeout=GUI_TIMEOUT_MS)
    window.runner.refresh_now()  # the last rows may still be on their way to the window
    assert window.runner.history.count("fima") == 5 and window.runner.run_state() == "limit"


def test_a_killed_engine_ends_the_run_with_an_error_and_the_next_run_starts_another(
    qtbot, loaded, dialogs
):
    window = loaded
    window.solver_panel.set_limit(100_000)
    window.runner.start_run()
    qtbot.waitUntil(lambda: window.runner.history.count("pg") >= 1, timeout=GUI_TIMEOUT_MS)
    old = engine_process.running_engine()
    os.kill(old.pid, signal.SIGKILL)
    qtbot.waitUntil(lambda: window.runner.run_state() == "error", timeout=GUI_TIMEOUT_MS)
    assert window.last_error == "The solver stopped: the engine process stopped (exit code -9)"
    run_to_limit(qtbot, window, 3)
    assert window.runner.history.count("fima") == 3
    assert engine_process.running_engine().pid != old.pid


def test_a_network_that_cannot_be_pickled_runs_in_a_thread_and_says_why(qtbot, _gui_guard):
    setup = build_task("deblur", None, module="tv")
    setup.module.hook = lambda x: x  # a closure: no pickle for it
    spec = RunSpec(setup.problem, setup.module, ParameterTimeline(setup.parameters), ("pg",), 2)
    run, why = new_run(spec)
    try:
        assert isinstance(run, SolverRun)
        assert why.startswith("The solver runs in the window's process: it cannot be sent")
    finally:
        run.stop()


def test_the_thread_engine_is_kept_on_request(qtbot, _gui_guard, monkeypatch):
    monkeypatch.setenv(ENGINE_ENV, "thread")
    setup = build_task("deblur", None, module="tv")
    spec = RunSpec(setup.problem, setup.module, ParameterTimeline(setup.parameters), ("pg",), 2)
    run, why = new_run(spec)
    assert isinstance(run, SolverRun) and why is None
    run.stop()


@pytest.mark.parametrize("task", ["deblur", "denoise", "mri", "smooth", "lowlight", "derain"])
def test_every_task_can_be_sent_to_the_engine(task):
    setup = build_task(task, None, downscale=4)
    problem, module = pickle.loads(pickle.dumps((setup.problem, setup.module)))
    assert torch.equal(problem.x0, setup.problem.x0)
    assert problem.objective(problem.x0) == setup.problem.objective(setup.problem.x0)
    assert type(module) is type(setup.module)


def test_a_timeline_sent_to_the_engine_records_edits_and_gives_them_back():
    from core import Parameters

    window_side = ParameterTimeline(Parameters(), {3: {"C": 0.2}})
    sent: list[dict] = []
    window_side.forward_to(sent.append)
    engine_side = pickle.loads(pickle.dumps(window_side))
    assert engine_side.changes == {3: {"C": 0.2}}
    for k in range(5):
        engine_side.at(k)
    window_side.submit(mu=0.9)
    assert sent == [{"mu": 0.9}]  # forwarded as the window accepted it
    engine_side.submit(**sent[0])
    engine_side.at(5)
    window_side.restore(engine_side.snapshot())
    assert window_side.changes == {3: {"C": 0.2}, 5: {"mu": 0.9}}
    assert window_side.pending == {} and window_side.in_force(5).mu == 0.9


def test_the_history_hands_its_frames_over():
    history = IterateHistory()
    x0, d1 = np.zeros((4, 4), np.float32), np.ones((4, 4), np.float32)
    history.add("fima", 0, x0)
    history.add("fima", 1, d1, kind="d")
    assert [(v, k, kind) for v, k, _image, kind in history.frames()] == [
        ("fima", 0, "x"),
        ("fima", 1, "d"),
    ]


@pytest.mark.filterwarnings("ignore:`torch.jit:DeprecationWarning")
def test_a_torchscript_network_travels_with_its_weights(tmp_path):
    from core.modules.torchscript import TorchScriptDenoiser

    path = tmp_path / "net.pt"
    torch.jit.save(torch.jit.script(torch.nn.Conv2d(1, 1, 3, padding=1).eval()), str(path))
    denoiser = TorchScriptDenoiser(path)
    copy = pickle.loads(pickle.dumps(denoiser))
    path.unlink()  # the copy carries the network itself, not the file's name
    x = torch.rand(1, 1, 8, 8)
    assert torch.equal(copy(x, 0.1), denoiser(x, 0.1))


def test_large_images_come_through_shared_memory_and_equal_the_engines(qtbot, window, tmp_path):
    import imageio.v3 as iio

    from gui.state.problem_spec import ProblemSpec
    from tests.conftest import synthetic_image

    path = tmp_path / "large.png"  # 320² float32: 400 KB a picture, over SHARED_MIN_BYTES
    iio.imwrite(path, np.round(synthetic_image(320) * 255).astype(np.uint8))
    assert window.load_problem(ProblemSpec("deblur", str(path), {"module": "tv"}))
    seen: list[SharedImage] = []
    original = ImageImport.unpack

    def unpack(self, images):
        seen.extend(p for kinds in images.values() for p in kinds.values() if p is not None)
        return original(self, images)

    ImageImport.unpack = unpack
    try:
        run_to_limit(qtbot, window, 3)
    finally:
        ImageImport.unpack = original
    assert seen and all(isinstance(place, SharedImage) for place in seen)
    newest = window.runner.latest_x["fima"]
    assert newest.shape == (320, 320) and newest.flags.owndata  # a copy: the block is reused
    k, kept = window.scrubber.iterates.get("fima", 3)
    assert k == 3 and np.array_equal(newest, kept)


def test_a_pull_packs_large_images_into_one_block_and_unpacks_copies():
    export, imports = ImageExport(), ImageImport()
    big = np.arange(SHARED_MIN_BYTES // 4 + 7, dtype=np.float32).reshape(1, -1)
    small = np.ones((4, 4), np.float32)
    try:
        packed = export.pack({"fima": {"x": big, "u": big[:, ::-1].copy(), "d": small, "v": None}})
        x, u = packed["fima"]["x"], packed["fima"]["u"]
        assert isinstance(x, SharedImage) and x.block == u.block and u.offset >= big.nbytes
        assert packed["fima"]["d"] is small and packed["fima"]["v"] is None  # in the pull itself
        got = imports.unpack(packed)["fima"]
        assert np.array_equal(got["x"], big) and np.array_equal(got["u"], big[:, ::-1])
        first = x.block
        larger = np.zeros((3, big.size), np.float32)  # more than the block holds: a new one
        assert export.pack({"pg": {"x": larger}})["pg"]["x"].block != first
        with pytest.raises(FileNotFoundError):
            shared_memory.SharedMemory(name=first)  # the old block is gone
    finally:
        imports.close()
        export.close()


def test_copies_go_into_arrays_nothing_else_holds():
    export, imports = ImageExport(), ImageImport()
    big = np.ones((1, SHARED_MIN_BYTES // 4), np.float32)
    try:
        first = imports.unpack(export.pack({"fima": {"x": big}}))["fima"]["x"]
        held = first[:, :4]  # a view: the window still shows the first pull
        second = imports.unpack(export.pack({"fima": {"x": big * 2}}))["fima"]["x"]
        assert second is not first and np.array_equal(held, big[:, :4])  # not overwritten
        first_id = id(first)  # it lives on in the pool
        del first, held
        third = imports.unpack(export.pack({"fima": {"x": big * 3}}))["fima"]["x"]
        assert id(third) == first_id  # free again: the copy went into it
        assert np.array_equal(third, big * 3) and np.array_equal(second, big * 2)
    finally:
        imports.close()
        export.close()


def test_without_shared_memory_the_pictures_travel_in_the_pull(monkeypatch):
    import gui.run.shared_images as shared_images

    def no_room(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(shared_images.shared_memory, "SharedMemory", no_room)
    big = np.ones((1, SHARED_MIN_BYTES // 4), np.float32)
    images = {"fima": {"x": big}}
    assert ImageExport().pack(images) is images
    lost = SharedImage("gone", 0, big.shape, big.dtype.str)
    assert ImageImport().unpack({"fima": {"x": lost, "d": None}}) == {
        "fima": {"x": None, "d": None}
    }
