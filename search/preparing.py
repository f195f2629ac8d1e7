"""Documents analysed in worker processes for a rebuild, handed back in their order.

Analysing a document (search.analysis: folding, bigrams, stems, jieba's words) is most of a
Tantivy rebuild's time and pure Python, so a rebuild shares it out:

    preparers = Preparers(engine.prepare, workers=2, before_fork=load_jieba)
    try:
        writer = ...                               # after the fork
        for prepared in preparers.map(docs):
            writer.add_prepared(prepared)
    finally:
        preparers.close()

The parent keeps reading the catalog and writing the index; each worker gets a batch of
documents (plain dicts, which pickle cheaply) and sends back the prepared ones (plain dicts of
strings: the terms joined by spaces, not an object per token, which cost as much to unpickle
as to build: docs/PERFORMANCE.md). Order is kept, so the index is the one a single process
builds. At most a few batches per worker are in flight: memory stays flat however large the
catalog. The workers are forked before the caller starts Tantivy's writer threads, end with
the generator, and end quietly on Ctrl-C (archive.interrupts), which reaches the parent.
"""
from __future__ import annotations

import itertools
import multiprocessing
from collections.abc import Callable, Iterable, Iterator
from multiprocessing.pool import AsyncResult
from typing import Any

from archive.ordered import in_order

BATCH = 32  # documents a worker takes at a time
IN_FLIGHT = 3  # batches per worker sent ahead of the one being written

Prepare = Callable[[dict[str, Any]], dict[str, Any]]


def _prepare_batch(prepare: Prepare, docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [prepare(doc) for doc in docs]


class Preparers:
    """A pool of `workers` processes forked now (before the caller's writer threads exist;
    forking a process with threads running risks a child stuck on a lock one of them held),
    or none for one worker: then documents are prepared in this process."""

    def __init__(self, prepare: Prepare, workers: int, before_fork: Callable[[], None]):
        self.prepare = prepare
        self.workers = workers
        self.pool: Any = None
        if workers > 1:
            before_fork()  # what every worker needs loaded (jieba's dictionary): once, shared
            self.pool = multiprocessing.get_context("fork").Pool(workers)

    def map(self, docs: Iterable[dict[str, Any]]) -> Iterator[dict[str, Any]]:
        """The prepared documents, in the order of `docs`."""
        if self.pool is None:
            yield from map(self.prepare, docs)
            return
        it = iter(docs)
        batches = iter(lambda: list(itertools.islice(it, BATCH)), [])
        for _, pending in in_order(batches, self._submit, IN_FLIGHT * self.workers + 1):
            yield from pending.get()

    def _submit(self, batch: list[dict[str, Any]]) -> AsyncResult[list[dict[str, Any]]]:
        return self.pool.apply_async(_prepare_batch, (self.prepare, batch))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.terminate()
            self.pool.join()
            self.pool = None
