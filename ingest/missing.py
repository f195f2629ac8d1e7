"""Catalogued files gone from a walked root: noticed during the walk at no cost to a re-run (a
folder's catalogued files that the walk did not see; folders that vanished whole, by one query
at the end), confirmed on disk, then marked `missing`, never deleted from the catalog. A file
that comes back is restored by the writer (same path) or moved (same bytes elsewhere)."""
from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.changes import record_changes
from archive.events import MISSING, event_row, record_events
from archive.models import File, Root, utcnow
from archive.paths import filesystem_path, is_gone

MISSING_STATUS = "missing"
T = TypeVar("T")


@dataclass
class MissingFiles:
    """What one ingest run learns about files gone from its roots (see the module docstring)."""
    candidates: set[int] = field(default_factory=set)  # file ids the walk did not see
    walked: dict[int, set[str]] = field(default_factory=dict)  # root id -> folders walked

    def folder(self, root_id: int | None, folder: str, known: Mapping[str, tuple[Any, ...]],
               matched: int, seen_paths: Callable[[], Iterable[str]]) -> None:
        """Called once per walked folder with its catalogued files (`known`: path -> (file
        id, ...), as KnownFiles gives them) and how many of them the walk found: only when
        some were not found are paths compared, so an unchanged folder costs a length test."""
        if root_id is None:
            return
        self.walked.setdefault(root_id, set()).add(folder)
        if matched >= len(known):
            return
        seen = set(seen_paths())
        self.candidates.update(k[0] for p, k in known.items() if p not in seen)

    def gone(self, s: Session, root_ids: Iterable[int]) -> list[File]:
        """The candidates and the files of vanished folders, confirmed gone on disk. Reads
        only: a dry run lists these as the files the real run would mark missing."""
        roots = set(root_ids)
        root_paths = dict(s.execute(select(Root.id, Root.path)).all())
        ids = set(self.candidates)
        for root_id in roots:
            # One query over the (root, folder) index: folders catalogued but not walked.
            vanished = set(s.scalars(select(File.folder).where(File.root_id == root_id)
                                     .distinct())) - self.walked.get(root_id, set())
            for folders in _chunks(sorted(vanished), 500):
                ids.update(s.scalars(select(File.id).where(File.root_id == root_id,
                                                           File.folder.in_(folders))))
        gone: list[File] = []
        for id_chunk in _chunks(sorted(ids), 500):
            for f in s.scalars(select(File).where(File.id.in_(id_chunk))):
                if f.root_id in roots and is_gone(filesystem_path(root_paths[f.root_id],
                                                                  f.path, f.path_raw)):
                    gone.append(f)
        return gone

    def finish(self, s: Session, root_ids: Iterable[int], run_id: int | None) -> list[str]:
        """Mark the files gone (a `missing` event when a file goes missing, not again while it
        stays so). Returns the paths of every catalogued file missing under the walked roots,
        sorted."""
        gone = self.gone(s, root_ids)
        root_paths = dict(s.execute(select(Root.id, Root.path)).all())
        now = utcnow()
        newly = [f for f in gone if f.status != MISSING_STATUS]
        for f in newly:
            f.status, f.status_since = MISSING_STATUS, now
        record_events(s, [event_row(MISSING, item_id=f.item_id, file_id=f.id, run_id=run_id,
                                    outcome="failure", old=f.path,
                                    detail=f"{f.path}: gone from {root_paths[f.root_id]}")
                          for f in newly])
        record_changes(s, {f.item_id for f in newly})
        return sorted(f.path for f in gone)


def _chunks(values: list[T], size: int) -> Iterable[list[T]]:
    for i in range(0, len(values), size):
        yield values[i:i + size]
