"""Iterate movies: GIF (always) and MP4 (when imageio-ffmpeg is installed), with the iteration
number burnt into each frame. Written atomically."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from .fileio import atomic_write


def _to_uint8_rgb(image: np.ndarray) -> np.ndarray:
    arr = np.nan_to_num(np.asarray(image, dtype=np.float32)).clip(0, 1)
    if arr.ndim == 2:
        arr = np.repeat(arr[..., None], 3, axis=-1)
    return np.round(arr * 255).astype(np.uint8)


def burn_label(image: np.ndarray, text: str) -> np.ndarray:
    """An RGB uint8 frame with ``text`` in a dark box at the top-left corner."""
    frame = Image.fromarray(_to_uint8_rgb(image))
    draw = ImageDraw.Draw(frame)
    left, top, right, bottom = draw.textbbox((3, 2), text)
    draw.rectangle((0, 0, right + 3, bottom + 2), fill=(0, 0, 0))
    draw.text((3, 2), text, fill=(255, 255, 0))
    return np.asarray(frame)


def movie_frames(items: list[tuple[int, np.ndarray]], label: str = "k") -> list[np.ndarray]:
    """Frames with "label = k" burnt in, from (k, image) pairs."""
    return [burn_label(img, f"{label} = {k}") for k, img in items]


def mp4_available() -> bool:
    """True when imageio can write MP4 (imageio-ffmpeg installed)."""
    try:
        import imageio_ffmpeg  # noqa: F401
    except ImportError:
        return False
    return True


def write_movie(path: str | Path, items: list[tuple[int, np.ndarray]], fps: float = 10.0) -> None:
    """Write a GIF or MP4 (by suffix) of the (k, image) pairs, iteration numbers burnt in."""
    import imageio.v3 as iio

    path = Path(path)
    if not items:
        raise ValueError("no frames to write")
    frames = np.stack(movie_frames(items))
    suffix = path.suffix.lower()
    if suffix == ".gif":
        atomic_write(
            path,
            lambda tmp: iio.imwrite(tmp, frames, extension=".gif", duration=1000 / fps, loop=0),
        )
    elif suffix == ".mp4":
        if not mp4_available():
            raise ValueError("MP4 export needs the optional package imageio-ffmpeg; use .gif")
        h, w = frames.shape[1:3]
        frames = np.pad(frames, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)))  # even sizes for H.264
        atomic_write(path, lambda tmp: iio.imwrite(tmp, frames, extension=".mp4", fps=fps))
    else:
        raise ValueError(f"movie format {suffix or '(none)'} not supported: use .gif or .mp4")
