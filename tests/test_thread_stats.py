"""benchmarks/thread_stats.py: one thread's CPU time and context switches, read from Linux."""

from __future__ import annotations

import importlib.util
import sys
import threading
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "thread_stats.py"
pytestmark = pytest.mark.skipif(
    not Path("/proc/self/task").is_dir(), reason="thread counters come from Linux's /proc"
)


def _load():
    spec = importlib.util.spec_from_file_location("benchmark_thread_stats", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # its dataclass looks itself up there
    spec.loader.exec_module(module)
    return module


stats = _load()


def test_a_thread_that_sleeps_switches_voluntarily_and_one_that_spins_spends_cpu():
    found = {}

    def sleeper() -> None:
        before = stats.own()
        for _ in range(5):
            time.sleep(0.002)
        found["sleeper"] = stats.own() - before

    def spinner() -> None:
        before = stats.own()
        end = time.thread_time() + 0.15
        while time.thread_time() < end:
            pass
        found["spinner"] = stats.own() - before

    for target in (sleeper, spinner):
        thread = threading.Thread(target=target)
        thread.start()
        thread.join()
    assert found["sleeper"].voluntary >= 5  # each sleep gives its core up
    assert found["spinner"].cpu_s >= 0.1  # clock ticks are 10 ms: 0.15 s shows as ≥ 0.1
    assert found["sleeper"].cpu_s < found["spinner"].cpu_s


def test_threads_are_found_by_their_kernel_name_and_a_gone_one_reads_none():
    from PySide6.QtCore import QThread

    thread = QThread()
    thread.setObjectName("fima-stats-test-thread")  # Qt gives the kernel its first 15 characters
    thread.start()
    try:
        deadline = time.monotonic() + 5
        while not (named := stats.named("fima-stats-test-thread")) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert len(named) == 1
        (tid,) = named
        assert stats.read(tid) is not None
    finally:
        thread.quit()
        thread.wait()
    assert stats.read(tid) is None  # the thread has ended
    assert stats.named("no-such-thread") == {}


def test_a_process_counts_the_cpu_of_its_threads_and_another_process_is_found_by_pid():
    import subprocess

    before = stats.process_cpu_s()
    done = time.thread_time() + 0.05
    while time.thread_time() < done:  # 50 ms of CPU in this thread
        pass
    assert stats.process_cpu_s() - before >= 0.03  # counted in clock ticks of 10 ms
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert stats.process_cpu_s(child.pid) is not None
        assert stats.named("no-such-thread", child.pid) == {}
    finally:
        child.kill()
        child.wait()
    assert stats.process_cpu_s(child.pid) is None
