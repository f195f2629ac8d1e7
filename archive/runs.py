"""Run history: every `archive ingest` and `archive verify` run as the catalog keeps it
(`ingest_runs`, `ingest_problems`), read back for `archive runs`.

    run_kind(None)      -> "ingest"   (catalogs made before verify runs were kept)
    run_kind("verify")  -> "verify"
    count_line("ingest", {"seen": 3, "new": 2, ...}) -> "new 2 · changed 0 · …"

A run killed outright (kill -9, a power cut) never wrote its counts; `StoredRun.events` (how
many events of each kind the run recorded) lets a report be rebuilt from what it did write.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.errors import NotFound
from archive.models import Event, IngestProblem, IngestRun

INGEST, VERIFY = "ingest", "verify"
# The counts each kind shows in a listing, in order.
_SHOWN = {INGEST: ("new", "changed", "unchanged", "moved", "duplicates", "skipped", "missing",
                   "problems"),
          VERIFY: ("ok", "changed", "missing", "unreadable")}


def run_kind(kind: str | None) -> str:
    return kind or INGEST


@dataclass(frozen=True)
class RunProblem:
    kind: str  # problem, skipped, duplicate, missing; a verify run's changed, missing, unreadable
    path: str
    stage: str | None
    reason: str


@dataclass(frozen=True)
class RunSummary:
    id: int
    kind: str
    started_at: dt.datetime
    finished_at: dt.datetime | None
    status: str  # running, completed, interrupted
    roots: list[str]
    options: dict[str, Any]
    counts: dict[str, Any] | None  # None when the run was killed before it could write them

    def files(self) -> int | None:
        """Files the run looked at: seen by an ingest, checked by a verify."""
        if self.counts is None:
            return None
        return self.counts.get("checked" if self.kind == VERIFY else "seen")

    def to_json(self) -> dict[str, Any]:
        return {"run": self.id, "kind": self.kind,
                "started_at": self.started_at.isoformat(timespec="seconds"),
                "finished_at": self.finished_at.isoformat(timespec="seconds")
                if self.finished_at else None,
                "status": self.status, "roots": self.roots, "counts": self.counts}


@dataclass(frozen=True)
class StoredRun:
    summary: RunSummary
    problems: list[RunProblem]
    events: dict[str, int]  # event kind -> how many the run recorded


def _summary(run: IngestRun) -> RunSummary:
    return RunSummary(run.id, run_kind(run.kind), run.started_at, run.finished_at, run.status,
                      list(run.roots or []), dict(run.options or {}),
                      dict(run.counts) if run.counts is not None else None)


def list_runs(s: Session, limit: int = 20) -> list[RunSummary]:
    """The latest `limit` runs, newest first."""
    runs = s.scalars(select(IngestRun).order_by(IngestRun.id.desc()).limit(limit))
    return [_summary(r) for r in runs]


def get_run(s: Session, run_id: int) -> StoredRun:
    run = s.get(IngestRun, run_id)
    if run is None:
        raise NotFound(f"no run number {run_id}; `archive runs` lists them")
    problems = [RunProblem(p.kind, p.path, p.stage, p.reason) for p in s.scalars(
        select(IngestProblem).where(IngestProblem.run_id == run_id).order_by(IngestProblem.id))]
    events = dict(s.execute(select(Event.kind, func.count(Event.id))
                            .where(Event.run_id == run_id).group_by(Event.kind)).all())
    return StoredRun(_summary(run), problems, {k: int(n) for k, n in events.items()})


def count_line(kind: str, counts: dict[str, Any] | None) -> str:
    """The counts a listing shows for a run, or why there are none.

        count_line("verify", {"ok": 5, "changed": 1, "missing": 0, "unreadable": 0})
            -> "ok 5 · changed 1 · missing 0 · unreadable 0"
        count_line("ingest", {"new": 2, "missing": ["a.jpg"]}) -> "new 2 · missing 1"
        count_line("ingest", None) -> "(killed before it could count; `runs show` has the rest)"
    """
    if counts is None:
        return "(killed before it could count; `runs show` has the rest)"
    # An ingest run keeps the paths it found missing; a listing shows how many.
    return " · ".join(f"{k} {len(v) if isinstance(v, list) else v}"
                      for k in _SHOWN.get(kind, ()) if k in counts for v in (counts[k],))
