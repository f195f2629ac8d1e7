"""What an ingest is asked to do: its options, and the folders it was given, checked. Light to
import (no database library): the command line reads them before it knows whether the run has
anything to do (ingest/noop.py)."""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from archive.errors import UsageError


@dataclass(frozen=True)
class IngestOptions:
    scientist: str | None = None
    type: str | None = None
    manifest: str | None = None
    dry_run: bool = False
    retry_problems: bool = False
    in_process: bool = False  # the sequential mode: extract here, one file at a time
    include_manifests: bool = False  # catalogue CSVs at a root that look like manifests
    include_forgotten: bool = False  # catalogue again files `archive forget` took out

    def recorded(self) -> dict[str, object]:
        """The options a run's row keeps: those given (not None, not False)."""
        return {k: v for k, v in vars(self).items() if v not in (None, False)}


def resolve_roots(paths: Sequence[str]) -> list[str]:
    """Absolute, real, distinct folders; UsageError for a missing one or one inside another."""
    if not paths:
        raise UsageError("give at least one folder to ingest")
    roots: list[str] = []
    for p in paths:
        real = os.path.realpath(os.path.expanduser(p))
        if not os.path.exists(real):
            raise UsageError(f"no such folder: {p}")
        if not os.path.isdir(real):
            raise UsageError(f"{p} is a file; ingest takes folders (give its parent folder)")
        if real not in roots:
            roots.append(real)
    for a in roots:
        for b in roots:
            if a != b and b.startswith(a.rstrip(os.sep) + os.sep):
                raise UsageError(f"{b} is inside {a}; give only one of them")
    return roots
