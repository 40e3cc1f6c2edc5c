"""torch's float32 settings and the device, as benchmarks/gpu.py records them in its header."""

from __future__ import annotations

import platform

import torch


def _read(getter) -> object:
    """A setting's value, or the error reading it raised (torch refuses some mixes of its APIs)."""
    try:
        value = getter()
    except Exception as exc:  # noqa: BLE001 - a setting that cannot be read is reported, not fatal
        return f"unreadable ({type(exc).__name__})"
    return value if isinstance(value, bool | int | float | str) or value is None else str(value)


def torch_settings() -> dict[str, object]:
    """torch's float32 precision switches as they stand now (legacy and new APIs, each guarded)."""
    backends = torch.backends
    return {
        "cudnn.allow_tf32": _read(lambda: backends.cudnn.allow_tf32),
        "cuda.matmul.allow_tf32": _read(lambda: backends.cuda.matmul.allow_tf32),
        "float32_matmul_precision": _read(torch.get_float32_matmul_precision),
        "cudnn.conv.fp32_precision": _read(lambda: backends.cudnn.conv.fp32_precision),
        "cuda.matmul.fp32_precision": _read(lambda: backends.cuda.matmul.fp32_precision),
        "fp32_precision": _read(lambda: backends.fp32_precision),
        "mkldnn.fp32_precision": _read(lambda: backends.mkldnn.fp32_precision),
        "cudnn.benchmark": _read(lambda: backends.cudnn.benchmark),
        "cudnn.deterministic": _read(lambda: backends.cudnn.deterministic),
    }


def enable_tf32() -> list[str]:
    """Turn TF32 on for cuDNN convolutions and matmuls; the problems met, if any (each guarded)."""
    problems = []
    for what, action in (
        ("cudnn.allow_tf32", lambda: setattr(torch.backends.cudnn, "allow_tf32", True)),
        ("cuda.matmul.allow_tf32", lambda: setattr(torch.backends.cuda.matmul, "allow_tf32", True)),
    ):
        try:
            action()
        except Exception as exc:  # noqa: BLE001
            problems.append(f"{what}: {type(exc).__name__}: {exc}")
    return problems


def device_description(device: torch.device) -> dict[str, object]:
    """What the run ran on: torch, Python, and the GPU's name, memory and libraries on CUDA."""
    info: dict[str, object] = {
        "torch": torch.__version__,
        "python": platform.python_version(),
        "device": str(device),
        "threads": torch.get_num_threads(),
    }
    if device.type == "cuda":
        info["gpu"] = _read(lambda: torch.cuda.get_device_name(device))
        info["gpu_memory_gib"] = _read(
            lambda: round(torch.cuda.get_device_properties(device).total_memory / 2**30, 1)
        )
        info["cuda"] = _read(lambda: torch.version.cuda)
        info["cudnn"] = _read(torch.backends.cudnn.version)
    else:
        info["cpu"] = platform.processor() or platform.machine()
    return info
