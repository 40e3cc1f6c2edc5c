"""One thread's CPU time and context switches, from Linux's ``/proc/self/task/<tid>``.

The window's benchmarks (``gui.py``) use it to split what the window costs the solver into its
parts: the solver's own extra CPU time (user: copies and bookkeeping; system: the kernel's side of
each hand-off of Python's GIL) and the time it waits, asleep, for the GIL — one voluntary context
switch a wait. Elsewhere than on Linux every figure is None.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from pathlib import Path

TASKS = Path("/proc/self/task")


@dataclass(frozen=True)
class ThreadStats:
    """A thread's counters since it started: CPU seconds (user, system), context switches."""

    user_s: float
    system_s: float
    voluntary: int  # it went to sleep: a lock, the GIL, an event, I/O
    involuntary: int  # the scheduler took its core

    @property
    def cpu_s(self) -> float:
        """User + system CPU seconds."""
        return self.user_s + self.system_s

    def __sub__(self, other: ThreadStats) -> ThreadStats:
        return ThreadStats(
            self.user_s - other.user_s,
            self.system_s - other.system_s,
            self.voluntary - other.voluntary,
            self.involuntary - other.involuntary,
        )


def _tasks(pid: int | None) -> Path:
    """The threads' folder of process ``pid`` (None: this one)."""
    return TASKS if pid is None else Path(f"/proc/{pid}/task")


def read(tid: int, pid: int | None = None) -> ThreadStats | None:
    """The counters of thread ``tid`` of process ``pid`` (None: this one; None back: gone, or
    not Linux)."""
    try:
        stat = (_tasks(pid) / str(tid) / "stat").read_text()
        status = (_tasks(pid) / str(tid) / "status").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()  # after the name, which may hold spaces
    tick = os.sysconf("SC_CLK_TCK")
    counts = dict(line.split(":\t") for line in status.splitlines() if "ctxt_switches" in line)
    return ThreadStats(
        int(fields[11]) / tick,
        int(fields[12]) / tick,
        int(counts["voluntary_ctxt_switches"]),
        int(counts["nonvoluntary_ctxt_switches"]),
    )


def process_cpu_s(pid: int | None = None) -> float | None:
    """CPU seconds (user + system) of every thread process ``pid`` (None: this one) has run so
    far, ended ones included (None: gone, or not Linux)."""
    try:
        stat = Path(f"/proc/{pid or 'self'}/stat").read_text()
    except OSError:
        return None
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own() -> ThreadStats | None:
    """The calling thread's counters."""
    return read(threading.get_native_id())


def named(name: str, pid: int | None = None) -> dict[int, ThreadStats]:
    """Every live thread of process ``pid`` (None: this one) whose kernel name is ``name`` (Qt
    names its threads so, and the explorer's engine process its solvers; the kernel keeps 15
    characters), by thread id."""
    found: dict[int, ThreadStats] = {}
    tasks = _tasks(pid)
    if not tasks.is_dir():
        return found
    for entry in tasks.iterdir():
        try:
            comm = (entry / "comm").read_text().strip()
        except OSError:
            continue
        if comm == name[:15] and (stats := read(int(entry.name), pid)) is not None:
            found[int(entry.name)] = stats
    return found
