"""Iterate-history frames: memory touched ahead of time off the solver's thread, and large frames
in their own memory mappings so that thinning gives memory back.

Fresh memory is dear. Until the iterate history reaches its budget, every iterate it keeps is
memory the process never had: its first touch faults every page in. Measured on a 2-core VM
(pg with the wavelet prior at 128², 550 it/s), those faults cost about 200 µs per 64 KiB frame and
made the solver 17–22 % slower than the same loop without a history. A :class:`FrameReserve`
therefore keeps a few frames of the shape last asked for ready, allocated and touched by a thread
of its own (with the GIL released while it touches them), so the faults land on another core and
the solver only copies into memory that is already there. The reserve holds at most
``RESERVE_BYTES`` per shape (frames larger than that are made when asked, as before).

A long run keeps thousands of image-sized arrays alive for a while among the solver's short-lived
temporaries of the same size. Allocated by malloc, the frames end up in heap arenas between
temporaries; when the history thins, the holes they leave are seldom handed back to the system,
and the process slowly grows past the history's budget. A frame of at least ``MAPPED_MIN_BYTES``
is therefore copied into an anonymous mapping of its own, unmapped the moment the array is freed:
resident memory follows the history's byte count. (Mapping *every* large block instead, with
glibc's mallopt, costs the solver's temporaries 2–4× in page faults.)

``MAP_LARGE_FRAMES = False`` turns the mappings off (benchmarks/long_run.py compares both);
``USE_RESERVE = False`` makes every frame when it is asked for.
"""

from __future__ import annotations

import ctypes
import itertools
import math
import mmap
import threading
from collections import deque

import numpy as np

MAPPED_MIN_BYTES = 256 * 1024  # smaller frames stay with malloc (a mapping is whole pages)
MAP_LARGE_FRAMES = True
USE_RESERVE = True
RESERVE_BYTES = 8 * 2**20  # at most this much memory waits in the reserve, per shape
RESERVE_FRAMES = 32  # and at most this many frames per shape (about 60 ms of a fast run)
RESERVE_SHAPES = 4  # shapes kept ready (x^k and |d|; an RGB x differs from its map)


def new_frame(shape: tuple[int, ...]) -> np.ndarray:
    """An uninitialised float32 C-contiguous array of ``shape`` (large: in its own mapping)."""
    count = math.prod(shape)
    if not MAP_LARGE_FRAMES or count * 4 < MAPPED_MIN_BYTES:
        return np.empty(shape, dtype=np.float32)
    return np.frombuffer(mmap.mmap(-1, count * 4), dtype=np.float32, count=count).reshape(shape)


def touch(arr: np.ndarray) -> None:
    """Fault in every page of ``arr`` (zeroing it) without holding the GIL."""
    if arr.nbytes:
        ctypes.memset(arr.ctypes.data, 0, arr.nbytes)  # a ctypes call releases the GIL


def reserve_depth(nbytes: int) -> int:
    """How many frames of ``nbytes`` the reserve keeps ready (0: none, make them when asked)."""
    return min(RESERVE_FRAMES, RESERVE_BYTES // max(1, nbytes))


class FrameReserve:
    """Frames of the shapes last asked for (x^k and the |d| map: up to ``RESERVE_SHAPES``), made
    and touched ahead of time by a daemon thread.

    :meth:`take` never waits, and takes no lock once its shape is known: a lock the filling
    thread holds while it waits for the GIL would make the solver wait for both (measured: 15 µs
    a frame with a lock, 3 µs without). Frames move through a deque per shape, whose append and
    popleft are atomic. It hands out a ready frame, or None when there is none (the caller makes
    one). A shape not asked for lately is dropped with its frames."""

    def __init__(self) -> None:
        self._lock = threading.Lock()  # for the set of shapes only
        self._ready: dict[tuple[int, ...], deque[np.ndarray]] = {}
        self._depth: dict[tuple[int, ...], int] = {}
        self._asked: dict[tuple[int, ...], int] = {}  # shape → when last asked for
        self._clock = itertools.count()  # next() is atomic: the order shapes were asked for
        self._wanted = threading.Event()
        self._thread: threading.Thread | None = None
        self.taken = 0  # frames handed out (for tests and benchmarks)

    def take(self, shape: tuple[int, ...]) -> np.ndarray | None:
        """A ready frame of ``shape`` (contents undefined), or None; asks for more when low."""
        ready = self._ready.get(shape)
        if ready is None:
            return self._first_asked(tuple(int(n) for n in shape))
        self._asked[shape] = next(self._clock)
        try:
            frame = ready.popleft()
        except IndexError:
            frame = None
        else:
            self.taken += 1
        if len(ready) <= self._depth.get(shape, 0) // 2 and not self._wanted.is_set():
            self._wanted.set()
        return frame

    def _first_asked(self, shape: tuple[int, ...]) -> None:
        """Start keeping ``shape`` ready (dropping the shape asked for longest ago)."""
        depth = reserve_depth(math.prod(shape) * 4)
        if not depth:
            return None
        with self._lock:
            if shape not in self._ready:
                while len(self._ready) >= RESERVE_SHAPES:
                    self._drop(min(self._ready, key=lambda s: self._asked.get(s, -1)))
                self._depth[shape] = depth
                self._asked[shape] = next(self._clock)
                self._ready[shape] = deque()
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._fill_forever, name="fima-frame-reserve", daemon=True
                )
                self._thread.start()
        self._wanted.set()
        return None

    def _drop(self, shape: tuple[int, ...]) -> None:
        for table in (self._ready, self._depth, self._asked):
            table.pop(shape, None)

    def ready(self, shape: tuple[int, ...]) -> int:
        """Frames of ``shape`` waiting now."""
        return len(self._ready.get(tuple(shape), ()))

    def clear(self) -> None:
        """Give back every frame waiting."""
        with self._lock:
            for shape in list(self._ready):
                self._drop(shape)

    def _fill_forever(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            while self._fill_one():
                pass

    def _fill_one(self) -> bool:
        """Make one frame for the shape that lacks most; False when every shape is full."""
        with self._lock:
            missing = {s: self._depth.get(s, 0) - len(q) for s, q in self._ready.items()}
        shape = max(missing, key=missing.get, default=None)
        if shape is None or missing[shape] <= 0:
            return False
        frame = new_frame(shape)
        touch(frame)
        ready = self._ready.get(shape)
        if ready is not None:  # (else: dropped meanwhile, and this frame with it)
            ready.append(frame)
        return True


RESERVE = FrameReserve()


def frame_copy(arr: np.ndarray) -> np.ndarray:
    """A float32 C-contiguous copy of ``arr`` in memory already touched when the reserve has it;
    large ones live in their own memory mapping."""
    out = RESERVE.take(arr.shape) if USE_RESERVE else None
    if out is None:
        out = new_frame(arr.shape)
    np.copyto(out, arr, casting="unsafe")
    return out
