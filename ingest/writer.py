"""The one writer: takes described files and stores them a batch per transaction (in bulk:
ingest/batch.py), so a killed run loses at most one uncommitted batch and a re-run redoes
exactly that. It decides nothing about items; it creates a batch's new scientists first."""
from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field

from sqlalchemy import insert, select
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.orm import Session

from archive.catalog import Catalog, is_transient
from archive.changes import record_changes
from archive.models import Event, File, IngestProblem, Scientist
from archive.precedence import manifest_overrides
from archive.scientists import ScientistRecord, upsert_scientist
from ingest.attribution import CachedMatcher, NewScientist
from ingest.batch import TOOL, write_batch
from ingest.batch import refresh_extents as refresh_extents  # archive forget sums extents too
from ingest.describe import manifest_columns
from ingest.manifest import ManifestRow
from ingest.report import IngestReport
from ingest.tasks import Described

log = logging.getLogger(__name__)

FLUSH_SECONDS = 2.0  # commit at least this often, so a slow run's progress is durable
RETRIES = 8  # tries of one batch that keeps giving way to concurrent writers


@dataclass(frozen=True)
class WriteOptions:
    batch_size: int = 200


@dataclass
class CatalogWriter:
    """Stores described files, a batch per transaction. It decides nothing about items (the
    describe stage did); it resolves the batch's new scientists first, then writes."""
    catalog: Catalog
    run_id: int
    match: CachedMatcher
    report: IngestReport
    options: WriteOptions
    pending: list[Described] = field(default_factory=list)
    _last_flush: float = field(default_factory=time.monotonic)
    _codes: dict[int, str] = field(default_factory=dict)

    # -- taking results ---------------------------------------------------------------------
    def add(self, described: Described) -> None:
        self.pending.append(described)
        if len(self.pending) >= self.options.batch_size or \
                time.monotonic() - self._last_flush > FLUSH_SECONDS:
            self.flush()

    def problem(self, path: str, stage: str, reason: str) -> None:
        """A file that could not be catalogued at all (unreadable): reported, no row."""
        with self.catalog.session() as s:
            s.add(IngestProblem(run_id=self.run_id, kind="problem", path=path, stage=stage,
                                reason=reason))
        self.report.problems.append({"path": path, "stage": stage, "reason": reason})

    def record_skipped(self, items: list[dict[str, str]]) -> None:
        if not items:
            return
        with self.catalog.session() as s:
            s.execute(insert(IngestProblem), [
                {"run_id": self.run_id, "kind": "skipped", "path": i["path"], "stage": "walk",
                 "reason": i["reason"]} for i in items])
        self.report.skipped.extend(items)

    def flush(self) -> None:
        self._last_flush = time.monotonic()
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        for attempt in range(1, RETRIES + 1):
            tally = IngestReport(roots=[])
            try:
                with self.catalog.writing() as s:
                    self._write(s, batch, tally)
                break
            except DBAPIError as exc:
                # Another writer's turn (a deadlock on a server, a busy SQLite file): the
                # batch is planned again from what is now committed.
                if not is_transient(exc) or attempt == RETRIES:
                    raise
                log.info("batch given way to another writer (%s); writing it again", exc.orig)
                with self.catalog.session() as s:
                    self.match.reload(s)  # scientists made in the rolled-back batch are gone
                self._codes.clear()
                time.sleep(0.05 * attempt)
        # Counted once committed: a report cut short by Ctrl-C says what the catalog holds.
        self.report.absorb(tally)

    # -- writing ----------------------------------------------------------------------------
    def _scientists(self, s: Session, batch: list[Described]) -> dict[NewScientist, int]:
        """Create the scientists the batch names and that do not exist yet, before any item."""
        ids: dict[NewScientist, int] = {}
        for d in batch:
            new = d.facts.scientist
            if not isinstance(new, NewScientist) or new in ids:
                continue
            found = self.match(new.folder)
            if found is None:
                scientist = self._create(s, ScientistRecord(new.name, (new.folder,)))
                self.match.remember(scientist)
                found = scientist.id
            ids[new] = found
        return ids

    @staticmethod
    def _create(s: Session, record: ScientistRecord) -> Scientist:
        """The scientist, made now or, when a concurrent ingest made one of that name first
        (the unique name), theirs with this folder's name added as a variant."""
        try:
            with s.begin_nested():
                return upsert_scientist(s, record)[0]
        except IntegrityError:
            return upsert_scientist(s, record)[0]  # theirs is committed: found by name now

    def _code(self, s: Session, scientist_id: int | None) -> str | None:
        if scientist_id is None:
            return None
        if scientist_id not in self._codes:
            self._codes[scientist_id] = s.get(Scientist, scientist_id).code  # type: ignore[union-attr]
        return self._codes[scientist_id]

    def _write(self, s: Session, batch: list[Described], tally: IngestReport) -> None:
        scientists = self._scientists(s, batch)

        def scientist_of(ref: int | NewScientist | None) -> int | None:
            return scientists[ref] if isinstance(ref, NewScientist) else ref

        write_batch(s, batch, self.run_id, scientist_of, lambda i: self._code(s, i), tally)

    # -- manifest rows for files that did not change ----------------------------------------
    def apply_manifest(self, rows: list[tuple[int, ManifestRow]],
                       changed_at: dt.datetime | None = None) -> int:
        """Bring items in line with their manifest rows, unless a later edit outranks a row
        (archive/precedence.py; `changed_at`: when the manifest file was saved); returns how
        many items changed."""
        changed = 0
        with self.catalog.writing() as s:
            for root_id, row in rows:
                f = s.scalars(select(File).where(File.root_id == root_id,
                                                 File.path == row.path)).first()
                if f is None:
                    continue
                diffs = manifest_overrides(
                    s, f.item, manifest_columns(row, self.match, f.item.extra),
                    changed_at, self.run_id, row.number)
                if diffs:
                    for attr, value in diffs.items():
                        setattr(f.item, attr, value)
                    if "type" in diffs:
                        f.item.type_source = "manifest"
                    s.add(Event(item_id=f.item_id, run_id=self.run_id, kind="metadata modification",
                                tool=TOOL, detail=f"manifest row {row.number}: "
                                + ", ".join(sorted(diffs))))
                    record_changes(s, {f.item_id})
                    changed += 1
        return changed
