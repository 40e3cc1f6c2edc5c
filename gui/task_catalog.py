"""What the explorer reads from a task's module: the module itself and its builder's options."""

from __future__ import annotations

import importlib
import inspect
from functools import cache


def task_module(task: str):
    """``core.tasks.<task>``, or None when it cannot be imported (the window stays up)."""
    try:
        return importlib.import_module(f"core.tasks.{task}")
    except Exception:  # a task still being written must not take the window down
        return None


@cache
def task_options(task: str) -> dict[str, object]:
    """The options task ``task``'s builder accepts, with their defaults (image excluded)."""
    builder = getattr(task_module(task), "build", None)
    if builder is None:
        return {}
    return {
        name: (None if p.default is inspect.Parameter.empty else p.default)
        for name, p in inspect.signature(builder).parameters.items()
        if name != "image"
    }
