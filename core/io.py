"""Images, kernels and masks in and out: PNG/JPEG/BMP/GIF (imageio with Pillow; 16-bit PNG through
imagecodecs, grey or colour), TIFF (tifffile, compressed ones through imagecodecs), .npy, .mat.

Images come in as float32 tensors of shape (1, C, H, W) with values in [0, 1]: 8-bit and 16-bit
integers are scaled by their maximum, floats are kept as they are (and must be finite), alpha
channels are dropped, palette images are expanded. Every problem raises :class:`InputError` with a
one-line message fit for a user.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np
import torch

from .errors import first_line
from .fileio import atomic_write, atomic_write_bytes
from .resources import resources_dir

Tensor = torch.Tensor
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".tif", ".tiff", ".npy", ".mat")
MAX_PIXELS = 400_000_000  # refuse more than 400 Mpx outright (20000 × 20000); runs check memory
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
DAMAGED_KINDS = {".npy": "a NumPy array (.npy)", ".mat": "a MATLAB .mat file"}  # else "an image"


class InputError(ValueError):
    """A user-supplied file or value is unusable; the message says why in one line."""


def _read_array(path: Path) -> np.ndarray:
    suffix = path.suffix.lower()
    if suffix == ".npy":
        return np.load(path, allow_pickle=False)
    if suffix == ".mat":
        from scipy.io import loadmat

        data = loadmat(path)
        arrays = [
            v for k, v in data.items() if not k.startswith("__") and isinstance(v, np.ndarray)
        ]
        arrays = [a for a in arrays if a.ndim in (2, 3) and a.size > 1]
        if not arrays:
            raise InputError(f"{path.name}: no 2-D array found in the .mat file")
        return max(arrays, key=lambda a: a.size)
    if suffix in (".tif", ".tiff"):
        import tifffile  # compressed TIFFs (LZW, JPEG, …) decode through imagecodecs

        return tifffile.imread(path)
    if suffix == ".png" and _png_bit_depth(path) == 16:
        import imagecodecs  # Pillow reads 16-bit colour PNGs as 8-bit

        return imagecodecs.png_decode(path.read_bytes())
    import imageio.v3 as iio

    return iio.imread(path, plugin="pillow")


def _png_bit_depth(path: Path) -> int | None:
    """The bit depth a PNG file's header declares (None if the header is not a PNG's)."""
    with open(path, "rb") as handle:
        head = handle.read(26)  # signature (8), IHDR length and type (8), width, height, depth
    return head[24] if len(head) == 26 and head[:8] == PNG_SIGNATURE else None


def _unreadable(path: Path, exc: Exception) -> str:
    """The one-line message for a file its reader could not decode."""
    if isinstance(exc, PermissionError):
        return f"cannot read {path.name}: permission denied"
    text = first_line(exc)
    if "requires" in text:  # a codec the reader lacks: say which
        return f"cannot read {path.name}: {text[:160]}"
    if isinstance(exc, NotImplementedError) and path.suffix.lower() == ".mat":  # scipy: v7.3
        return f"cannot read {path.name}: MATLAB v7.3 (HDF5) files are not supported; save with -v7"
    kind = DAMAGED_KINDS.get(path.suffix.lower(), "an image")
    return f"cannot read {path.name}: the file is not {kind} or is damaged"


def read_array(path: str | Path) -> np.ndarray:
    """Read a file into a numpy array; any failure becomes an :class:`InputError`."""
    path = Path(path)
    if not path.exists():
        raise InputError(f"file not found: {path}")
    if path.is_dir():
        raise InputError(f"{path} is a folder, not a file")
    if path.stat().st_size == 0:
        raise InputError(f"{path.name} is empty")
    try:
        arr = np.asarray(_read_array(path))
        if arr.size == 0:  # e.g. a TIFF whose page table points nowhere
            raise InputError(f"cannot read {path.name}: the file is not an image or is damaged")
        return arr
    except InputError:
        raise
    except MemoryError as exc:
        raise InputError(f"{path.name} is too large to load into memory") from exc
    except Exception as exc:  # each reader has its own exception zoo: say it in our words
        raise InputError(_unreadable(path, exc)) from exc


def to_unit_range(arr: np.ndarray, name: str = "image") -> np.ndarray:
    """Integers scaled to [0, 1] by their type's maximum; floats checked finite; returns float32."""
    if arr.dtype == bool:
        return arr.astype(np.float32)
    if np.issubdtype(arr.dtype, np.integer):
        info = np.iinfo(arr.dtype)
        top = (
            255.0 if info.max <= 255 else (65535.0 if info.max <= 65535 else float(arr.max() or 1))
        )
        return (arr.astype(np.float64) / top).clip(0, None).astype(np.float32)
    if np.iscomplexobj(arr):
        arr = np.abs(arr)
    if not np.issubdtype(arr.dtype, np.floating):
        raise InputError(f"{name}: unsupported data type {arr.dtype}")
    if not np.isfinite(arr).all():
        raise InputError(f"{name} contains NaN or infinite values")
    return arr.astype(np.float32)


def image_to_tensor(arr: np.ndarray, name: str = "image", grayscale: bool | None = None) -> Tensor:
    """(H, W), (H, W, C) or (C, H, W) array → (1, C, H, W) float32 tensor; alpha dropped."""
    while arr.ndim > 3 and arr.shape[0] == 1:  # (1, H, W, C) / (1, 1, H, W) stacks of one
        arr = arr[0]
    if arr.ndim == 3 and arr.shape[-1] > 4 and arr.shape[0] == 1:
        arr = arr[0]
    if arr.ndim < 2:
        raise InputError(f"{name}: expected a 2-D image, got an array of shape {arr.shape}")
    if arr.ndim == 3 and arr.shape[0] in (1, 2, 3, 4) and arr.shape[-1] not in (1, 2, 3, 4):
        arr = np.moveaxis(arr, 0, -1)
    if arr.ndim == 2:
        arr = arr[..., None]
    if arr.ndim != 3:
        raise InputError(f"{name}: expected a 2-D image, got an array of shape {arr.shape}")
    if arr.shape[-1] in (2, 4):  # grey+alpha, RGBA: drop alpha
        arr = arr[..., :-1]
    if arr.shape[-1] not in (1, 3):
        raise InputError(f"{name}: {arr.shape[-1]} channels (expected 1, 3 or with alpha)")
    h, w = arr.shape[:2]
    if h < 8 or w < 8:
        raise InputError(f"{name} is {h}×{w} pixels; at least 8×8 is needed")
    if h * w > MAX_PIXELS:
        raise InputError(f"{name} is {h}×{w} pixels, over the {MAX_PIXELS // 1_000_000} Mpx limit")
    arr = to_unit_range(arr, name)
    if grayscale and arr.shape[-1] == 3:
        arr = arr @ np.array([0.2989, 0.587, 0.114], dtype=np.float32)
        arr = arr[..., None]
    return torch.from_numpy(np.ascontiguousarray(np.moveaxis(arr, -1, 0)[None]))


def load_image(path: str | Path, grayscale: bool | None = None) -> Tensor:
    """Read an image file as a (1, C, H, W) float32 tensor in [0, 1]."""
    path = Path(path)
    if path.suffix.lower() not in IMAGE_SUFFIXES:
        known = ", ".join(IMAGE_SUFFIXES)
        raise InputError(f"{path.name}: unsupported file type (use one of {known})")
    return image_to_tensor(read_array(path), path.name, grayscale)


def tensor_to_array(x: Tensor) -> np.ndarray:
    """(1, C, H, W) tensor → (H, W) or (H, W, C) float32 numpy array."""
    arr = x.detach().to("cpu", torch.float32).numpy()[0]
    return arr[0] if arr.shape[0] == 1 else np.moveaxis(arr, 0, -1)


def map_to_array(m: Tensor) -> np.ndarray:
    """(H, W) tensor (a per-pixel map such as the optimality error |d|) → float32 numpy array."""
    return m.detach().to("cpu", torch.float32).numpy()


def save_image(path: str | Path, x: Tensor | np.ndarray, bits: int = 8) -> None:
    """Write an image atomically: PNG (8 or 16 bit) / JPEG (8 bit), clipped to [0, 1]; TIFF/NPY float32."""
    path = Path(path)
    arr = tensor_to_array(x) if isinstance(x, torch.Tensor) else np.asarray(x, dtype=np.float32)
    suffix = path.suffix.lower()
    if suffix == ".npy":
        atomic_write(path, lambda tmp: np.save(tmp, arr))
        return
    if suffix in (".tif", ".tiff"):
        import tifffile

        atomic_write(path, lambda tmp: tifffile.imwrite(tmp, arr.astype(np.float32)))
        return
    clipped = np.nan_to_num(arr, nan=0.0).clip(0, 1)
    if bits == 16 and suffix == ".png":  # grey or colour, 16 bits a channel (Pillow has no RGB48)
        import imagecodecs

        data16 = np.ascontiguousarray(np.round(clipped * 65535).astype(np.uint16))
        atomic_write_bytes(path, imagecodecs.png_encode(data16))
        return
    import imageio.v3 as iio

    data = np.round(clipped * 255).astype(np.uint8)
    atomic_write(path, lambda tmp: iio.imwrite(tmp, data, extension=suffix))


def load_kernel(spec: str | Path, max_size: tuple[int, int] | None = None) -> np.ndarray:
    """A blur kernel from ``gauss:SIGMA``, ``levin:N`` (bundled, N = 1…8) or a file; sum 1, odd size."""
    from .operators import gaussian_kernel

    text = str(spec)
    if text.startswith("gauss:"):
        try:
            sigma = float(text.split(":", 1)[1])
        except ValueError as exc:
            raise InputError(f"bad kernel {text!r}: use gauss:SIGMA with SIGMA in pixels") from exc
        if not (math.isfinite(sigma) and 0 < sigma <= 50):
            raise InputError(f"bad kernel {text!r}: SIGMA must be in (0, 50] pixels")
        kernel = gaussian_kernel(sigma)
    elif text.startswith("levin:"):
        n = text.split(":", 1)[1]
        path = resources_dir() / "kernels" / f"levin_{n.zfill(2)}.npy"
        if not path.is_file():
            raise InputError(f"bad kernel {text!r}: Levin kernels are levin:1 … levin:8")
        kernel = np.load(path)
    else:
        if not Path(text).exists() and names_a_form(text):
            raise InputError(
                f"unknown kernel {text!r}: no such file, and {text.partition(':')[0]}: is not a "
                "kernel; use FILE, gauss:SIGMA or levin:N"
            )
        arr = read_array(Path(text))
        if np.iscomplexobj(arr):
            raise InputError("kernel: complex values are not a blur kernel")
        arr = np.squeeze(arr)
        if arr.ndim == 3:  # an RGB picture of a kernel
            arr = arr[..., :3].mean(axis=-1)
        kernel = arr.astype(np.float64)
    return validate_kernel(kernel, max_size)


def names_a_form(text: str) -> bool:
    """True for ``foo:3``-like text: NAME:VALUE (a name of ≥ 2 characters, no path separator)."""
    return re.fullmatch(r"[A-Za-z][\w-]+:[^/\\]*", text) is not None


def validate_kernel(kernel: np.ndarray, max_size: tuple[int, int] | None = None) -> np.ndarray:
    """Check a kernel (finite, ≥ 0, positive sum, fits the image); normalise to sum 1, make odd."""
    k = np.asarray(kernel, dtype=np.float64)
    if k.ndim != 2:
        raise InputError(f"kernel must be 2-D, got shape {k.shape}")
    if not np.isfinite(k).all():
        raise InputError("kernel contains NaN or infinite values")
    if (k < 0).any():
        raise InputError(f"kernel has negative entries (min {k.min():.3g}); a blur kernel is ≥ 0")
    if k.sum() <= 0:
        raise InputError("kernel sums to zero; a blur kernel must have a positive sum")
    pad = ((0, 1 - k.shape[0] % 2), (0, 1 - k.shape[1] % 2))
    k = np.pad(k, pad)  # even sizes get a zero row/column so the kernel has a centre pixel
    if max_size is not None and (k.shape[0] > max_size[0] or k.shape[1] > max_size[1]):
        raise InputError(f"kernel {k.shape[0]}×{k.shape[1]} is larger than the image {max_size}")
    return k / k.sum()
