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
    count = int(np.prod(shape))
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

    :meth:`take` never waits: it hands out a ready frame, or None when there is none (the caller
    makes one). A shape not asked for lately is dropped with its frames."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready: dict[tuple[int, ...], deque[np.ndarray]] = {}  # oldest asked for first
        self._wanted = threading.Event()
        self._thread: threading.Thread | None = None
        self.taken = 0  # frames handed out (for tests and benchmarks)

    def take(self, shape: tuple[int, ...]) -> np.ndarray | None:
        """A ready frame of ``shape`` (contents undefined), or None; asks for more either way."""
        shape = tuple(int(n) for n in shape)
        depth = reserve_depth(int(np.prod(shape)) * 4)
        if not depth:
            return None
        with self._lock:
            ready = self._ready.pop(shape, None)
            if ready is None:
                ready = deque()
                while len(self._ready) >= RESERVE_SHAPES:
                    del self._ready[next(iter(self._ready))]
            self._ready[shape] = ready  # now the newest asked for
            frame = ready.popleft() if ready else None
            low = len(ready) <= depth // 2
            if frame is not None:
                self.taken += 1
        if low:
            self._start()
            self._wanted.set()
        return frame

    def ready(self, shape: tuple[int, ...]) -> int:
        """Frames of ``shape`` waiting now."""
        with self._lock:
            return len(self._ready.get(tuple(shape), ()))

    def clear(self) -> None:
        """Give back every frame waiting."""
        with self._lock:
            self._ready.clear()

    def _start(self) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._fill_forever, name="fima-frame-reserve", daemon=True
                )
                self._thread.start()

    def _fill_forever(self) -> None:
        while True:
            self._wanted.wait()
            self._wanted.clear()
            while self._fill_one():
                pass

    def _fill_one(self) -> bool:
        """Make one frame for the shape that lacks most; False when every shape is full."""
        with self._lock:
            missing = {
                shape: reserve_depth(int(np.prod(shape)) * 4) - len(ready)
                for shape, ready in self._ready.items()
            }
        shape = max(missing, key=missing.get, default=None)
        if shape is None or missing[shape] <= 0:
            return False
        frame = new_frame(shape)
        touch(frame)
        with self._lock:
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
