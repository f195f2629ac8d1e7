"""A progress bar on stderr for long commands; the library only calls `update`."""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


class RichBar:
    """Units done out of a total, elapsed and remaining time, and a one-line summary of the
    counts so far; it fits an 80-column terminal. `done` and `total` must count the same unit
    (files, for ingest), so the count never passes the total. `total` is a number, or a
    function of the report when it grows while the command finds more work (ingest's walk)."""

    def __init__(self, total: int | None | Callable[[Any], int | None],
                 done: Callable[[Any], int], describe: Callable[[Any], str]) -> None:
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )
        self._bar = Progress(BarColumn(bar_width=24), MofNCompleteColumn(), TimeElapsedColumn(),
                             TimeRemainingColumn(), TextColumn("{task.description}"),
                             console=Console(stderr=True), transient=True)
        self._task = self._bar.add_task("", total=None)
        self._total = total if callable(total) else (lambda report: total)
        self._done, self._describe = done, describe
        self._last = 0.0

    def __enter__(self) -> RichBar:
        self._bar.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._bar.stop()

    def update(self, report: Any, current: str) -> None:
        now = time.monotonic()
        if now - self._last < 0.1:
            return
        self._last = now
        total, done = self._total(report), self._done(report)
        self._bar.update(self._task, completed=done,
                         total=total, description=self._describe(report))
