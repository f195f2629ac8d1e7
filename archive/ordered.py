"""A bounded in-order window over work handed to others (worker processes, a pool): submit
each task, take its results back in the order the tasks came, with at most `window` in flight.
Enough in flight keeps every worker busy; few enough keeps memory flat however many tasks
there are. Ingest (ingest/workers.py) and the search index's preparers (search/preparing.py)
both keep order this way: walk order in, walk order out.

    list(in_order([1, 2, 3], lambda n: n * 10, window=2))  -> [(1, 10), (2, 20), (3, 30)]
"""
from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
P = TypeVar("P")


def in_order(tasks: Iterable[T], submit: Callable[[T], P], window: int) -> Iterator[tuple[T, P]]:
    """(task, what `submit(task)` returned: a future, an AsyncResult) in the order of `tasks`,
    each yielded once `window` tasks (at least 1) are in flight, or when the tasks end. The
    caller waits on the pending result it is given; the next tasks are submitted after."""
    in_flight: deque[tuple[T, P]] = deque()
    for task in tasks:
        in_flight.append((task, submit(task)))
        while len(in_flight) >= max(1, window):
            yield in_flight.popleft()
    while in_flight:
        yield in_flight.popleft()
