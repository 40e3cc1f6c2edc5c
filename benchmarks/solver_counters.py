"""Where the window's solver runs and what it costs, from Linux's counters (``benchmarks/gui.py``).

The explorer's solver runs in its engine process (``gui/run/engine_process.py``), or in a QThread
of the window's process with ``FIMA_ENGINE=thread``; either way its thread carries the kernel name
``fima-solver``. These helpers start the engine before the timed runs, find the solver threads in
both processes, add up both processes' CPU time, and print what a window run cost the solver
against the headless loop (its extra CPU, its time asleep, its voluntary switches).
"""

from __future__ import annotations

import thread_stats

from gui.run.engine_child import SOLVER_THREAD


def start_engine() -> str:
    """Start the explorer's engine process before the timed runs, as the explorer does once its
    window is up (its imports are not an iteration's cost); where the window's solver runs, in
    words."""
    from gui.run import engine_process

    if not engine_process.process_engine_wanted():
        return "a thread of the window's process"
    child = engine_process.engine()
    if not child.ready.wait(120):
        raise SystemExit("benchmark: the engine process did not start")
    return f"the engine process (pid {child.pid})"


def _engine_pid() -> int | None:
    from gui.run import engine_process

    child = engine_process.running_engine()
    return child.pid if child is not None else None


def solver_threads() -> dict[int, thread_stats.ThreadStats]:
    """The solver threads by id: the window's own, and those of its engine process if it runs."""
    found = thread_stats.named(SOLVER_THREAD)
    pid = _engine_pid()
    if pid is not None:
        found.update(thread_stats.named(SOLVER_THREAD, pid))
    return found


def processes_cpu_s() -> float:
    """CPU seconds of this process and of the engine process, if one runs (Linux; else 0)."""
    pid = _engine_pid()
    pids = [None] + ([pid] if pid is not None else [])
    return sum(thread_stats.process_cpu_s(p) or 0.0 for p in pids)


def print_solver(
    seconds: float,
    solver: thread_stats.ThreadStats | None,
    processes_s: float | None,
    iters: int,
    loop: thread_stats.ThreadStats | None,
) -> None:
    """Where a window run's extra time went: the solver thread's counters over the ``seconds``
    it took, against the headless loop's, and what both processes spent beside it."""
    if solver is None or loop is None or loop.cpu_s <= 0:  # counted in 10 ms clock ticks
        return
    asleep = max(0.0, seconds - solver.cpu_s)
    print(
        f"    solver thread: CPU {solver.cpu_s:.2f} s (user {solver.user_s:.2f}, system "
        f"{solver.system_s:.2f}) against the headless loop's {loop.cpu_s:.2f} s "
        f"({100 * (solver.cpu_s / loop.cpu_s - 1):+.1f} %); asleep {asleep:.2f} s "
        f"({100 * asleep / seconds:.1f} % of the window's time); voluntary switches "
        f"{solver.voluntary / iters:.2f} an iteration (headless {loop.voluntary / iters:.2f})"
    )
    if processes_s:  # what else ran meanwhile, on the other cores: it slows them too
        beside = processes_s - solver.cpu_s
        print(
            f"    beside the solver, the window's and the engine's processes used {beside:.2f} s "
            f"of CPU ({100 * beside / seconds:.1f} % of a core)"
        )
