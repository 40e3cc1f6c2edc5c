"""The frame reserve (gui.run.allocator): history frames made and touched ahead of time."""

from __future__ import annotations

import mmap
import threading
import time

import numpy as np
import pytest

from gui.run import allocator
from gui.run.allocator import FrameReserve, frame_copy, reserve_depth, touch


def _wait_ready(reserve: FrameReserve, shape: tuple[int, ...], count: int) -> None:
    deadline = time.monotonic() + 10.0
    while reserve.ready(shape) < count:
        assert time.monotonic() < deadline, f"the reserve never held {count} frames of {shape}"
        time.sleep(0.005)


def _owner(arr: np.ndarray):
    while isinstance(arr, np.ndarray) and arr.base is not None:
        arr = arr.base
    return arr.obj if isinstance(arr, memoryview) else arr


def test_reserve_hands_out_distinct_frames_once_filled():
    reserve = FrameReserve()
    shape = (64, 64)
    assert reserve.take(shape) is None  # nothing asked for before: the thread starts filling
    depth = reserve_depth(64 * 64 * 4)
    _wait_ready(reserve, shape, depth)
    frames = [reserve.take(shape) for _ in range(depth)]
    assert all(f is not None and f.shape == shape and f.dtype == np.float32 for f in frames)
    assert all(f.flags["C_CONTIGUOUS"] and f.flags["WRITEABLE"] for f in frames)
    assert len({f.ctypes.data for f in frames}) == depth  # no two share memory
    assert reserve.taken == depth
    _wait_ready(reserve, shape, depth)  # taking refills it


def test_take_never_waits_for_the_filling_thread():
    reserve = FrameReserve()
    shape = (16, 16)
    reserve.take(shape)
    _wait_ready(reserve, shape, 2)
    taken: list[np.ndarray | None] = []
    with reserve._lock:  # held, as by the filling thread while it waits for the GIL
        solver = threading.Thread(target=lambda: taken.append(reserve.take(shape)))
        solver.start()
        solver.join(5.0)
        assert not solver.is_alive(), "take() waited for the reserve's lock"
    assert taken[0] is not None and taken[0].shape == shape


def test_reserve_keeps_the_shapes_asked_for_lately():
    reserve = FrameReserve()
    shapes = [(8, 8 + i) for i in range(allocator.RESERVE_SHAPES + 1)]
    for shape in shapes[:-1]:
        reserve.take(shape)
    _wait_ready(reserve, shapes[0], 1)
    reserve.take(shapes[-1])  # one shape too many: the one asked for longest ago goes
    assert reserve.ready(shapes[0]) == 0
    _wait_ready(reserve, shapes[-1], 1)
    reserve.clear()
    assert all(reserve.ready(shape) == 0 for shape in shapes)


def test_frames_larger_than_the_reserve_are_made_when_asked():
    side = int(np.sqrt(allocator.RESERVE_BYTES / 4)) + 1
    assert reserve_depth(side * side * 4) == 0
    reserve = FrameReserve()
    assert reserve.take((side, side)) is None
    assert reserve.ready((side, side)) == 0


@pytest.mark.parametrize("shape", [(32, 32), (300, 300, 3)])
def test_frame_copy_from_the_reserve_equals_its_input(shape):
    rng = np.random.default_rng(1)
    source = rng.random(shape)  # float64: the copy is float32
    frame_copy(source)  # asks the reserve for this shape
    _wait_ready(allocator.RESERVE, shape, 1)
    before = allocator.RESERVE.taken
    copies = [frame_copy(source[..., ::-1]) for _ in range(2)]  # a strided view
    assert allocator.RESERVE.taken > before
    for copy in copies:
        assert copy.dtype == np.float32 and copy.flags["C_CONTIGUOUS"]
        np.testing.assert_array_equal(copy, source[..., ::-1].astype(np.float32))
    assert copies[0].ctypes.data != copies[1].ctypes.data
    large = np.prod(shape) * 4 >= allocator.MAPPED_MIN_BYTES
    assert isinstance(_owner(copies[0]), mmap.mmap) == large  # large frames: own mapping


def test_touch_zeroes_every_byte():
    arr = np.full((17, 19), 7.0, dtype=np.float32)
    touch(arr)
    assert not arr.any()
