"""Isolated extraction: each file is parsed in a worker process with a time limit and an
address-space cap, so a hang, a segfault or a memory blow-up costs one file, not the run.

pebble supervises the processes: it kills a worker whose task passes its timeout, reports a
worker that died as ProcessExpired, and starts a replacement. Workers ignore Ctrl-C; the
parent decides what an interrupt means.
"""
from __future__ import annotations

import logging
import multiprocessing
import resource
import signal
import warnings
from concurrent.futures import Future, TimeoutError as FutureTimeout
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from pebble import ProcessExpired, ProcessPool


T = TypeVar("T")


def _init_worker(memory_mb: int) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # Parsers chatter about every oddity of hostile files; what matters reaches the report.
    logging.disable(logging.CRITICAL)
    warnings.simplefilter("ignore")
    if memory_mb > 0:
        cap = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (cap, cap))


@dataclass(frozen=True)
class WorkerFailure:
    """Why a worker produced no Extraction for a file."""
    stage: str
    reason: str


def failure_of(exc: BaseException, timeout: float, memory_mb: int) -> WorkerFailure:
    if isinstance(exc, FutureTimeout):
        return WorkerFailure("extract", f"timed out: parsing took longer than {timeout:g} s "
                                        "(the worker was stopped)")
    if isinstance(exc, ProcessExpired):
        return WorkerFailure("extract", f"the parser crashed (worker exit code {exc.exitcode})")
    if isinstance(exc, MemoryError):
        return WorkerFailure("extract", f"the parser ran out of memory (cap {memory_mb} MB)")
    if isinstance(exc, OSError):
        return WorkerFailure("read", f"cannot read the file: {exc.strerror or exc}")
    return WorkerFailure("extract", f"worker error: {type(exc).__name__}: {exc}")


class WorkerPool:
    """A pool of isolated workers. Use as a context manager; submit() returns a Future whose
    result is the function's, or raises (see failure_of)."""

    def __init__(self, jobs: int, timeout: float, memory_mb: int):
        self.timeout = timeout
        self.memory_mb = memory_mb
        # forkserver: workers fork from a clean process that has imported the parsers once,
        # never from the parent with its database connections and progress-bar thread.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["ingest.extract", "media.derivatives"])
        self._pool = ProcessPool(max_workers=max(1, jobs), max_tasks=1000,
                                 initializer=_init_worker, initargs=(memory_mb,),
                                 context=context)

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        return self._pool.schedule(fn, args=args, timeout=self.timeout)

    def failure(self, exc: BaseException) -> WorkerFailure:
        return failure_of(exc, self.timeout, self.memory_mb)

    def close(self, cancel: bool = False) -> None:
        if cancel:
            self._pool.stop()
        else:
            self._pool.close()
        self._pool.join()

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:  # type: ignore[no-untyped-def]
        self.close(cancel=exc_type is not None)
