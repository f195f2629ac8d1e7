"""Isolated work: each file is handled in a worker process with a time limit and an
address-space cap, so a hang, a segfault or a memory blow-up costs one file, not the run; and
the one bounded, ordered window over the workers that ingest and derive share.

pebble supervises the processes: it kills a worker whose task passes its timeout, reports a
worker that died as ProcessExpired, and starts a replacement. Workers ignore Ctrl-C; the
parent decides what an interrupt means: a KeyboardInterrupt is never caught here, so it stops
the window and reaches the command, and no file is blamed for it.

`InProcess` is the sequential mode (`--jobs 0`, `--debug`, tests): the same calls, run one by
one in this process, without time limit or memory cap, so a debugger and tracebacks work.
"""
from __future__ import annotations

import functools
import logging
import multiprocessing
import resource
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from concurrent.futures import wait as wait_for_futures
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

from archive import ordered
from archive.interrupts import sigint_raises
from media.problems import MediaProblem

T = TypeVar("T")
R = TypeVar("R")
DEFAULT = object()  # "the runner's own time limit", as opposed to None: no limit


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
    """Why a worker produced no result for a file."""
    stage: str
    reason: str


@dataclass(frozen=True)
class Outcome(Generic[R]):
    """A finished task: its value, or why there is none."""
    value: R | None = None
    failure: WorkerFailure | None = None


def failure_of(exc: Exception, timeout: float, memory_mb: int) -> WorkerFailure:
    """What a failed task means for its file.

    failure_of(FutureTimeout(), 120, 2048).reason -> "timed out: parsing took longer than 120 s …"
    failure_of(ProcessExpired("x", 139), …).reason -> "the parser crashed (worker exit code 139)"
    failure_of(FileNotFoundError(2, "No such file"), …) -> WorkerFailure("read", "cannot read …")
    """
    if isinstance(exc, FutureTimeout):
        return WorkerFailure("extract", f"timed out: parsing took longer than {timeout:g} s "
                                        "(the worker was stopped)")
    pebble = sys.modules.get("pebble")  # imported when a pool starts; none, no crash
    if pebble is not None and isinstance(exc, pebble.ProcessExpired):
        return WorkerFailure("extract", f"the parser crashed (worker exit code {exc.exitcode})")
    if isinstance(exc, MemoryError):
        return WorkerFailure("extract", f"the parser ran out of memory (cap {memory_mb} MB)")
    if isinstance(exc, OSError):
        return WorkerFailure("read", f"cannot read the file: {exc.strerror or exc}")
    if isinstance(exc, MediaProblem):
        return WorkerFailure("extract", str(exc))
    return WorkerFailure("extract", f"worker error: {type(exc).__name__}: {exc}")


class Runner(Protocol):
    """Where tasks run: a pool of isolated workers, or this process (sequential mode)."""

    def submit(self, fn: Callable[..., T], *args: Any, timeout: Any = DEFAULT) -> Future[T]: ...

    def outcome(self, future: Future[T]) -> Outcome[T]: ...

    def __enter__(self) -> Runner: ...

    def __exit__(self, *exc: object) -> None: ...


class _Interrupts:
    """Ctrl-C while the workers run: the signal handler only notes it, and KeyboardInterrupt
    is raised at the next safe point (while waiting for a task, between files), never inside
    the pool's or the database driver's own code, where it could leave a lock held and hang
    the command on its way out. A Ctrl-C the process was told to ignore stays ignored."""

    requested = False
    _installed: object = None

    @classmethod
    def install(cls) -> None:
        cls.requested = False
        # ingest and ocr replace Python's handler with archive.interrupts' (for the children
        # libraries fork): that one must be taken over too, or a Ctrl-C lands in the middle
        # of a batch's commit.
        if threading.current_thread() is threading.main_thread() and sigint_raises():
            cls._installed = signal.signal(signal.SIGINT, cls._note)

    @classmethod
    def restore(cls) -> None:
        if cls._installed is not None:
            signal.signal(signal.SIGINT, cls._installed)  # type: ignore[arg-type]
            cls._installed = None

    @classmethod
    def _note(cls, signum: int, frame: object) -> None:
        cls.requested = True


def check_interrupt() -> None:
    """A safe point: raise KeyboardInterrupt if Ctrl-C was pressed since the pool started."""
    if _Interrupts.requested:
        _Interrupts.requested = False
        raise KeyboardInterrupt


class _Outcomes:
    timeout: float
    memory_mb: int

    def outcome(self, future: Future[T]) -> Outcome[T]:
        """Wait for the task, a safe point for Ctrl-C every tenth of a second. Only Exception
        is caught: Ctrl-C (KeyboardInterrupt) is the parent's to handle and must never become
        one file's problem."""
        while not future.done():
            check_interrupt()
            wait_for_futures([future], timeout=0.1)
        try:
            return Outcome(value=future.result())
        except Exception as exc:  # noqa: BLE001 - any failure of a task is its file's
            return Outcome(failure=failure_of(exc, self.timeout, self.memory_mb))


@functools.cache
def _process_pool_class() -> Any:
    """pebble's ProcessPool, its workers stopped before its channels are closed. pebble 5.2.3
    closes the channels first, which unlinks their named semaphores: a worker it has just
    started in place of one past `max_tasks` then cannot open them and prints a
    FileNotFoundError traceback at the end of a run (1 run in 8 of 2,000 files, under load),
    though the run is complete. Defined on first use: pebble is imported with the first task."""
    from pebble import ProcessPool

    class WorkersFirstPool(ProcessPool):
        def _stop_pool(self) -> None:
            if self._pool_manager_loop is not None:
                self._pool_manager_loop.join()  # no worker is started after this
            self._pool_manager.worker_manager.force_stop_workers()
            super()._stop_pool()  # then the channels, as pebble does
    return WorkersFirstPool


class WorkerPool(_Outcomes):
    """A pool of isolated workers. Use as a context manager; submit() returns a Future whose
    result is the function's, or raises (see failure_of)."""

    def __init__(self, jobs: int, timeout: float, memory_mb: int):
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.jobs = max(1, jobs)
        self._pool: Any = None  # made with the first task: a run with nothing to do starts none

    def _started(self) -> Any:
        if self._pool is None:
            ProcessPool = _process_pool_class()
            # forkserver: workers fork from a clean process that has imported the parsers
            # once, never from the parent with its database connections and progress thread.
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(["ingest.extract", "media.derivatives"])
            self._pool = ProcessPool(max_workers=self.jobs, max_tasks=1000,
                                     initializer=_init_worker, initargs=(self.memory_mb,),
                                     context=context)
        return self._pool

    def submit(self, fn: Callable[..., T], *args: Any, timeout: Any = DEFAULT) -> Future[T]:
        limit = self.timeout if timeout is DEFAULT else timeout
        return self._started().schedule(fn, args=args, timeout=limit)

    def failure(self, exc: Exception) -> WorkerFailure:
        return failure_of(exc, self.timeout, self.memory_mb)

    def close(self, cancel: bool = False) -> None:
        if self._pool is None:
            return
        if cancel:
            self._pool.stop()
        else:
            self._pool.close()
        self._pool.join()

    def __enter__(self) -> WorkerPool:
        _Interrupts.install()
        return self

    def __exit__(self, *exc: object) -> None:
        try:
            self.close(cancel=exc[0] is not None)  # an error or Ctrl-C: stop the workers now
        finally:
            _Interrupts.restore()
        if exc[0] is None:
            check_interrupt()  # pressed after the last safe point: still an interrupt


class InProcess(_Outcomes):
    """The sequential mode: each task runs here, when submitted. No time limit, no memory
    cap; a parser's exception still becomes its file's failure, as in a worker."""

    def __init__(self, timeout: float = 0.0, memory_mb: int = 0):
        self.timeout = timeout
        self.memory_mb = memory_mb

    def submit(self, fn: Callable[..., T], *args: Any, timeout: Any = DEFAULT) -> Future[T]:
        future: Future[T] = Future()
        try:
            future.set_result(fn(*args))
        except Exception as exc:  # noqa: BLE001 - kept in the future, as a worker's would be
            future.set_exception(exc)
        return future

    def __enter__(self) -> InProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def open_runner(in_process: bool, jobs: int, timeout: float, memory_mb: int) -> Runner:
    """The runner a command asked for: sequential in this process, or isolated workers."""
    if in_process:
        return InProcess(timeout, memory_mb)
    return WorkerPool(jobs, timeout, memory_mb)


def in_order(runner: Runner, tasks: Iterable[T], call: Callable[[T], Future[R]],
             window: int) -> Iterator[tuple[T, Outcome[R]]]:
    """Submit each task with `call` and yield (task, outcome) in the order the tasks came,
    whatever order the workers finish in, with at most `window` tasks in flight: enough to
    keep every worker busy, few enough that memory stays flat however many tasks there are.
    Walk order in, walk order out: the same folders always get the same accession numbers."""
    for done, future in ordered.in_order(tasks, call, window):
        yield done, runner.outcome(future)
