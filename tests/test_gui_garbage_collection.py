"""Cycles are collected by the GUI thread only: Qt objects destroyed in a worker thread deadlock.

(The suite hung in CI and here: a worker's allocation set off a collection that destroyed an old
window's Qt objects in the solver thread.)"""

from __future__ import annotations

import gc
import threading

from gui.garbage_collection import GuiThreadCollector, collect_anywhere, collect_in_gui_thread


def _garbage_cycle(freed: list[int]) -> None:
    """Leave one unreachable cycle whose finaliser records the thread that collected it."""

    class Cycle:
        def __init__(self) -> None:
            self.me = self

        def __del__(self) -> None:
            freed.append(threading.get_ident())

    Cycle()


def _allocate_in_a_worker_thread() -> list[dict]:
    """Allocate far past the youngest generation's threshold in another thread (and keep it:
    freeing it would take the generation's count back under its threshold)."""
    kept: list[dict] = []

    def allocate() -> None:
        kept.extend({} for _ in range(20 * gc.get_threshold()[0]))

    worker = threading.Thread(target=allocate)
    worker.start()
    worker.join()
    return kept


def test_a_worker_thread_never_collects_the_gui_threads_garbage(qtbot, qapp):
    collector = collect_in_gui_thread(qapp)  # as the application does once it has settled
    assert collector.is_active() and not gc.isenabled()
    freed: list[int] = []
    _garbage_cycle(freed)
    kept = _allocate_in_a_worker_thread()
    assert freed == []  # the worker allocated, but did not collect
    qtbot.waitUntil(lambda: bool(freed), timeout=5_000)  # the GUI thread's timer did
    assert freed == [threading.get_ident()]
    assert collector.collections[0] >= 1
    del kept


def test_without_it_the_worker_thread_collects(qtbot, qapp):
    """The hazard the collector removes: Python collects in whichever thread allocates."""
    collect_anywhere()
    assert gc.isenabled()
    freed: list[int] = []
    _garbage_cycle(freed)
    _allocate_in_a_worker_thread()
    assert len(freed) == 1 and freed[0] != threading.get_ident()


def test_stop_collects_and_gives_collection_back(qapp):
    collector = GuiThreadCollector()
    collect_anywhere()  # the shared one (started for every GUI test) is off for this test
    collector.start()
    assert not gc.isenabled()
    freed: list[int] = []
    _garbage_cycle(freed)
    collector.stop()
    assert freed == [threading.get_ident()]
    assert gc.isenabled() and not collector.is_active()


def test_the_oldest_generation_over_its_threshold_is_collected(qapp):
    collector = GuiThreadCollector()
    gc.collect()  # every count back to zero
    assert collector.collect_due() == -1
    keep = [[] for _ in range(2 * gc.get_threshold()[0])]  # young objects, over the threshold
    assert collector.collect_due() == 0
    assert collector.collections == [1, 0, 0]
    del keep


def test_the_application_hands_collection_to_its_gui_thread(qapp):
    from gui.app import settle_garbage_collector

    collect_anywhere()
    settle_garbage_collector()
    try:
        assert not gc.isenabled()
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_only_the_gui_thread_may_take_collection_over(qapp):
    errors: list[str] = []

    def take_over() -> None:
        try:
            collect_in_gui_thread(qapp)
        except RuntimeError as exc:
            errors.append(str(exc))

    worker = threading.Thread(target=take_over)
    worker.start()
    worker.join()
    assert errors and "GUI thread" in errors[0]
