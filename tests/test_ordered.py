"""archive.ordered.in_order, the bounded in-order window ingest's workers and the search index's
preparers share: order kept, never more than `window` tasks in flight, every task yielded."""
from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor

import pytest

from archive.ordered import in_order


def test_docstring_example():
    assert list(in_order([1, 2, 3], lambda n: n * 10, window=2)) == [(1, 10), (2, 20), (3, 30)]


@pytest.mark.parametrize("window", [-1, 0, 1, 2, 5, 100])
def test_at_most_window_in_flight_and_every_task_once(window):
    submitted: list[int] = []
    seen: list[int] = []
    for task, pending in in_order(range(20), lambda n: submitted.append(n) or n, window):
        assert pending == task
        seen.append(task)
        # submitted but not yet given back: this one included, never more than the window
        assert len(submitted) - len(seen) + 1 <= max(1, window)
    assert seen == submitted == list(range(20))


def test_nothing_in_nothing_out():
    assert list(in_order([], lambda n: n, 3)) == []


def test_results_come_back_in_task_order_whatever_order_workers_finish_in():
    import time

    def slow_first(n: int) -> int:
        time.sleep(0.05 if n % 3 == 0 else 0)
        return n * n

    with ThreadPoolExecutor(4) as pool:
        def submit(n: int) -> Future[int]:
            return pool.submit(slow_first, n)
        out = [(task, future.result()) for task, future in in_order(range(12), submit, 4)]
    assert out == [(n, n * n) for n in range(12)]
