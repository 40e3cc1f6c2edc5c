"""The newest images of a pull, from the engine process to the window through shared memory.

Pickled through a pipe, the four pictures of a fima run at 1024² (4 MB each) cost the window's
thread about 22 ms a pull to receive, and the pull took 50 ms from request to reply (measured on a
busy 2-core machine): too slow for 24 pulls a second. So an image of at least
:data:`SHARED_MIN_BYTES` goes another way. When it answers a pull, the engine copies it into a
shared-memory block of the run (:class:`ImageExport`, made larger when a pull needs more) and
sends only where it lies (:class:`SharedImage`). The window copies it out at once
(:class:`ImageImport`), before it asks for the next pull, which is the only time the engine
writes the block. Smaller images travel in the pull itself.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from multiprocessing import shared_memory

import numpy as np

SHARED_MIN_BYTES = 256 * 1024  # a 256² float32 picture and up
ALIGN = 64  # bytes: each image starts on a cache line
POOL_SIZE = 8  # arrays kept per shape for the copies (four pictures a pull, and the last pull's)
FREE_REFERENCES = 2  # sys.getrefcount of an array only the pool holds (the pool, the argument)


@dataclass(frozen=True)
class SharedImage:
    """Where one image of a pull lies: the block's name, its offset, shape and dtype."""

    block: str
    offset: int
    shape: tuple[int, ...]
    dtype: str


Images = dict[str, dict[str, object]]  # variant → kind (x, u, u_tilde, d) → array, None or place


def _aligned(nbytes: int) -> int:
    return -(-nbytes // ALIGN) * ALIGN


class ImageExport:
    """The engine's side: a run's block, and the large images of each pull written into it."""

    def __init__(self) -> None:
        self._block: shared_memory.SharedMemory | None = None

    def pack(self, images: Images) -> Images:
        """``images`` with each large array written to the block and replaced by its place."""
        large = [
            (variant, kind, image)
            for variant, kinds in images.items()
            for kind, image in kinds.items()
            if isinstance(image, np.ndarray) and image.nbytes >= SHARED_MIN_BYTES
        ]
        if not large:
            return images
        try:
            block = self._block_of(sum(_aligned(image.nbytes) for _v, _k, image in large))
        except OSError:  # no shared memory here (a full or missing /dev/shm): in the pull, then
            return images
        packed = {variant: dict(kinds) for variant, kinds in images.items()}
        offset = 0
        for variant, kind, image in large:
            place = np.ndarray(image.shape, image.dtype, buffer=block.buf, offset=offset)
            np.copyto(place, image)
            del place  # no view may outlive the block (it could not be closed)
            packed[variant][kind] = SharedImage(block.name, offset, image.shape, image.dtype.str)
            offset += _aligned(image.nbytes)
        return packed

    def _block_of(self, size: int) -> shared_memory.SharedMemory:
        """The run's block, made anew (a quarter larger than asked) when it is too small."""
        if self._block is None or self._block.size < size:
            self.close()
            self._block = shared_memory.SharedMemory(create=True, size=size + size // 4)
        return self._block

    def close(self) -> None:
        """Free the block (the window copied what it read)."""
        if self._block is not None:
            self._block.close()
            self._block.unlink()
            self._block = None


class ImageImport:
    """The window's side: the engine's block attached, and each image copied out of it.

    Fresh memory is dear (its pages are faulted in at the first touch: copying four 2048² pictures
    took 15 ms into new arrays against 6 ms into old ones), so the copies go into arrays of the
    earlier pulls that nothing in the window holds any more, when there are such: an array is
    free when the pool's reference is its only one (a view, a panel or the state would hold
    another)."""

    def __init__(self) -> None:
        self._block: shared_memory.SharedMemory | None = None
        self._pool: dict[tuple, list[np.ndarray]] = {}  # (shape, dtype) → arrays handed out

    def unpack(self, images: Images) -> Images:
        """``images`` with each place replaced by a copy of the array that lies there."""
        places = [
            (variant, kind, place)
            for variant, kinds in images.items()
            for kind, place in kinds.items()
            if isinstance(place, SharedImage)
        ]
        if not places:
            return images
        unpacked = {variant: dict(kinds) for variant, kinds in images.items()}
        for variant, kind, place in places:
            try:
                block = self._attach(place.block)
            except OSError:  # the block went away: this pull shows no picture of that kind
                unpacked[variant][kind] = None
                continue
            dtype = np.dtype(place.dtype)
            view = np.ndarray(place.shape, dtype, buffer=block.buf, offset=place.offset)
            copy = self._free_array(place.shape, dtype)
            np.copyto(copy, view)
            del view
            unpacked[variant][kind] = copy
        return unpacked

    def _free_array(self, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
        """An array of the pool that nothing else holds, else a new one (kept in the pool)."""
        pool = self._pool.setdefault((tuple(shape), dtype.str), [])
        for index in range(len(pool)):
            if sys.getrefcount(pool[index]) <= FREE_REFERENCES:
                return pool[index]
        array = np.empty(shape, dtype)
        if len(pool) < POOL_SIZE:
            pool.append(array)
        return array

    def _attach(self, name: str) -> shared_memory.SharedMemory:
        """The block named ``name`` (the engine makes a new one when it grows)."""
        if self._block is None or self._block.name != name:
            self.close()
            self._block = shared_memory.SharedMemory(name=name)
        return self._block

    def close(self) -> None:
        """Detach from the block (the engine frees it); forget the pool."""
        self._pool.clear()
        if self._block is not None:
            self._block.close()
            self._block = None
