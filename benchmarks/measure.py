"""Timing helpers: repeated runs reported as median with min and max; child processes timed
with their peak RSS; the interpreter's own start-up measured so it can be subtracted."""
from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Figure:
    median: float
    low: float
    high: float
    runs: int

    def __str__(self) -> str:
        return f"{self.median:.3g} ({self.low:.3g}–{self.high:.3g}, n={self.runs})"


def figure(values: list[float]) -> Figure:
    return Figure(statistics.median(values), min(values), max(values), len(values))


def repeat(fn: Callable[[], float | None], runs: int) -> Figure:
    """Median/min/max of `fn`'s own number, or of its wall time when it returns None."""
    values = []
    for _ in range(runs):
        t = time.perf_counter()
        value = fn()
        values.append(time.perf_counter() - t if value is None else value)
    return figure(values)


@dataclass(frozen=True)
class Run:
    seconds: float
    peak_rss_mb: float
    returncode: int
    stdout: str
    cpu_s: float = 0.0  # user + system seconds of the child and the children it waited for


def run_process(args: list[str], env: dict[str, str] | None = None) -> Run:
    """Run a child to the end: its wall time, and the peak RSS of the largest process among it
    and its workers, from wait4's accounting of that child alone."""
    import tempfile
    with tempfile.TemporaryFile() as out:
        t = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=subprocess.DEVNULL,
                                env={**os.environ, **(env or {})})
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - t
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        stdout = out.read().decode("utf-8", "replace")
    return Run(seconds, usage.ru_maxrss / 1024, proc.returncode, stdout,
               usage.ru_utime + usage.ru_stime)


def python_startup(runs: int = 5) -> Figure:
    """What starting the interpreter with the archive's imports costs, to subtract."""
    return repeat(lambda: run_process([sys.executable, "-m", "archive", "--version"]).seconds,
                  runs)
