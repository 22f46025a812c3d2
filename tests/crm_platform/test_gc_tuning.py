"""Imports run with fewer collections, and leave the collector as they found it — also
when two run at once or one fails."""

from __future__ import annotations

import gc
import threading

import pytest

from crm_platform.gc_tuning import BULK_THRESHOLDS, fewer_collections


def test_thresholds_are_raised_while_work_runs_and_restored_by_the_last_one() -> None:
    before = gc.get_threshold()
    first_inside, second_done = threading.Event(), threading.Event()
    seen = {}

    def other() -> None:
        first_inside.wait(5)
        with fewer_collections():
            seen["other"] = gc.get_threshold()
        second_done.set()

    thread = threading.Thread(target=other)
    thread.start()
    with fewer_collections():
        first_inside.set()
        second_done.wait(5)
        seen["still"] = gc.get_threshold()   # the other import ended; this one has not
    thread.join(5)
    assert seen == {"other": BULK_THRESHOLDS, "still": BULK_THRESHOLDS}
    assert gc.get_threshold() == before and gc.isenabled()


def test_a_failing_import_restores_the_collector() -> None:
    before = gc.get_threshold()
    with pytest.raises(RuntimeError), fewer_collections():
        raise RuntimeError("bad file")
    assert gc.get_threshold() == before
