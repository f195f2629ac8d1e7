"""The one writer: turns extraction results into catalog rows, a batch per transaction, so a
killed run loses at most one uncommitted batch and a re-run redoes exactly that."""
from __future__ import annotations

import datetime as dt
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import bindparam, case, func, insert, literal_column, select, update
from sqlalchemy.orm import Session

import archive
from archive.accession import next_accession
from archive.catalog import Catalog
from archive.changes import record_changes
from archive.dates import iso_exif_datetime
from archive.models import Event, File, FileText, IngestProblem, Item, Root, Scientist, utcnow
from archive.paths import filesystem_path
from archive.precedence import manifest_overrides
from archive.scientists import ScientistRecord, upsert_scientist
from ingest.attribution import CachedMatcher, NewScientist
from ingest.describe import manifest_columns
from ingest.extract import Extraction
from ingest.manifest import ManifestRow
from ingest.report import IngestReport
from ingest.tasks import Described, FileJob

TOOL = f"archive {archive.__version__}"
FLUSH_SECONDS = 2.0  # commit at least this often, so a slow run's progress is durable
T = TypeVar("T")


class KnownFiles:
    """path -> (file id, size, mtime_ns, has problem, found changed) for one folder at a time:
    one query per folder keeps a re-run at about one stat per file without loading the whole
    catalog.

    This is the no-op re-ingest's hot path, so the query is compiled once for the catalog's
    dialect and run on the driver's own cursor: through SQLAlchemy's execute, adapting the
    cached result columns cost more per folder than the walk itself (docs/PERFORMANCE.md)."""

    def __init__(self, catalog: Catalog | None):
        self._catalog = catalog
        self._raw: Any = None
        self._cursor: Any = None
        if catalog is None:
            return
        # On a server, end each look-up's transaction: no snapshot held across a long walk.
        self._end_each = catalog.engine.dialect.name != "sqlite"
        # The last column: `archive verify` found the bytes changed under the same size and
        # mtime, so the skip test must not trust them (#11.1). A literal, not a parameter:
        # the driver's cursor gets only root and folder.
        query = select(File.path, File.id, File.size, File.mtime_ns, File.problem.is_not(None),
                       File.status == literal_column("'changed'")) \
            .where(File.root_id == bindparam("root"), File.folder == bindparam("folder"))
        compiled = query.compile(dialect=catalog.engine.dialect)
        self._sql = str(compiled)
        self._order = compiled.positiontup if compiled.positional else None

    def __enter__(self) -> KnownFiles:
        if self._catalog is not None:
            self._raw = self._catalog.engine.raw_connection()
            self._cursor = self._raw.cursor()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._raw is not None:
            self._cursor.close()
            self._raw.rollback()  # only reads happened; end the driver's transaction
            self._raw.close()

    def __call__(self, root_id: int | None,
                 folder: str) -> dict[str, tuple[int, int, int, bool, bool]]:
        if self._cursor is None or root_id is None:
            return {}
        params: dict[str, Any] = {"root": root_id, "folder": folder}
        self._cursor.execute(self._sql, tuple(params[k] for k in self._order)
                             if self._order is not None else params)
        rows = self._cursor.fetchall()
        if self._end_each:
            self._raw.rollback()
        return {r[0]: (r[1], r[2], r[3], bool(r[4]), bool(r[5])) for r in rows}


@dataclass(frozen=True)
class WriteOptions:
    batch_size: int = 200


def copy_fate(copies: Sequence[T], gone: Callable[[T], bool]) -> tuple[str, T | None]:
    """What a new file with the same bytes as catalogued `copies` (oldest first) is: the
    first copy whose own file is gone was moved here; else it duplicates the oldest copy.

    copy_fate([], gone)              -> ("new", None)
    copy_fate([a, b], b is gone)     -> ("move", b)
    copy_fate([a, b], none is gone)  -> ("duplicate", a)
    """
    moved = next((c for c in copies if gone(c)), None)
    if moved is not None:
        return "move", moved
    if copies:
        return "duplicate", copies[0]
    return "new", None


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
        tally = IngestReport(roots=[])
        with self.catalog.session() as s:
            self._write(s, batch, tally)
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
                scientist, _ = upsert_scientist(s, ScientistRecord(new.name, (new.folder,)))
                self.match.remember(scientist)
                found = scientist.id
            ids[new] = found
        return ids

    def _code(self, s: Session, scientist_id: int | None) -> str | None:
        if scientist_id is None:
            return None
        if scientist_id not in self._codes:
            self._codes[scientist_id] = s.get(Scientist, scientist_id).code  # type: ignore[union-attr]
        return self._codes[scientist_id]

    def _write(self, s: Session, batch: list[Described], tally: IngestReport) -> None:
        scientists = self._scientists(s, batch)
        by_sha = self._catalogued_copies(s, {d.extraction.sha256 for d in batch
                                             if d.extraction.sha256 and d.extraction.size})
        roots = {r.id: r.path for r in s.scalars(select(Root))}
        events: list[dict[str, Any]] = []
        texts: list[tuple[File, Extraction]] = []
        problems: list[dict[str, Any]] = []
        written: list[File] = []

        def gone(c: File) -> bool:
            return not os.path.exists(filesystem_path(roots[c.root_id], c.path, c.path_raw))

        for d in batch:
            job, res = d.job, d.extraction
            if job.existing_id is not None:
                f = self._update_changed(s, job, res, events, tally)
            else:
                copies: list[File] = by_sha.get(res.sha256 or "", []) if res.size else []
                decided = copy_fate(copies, gone)
                fate, copy = decided
                if fate == "move" and copy is not None:
                    written.append(self._move(s, copy, job, events, tally))
                    copies.remove(copy)
                    continue
                f = self._create(s, d, scientists, events, tally)
                if fate == "duplicate" and copy is not None:
                    f.duplicate_of_id = copy.id
                    tally.duplicates.append((job.path, copy.path))
                    problems.append({"kind": "duplicate", "path": job.path, "stage": "checksum",
                                     "reason": f"same bytes as {copy.path}"})
                elif res.sha256 and res.size:
                    by_sha.setdefault(res.sha256, []).append(f)
            written.append(f)
            if res.text or res.cues:
                texts.append((f, res))
            if res.problem:
                tally.problems.append({"path": job.path, "stage": res.problem_stage or
                                       "extract", "reason": res.problem})
                problems.append({"kind": "problem", "path": job.path,
                                 "stage": res.problem_stage, "reason": res.problem})
        s.flush()
        for f, res in texts:
            s.merge(FileText(file_id=f.id, text=res.text or "", cues=res.cues))
        for e in events:
            if "file" in e:
                obj = e.pop("file")
                e["file_id"], e["item_id"] = obj.id, obj.item_id
        if events:
            s.execute(insert(Event), [{"run_id": self.run_id, "tool": TOOL, **e} for e in events])
        if problems:
            s.execute(insert(IngestProblem), [{"run_id": self.run_id, **p} for p in problems])
        s.flush()
        refresh_extents(s, {f.item_id for f in written})

    def _catalogued_copies(self, s: Session, shas: set[str]) -> dict[str, list[File]]:
        found: dict[str, list[File]] = {}
        if shas:
            for f in s.scalars(select(File).where(File.sha256.in_(shas),
                                                  File.duplicate_of_id.is_(None))
                               .order_by(File.id)):
                found.setdefault(f.sha256 or "", []).append(f)
        return found

    def _create(self, s: Session, d: Described, scientists: dict[NewScientist, int],
                events: list[dict], tally: IngestReport) -> File:
        job, res = d.job, d.extraction
        item = self._item_for(s, d, scientists)
        f = File(item=item, root_id=job.root_id, path=job.path, folder=job.folder,
                 path_raw=job.path_raw, size=job.size, mtime_ns=job.mtime_ns,
                 role=job.grouping.role, **_file_columns(res))
        s.add(f)
        tally.new += 1
        tally.bytes_read += res.size
        events += _extraction_events(f, res, first=True)
        return f

    def _update_changed(self, s: Session, job: FileJob, res: Extraction,
                        events: list[dict], tally: IngestReport) -> File:
        f = s.get(File, job.existing_id)
        assert f is not None, "a file listed as catalogued a moment ago is gone"
        old_sha = f.sha256
        f.size, f.mtime_ns = job.size, job.mtime_ns
        if f.status == "changed":  # verify's finding, now read again and recorded below
            f.status, f.status_since = "present", utcnow()
        for key, value in _file_columns(res).items():
            setattr(f, key, value)
        tally.bytes_read += res.size
        if old_sha == res.sha256 and not res.problem:
            tally.unchanged += 1  # touched, not changed: same bytes
            return f
        tally.changed += 1
        if old_sha != res.sha256:
            events.append({"file": f, "kind": "modification",
                           "detail": f"content changed: sha256 {old_sha} -> {res.sha256}"})
        events += _extraction_events(f, res, first=False)
        return f

    def _move(self, s: Session, f: File, job: FileJob, events: list[dict],
              tally: IngestReport) -> File:
        old = f.path
        f.root_id, f.path, f.folder, f.path_raw = job.root_id, job.path, job.folder, job.path_raw
        f.size, f.mtime_ns = job.size, job.mtime_ns
        tally.moved += 1
        events.append({"file": f, "kind": "move", "detail": f"{old} -> {job.path}"})
        return f

    def _item_for(self, s: Session, d: Described, scientists: dict[NewScientist, int]) -> Item:
        job, facts = d.job, d.facts
        item = s.scalars(select(Item).where(Item.root_id == job.root_id,
                                            Item.key == facts.key)).first()
        if item is None:
            sci = facts.scientist
            scientist_id = scientists[sci] if isinstance(sci, NewScientist) else sci
            item = Item(accession=next_accession(s, self._code(s, scientist_id), facts.type),
                        root_id=job.root_id, scientist_id=scientist_id, **facts.columns())
            s.add(item)
            s.flush()
        elif job.grouping.role in ("master", "page") and item.type_source == "sidecar":
            # The item was opened by its transcript before its main file was written.
            item.type, item.type_source = facts.type, facts.type_source
        return item

    # -- manifest rows for files that did not change ----------------------------------------
    def apply_manifest(self, rows: list[tuple[int, ManifestRow]],
                       changed_at: dt.datetime | None = None) -> int:
        """Bring items in line with their manifest rows, unless a later edit outranks a row
        (archive/precedence.py; `changed_at`: when the manifest file was saved); returns how
        many items changed."""
        changed = 0
        with self.catalog.session() as s:
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


def _file_columns(res: Extraction) -> dict[str, Any]:
    return dict(
        sha256=res.sha256, mime=res.mime, format=res.format, problem=res.problem,
        problem_stage=res.problem_stage if res.problem else None, width=res.width,
        height=res.height, duration=res.duration, pages=res.pages, camera_make=res.camera_make,
        camera_model=res.camera_model, date_taken=iso_exif_datetime(res.date_taken),
        gps_lat=res.gps_lat, gps_lon=res.gps_lon, orientation=res.orientation,
        tech={"kind": res.kind, **res.tech} if res.tech or res.kind else None,
    )


def _extraction_events(f: File, res: Extraction, first: bool) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    if first:
        events.append({"file": f, "kind": "ingestion", "detail": "catalogued in place"})
    if res.sha256:
        events.append({"file": f, "kind": "message digest calculation",
                       "detail": f"sha256 {res.sha256}", "tool": "hashlib sha256"})
    events.append({"file": f, "kind": "metadata extraction",
                   "tool": ", ".join(res.tools) or TOOL,
                   "outcome": "failure" if res.problem else "success",
                   "detail": res.problem or f"{res.mime} identified as {res.kind}"})
    return events


def refresh_extents(s: Session, item_ids: set[int]) -> None:
    """Recompute the pages and seconds of items from their main files (not transcripts, not
    duplicate copies), so stats are sums over items, never over files counted twice."""
    if not item_ids:
        return
    main = File.role.in_(("master", "page")) & File.duplicate_of_id.is_(None)
    page_count = case((File.pages.is_not(None), File.pages),
                      (File.mime.like("image/%"), 1), else_=None)
    rows = s.execute(
        select(File.item_id, func.sum(page_count), func.sum(File.duration))
        .where(File.item_id.in_(item_ids), main).group_by(File.item_id)).all()
    found = {r[0] for r in rows}
    for item_id, pages, seconds in rows:
        s.execute(update(Item).where(Item.id == item_id).values(
            pages=int(pages) if pages else None,
            seconds=round(float(seconds), 3) if seconds else None))
    for item_id in item_ids - found:
        s.execute(update(Item).where(Item.id == item_id).values(pages=None, seconds=None))
    record_changes(s, item_ids)
