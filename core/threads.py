"""Torch threads for every entry point, and OpenMP's passive wait.

On a small machine that is busy with something else (the explorer's window, another process), torch's
OpenMP threads that wait for a core spin and slow every parallel region down many times (measured on
2 busy cores: ``fima run`` pg 1.8 s/it with torch's default two threads, 0.45 s/it with one). So every
entry point — ``fima run``, ``fima denoise`` and the explorer — runs torch on the usable cores − 1
(at least 1), and OpenMP's idle threads sleep instead of spinning (``OMP_WAIT_POLICY=PASSIVE``). The
wait policy is read when torch loads its OpenMP runtime, so :func:`wait_passively` runs in
``core/__init__.py`` before anything there imports torch; a value the user set is kept. Study cells
run one thread each (``core.study.cells``). This module never imports torch at import time.
"""

from __future__ import annotations

import os

WAIT_POLICY = "PASSIVE"


def wait_passively() -> None:
    """Set ``OMP_WAIT_POLICY=PASSIVE`` unless the environment already says otherwise."""
    os.environ.setdefault("OMP_WAIT_POLICY", WAIT_POLICY)


def usable_cores() -> int:
    """The number of CPU cores this process may run on (its affinity, else the machine's)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def default_threads() -> int:
    """Torch threads an entry point uses: the usable cores − 1, at least 1."""
    return max(1, usable_cores() - 1)


def choose_threads(threads: int | None = None) -> int:
    """Set torch's threads: ``threads``, else :func:`default_threads` unless OMP_NUM_THREADS is set.

    Returns the number torch then uses.
    """
    import torch

    if threads is None and os.environ.get("OMP_NUM_THREADS"):
        return torch.get_num_threads()  # the user's own choice
    wanted = max(1, int(threads if threads is not None else default_threads()))
    if torch.get_num_threads() != wanted:
        torch.set_num_threads(wanted)
    return torch.get_num_threads()


def threads_text(device: str, threads: int) -> str:
    """``cpu, 1 torch thread`` (or ``cuda``): where a command computed."""
    if str(device).startswith("cuda"):
        return str(device)
    return f"{device}, {threads} torch thread{'s' if threads != 1 else ''}"
