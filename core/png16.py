"""16-bit colour PNG encoding, which Pillow cannot do: :func:`core.io.save_image` sends an (H, W, 3)
picture with ``bits=16`` here (RGB, 16 bits a channel); grey 16-bit PNGs go through imageio."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import numpy as np

from .fileio import atomic_write_bytes

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png16_bytes(rgb: np.ndarray) -> bytes:
    """A PNG file (RGB, 16 bits a channel) of an (H, W, 3) array in [0, 1] (clipped, NaN → 0)."""
    arr = np.nan_to_num(np.asarray(rgb, dtype=np.float32), nan=0.0).clip(0.0, 1.0)
    if arr.ndim != 3 or arr.shape[-1] != 3:
        raise ValueError(f"expected an (H, W, 3) picture, got shape {arr.shape}")
    height, width = arr.shape[:2]
    data = np.round(arr * 65535).astype(">u2").reshape(height, width * 3)
    rows = np.zeros((height, 1 + 6 * width), dtype=np.uint8)  # filter byte 0, then the row
    rows[:, 1:] = data.view(np.uint8).reshape(height, 6 * width)
    header = struct.pack(">IIBBBBB", width, height, 16, 2, 0, 0, 0)
    return (
        SIGNATURE
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", zlib.compress(rows.tobytes(), 6))
        + _chunk(b"IEND", b"")
    )


def write_png16(path: str | Path, rgb: np.ndarray) -> None:
    """Write an (H, W, 3) picture as a 16-bit RGB PNG, atomically."""
    atomic_write_bytes(path, png16_bytes(rgb))
