"""Regression tests for floods of payload-free signals (the PySide6 6.12 refcount crash).

A worker thread notifies a bound slot of a GUI-thread object tens of thousands of times, as the
solver worker would over a long run; and a plain ``Signal.emit`` loop runs in the GUI thread.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QObject, QThread, Signal, Slot

from gui.run.solver_worker import RunSpec, SolverWorker

WORKER_NOTIFICATIONS = 20_000
DIRECT_EMITS = 30_000


class Pinger(QObject):
    """Emits ``ping`` (no payload) ``count`` times from its own thread."""

    ping = Signal()
    done = Signal()

    def __init__(self, count: int) -> None:
        super().__init__()
        self.count = count

    @Slot()
    def run(self) -> None:
        for _ in range(self.count):
            self.ping.emit()
        self.done.emit()


class Counter(QObject):
    """A GUI-thread receiver with bound-method slots."""

    def __init__(self) -> None:
        super().__init__()
        self.pings = 0
        self.finished = False

    @Slot()
    def on_ping(self) -> None:
        self.pings += 1

    @Slot()
    def on_done(self) -> None:
        self.finished = True


def test_twenty_thousand_worker_notifications(qtbot):
    pinger, counter, thread = Pinger(WORKER_NOTIFICATIONS), Counter(), QThread()
    pinger.moveToThread(thread)
    thread.started.connect(pinger.run)
    pinger.ping.connect(counter.on_ping)
    pinger.done.connect(counter.on_done)
    thread.start()
    try:
        qtbot.waitUntil(lambda: counter.finished, timeout=60_000)
        qtbot.waitUntil(lambda: counter.pings == WORKER_NOTIFICATIONS, timeout=60_000)
    finally:
        thread.quit()  # the pinger's loop has returned: quit + wait is safe now
        thread.wait()
    assert counter.pings == WORKER_NOTIFICATIONS


class _FakeRecord:
    """Just enough of core.trace.Iteration for the worker."""

    def __init__(self, k: int, x) -> None:
        self.k, self.x, self.u, self.u_tilde, self.diverged = k, x, None, None, False
        self.d_map = None  # no check was judged: no optimality-error map

    def row(self) -> dict:
        return {"k": self.k, "variant": "fake"}


class Puller(QObject):
    """Pulls from the worker on every notification, as the window's refresh does."""

    def __init__(self, worker: SolverWorker) -> None:
        super().__init__()
        self.worker = worker
        self.notifications = 0
        self.rows = 0
        self.limit_seen = False

    @Slot()
    def on_data(self) -> None:
        self.notifications += 1
        self.rows += sum(len(r) for r in self.worker.take_update().rows.values())

    @Slot()
    def on_limit(self) -> None:
        self.limit_seen = True


CHILD = "FIMA_SIGNALS_CHILD"


def test_solver_worker_twenty_thousand_iterations(qtbot, monkeypatch):
    """The real worker loop, 20,000 fast iterations, pulled after every notification.

    Run in a fresh interpreter: late in the full suite (after ~180 GUI tests in one process) this
    test once stalled with both threads idle (worker in a tensor's .numpy(), GUI thread in
    qtbot.waitUntil) — state left by earlier tests, under investigation; alone it always passes.
    """
    if os.environ.get(CHILD) != "1":
        test_id = f"{Path(__file__).resolve()}::test_solver_worker_twenty_thousand_iterations"
        env = {**os.environ, CHILD: "1", "QT_QPA_PLATFORM": "offscreen"}
        done = subprocess.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", test_id],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-2000:]
        return
    import torch

    import gui.run.solver_worker

    x = torch.zeros(1, 1, 4, 4)

    def fake_iterate(problem, module, timeline, variant, **options):
        k = 0
        while True:
            yield _FakeRecord(k, x)
            k += 1

    monkeypatch.setattr(gui.run.solver_worker, "iterate", fake_iterate)
    worker = SolverWorker(RunSpec(None, None, None, ("fima",), WORKER_NOTIFICATIONS))
    puller, thread = Puller(worker), QThread()
    worker.moveToThread(thread)
    thread.started.connect(worker.run)
    worker.dataReady.connect(puller.on_data)
    worker.limitReached.connect(puller.on_limit)
    worker.resume()
    thread.start()
    try:
        qtbot.waitUntil(lambda: puller.limit_seen, timeout=120_000)
        puller.on_data()  # collect the tail
    finally:
        worker.cancel()
        assert worker.wait_returned(30)
        thread.quit()
        thread.wait()
    assert worker.row_count("fima") == WORKER_NOTIFICATIONS
    assert puller.rows == WORKER_NOTIFICATIONS
    assert 1 <= puller.notifications <= WORKER_NOTIFICATIONS + 1


def test_thirty_thousand_direct_emits(qtbot):
    pinger, counter = Pinger(DIRECT_EMITS), Counter()
    pinger.ping.connect(counter.on_ping)
    pinger.done.connect(counter.on_done)
    pinger.run()
    assert counter.pings == DIRECT_EMITS
    assert counter.finished
