"""The one writer: turns extraction results into catalog rows, a batch per transaction, so a
killed run loses at most one uncommitted batch and a re-run redoes exactly that."""
from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, case, func, insert, literal_column, select, update
from sqlalchemy.orm import Session

import archive
from archive.accession import next_accession
from archive.catalog import Catalog
from archive.changes import record_changes
from archive.dates import date_from_filename, iso_exif_datetime, parse_date
from archive.models import Event, File, FileText, IngestProblem, Item, Root, utcnow
from archive.precedence import manifest_overrides
from archive.paths import filesystem_path
from ingest.attribution import ScientistResolver
from ingest.classify import Grouping, kind_from_extension, material_type, title_from_base
from ingest.extract import Extraction
from ingest.manifest import ManifestRow
from ingest.report import IngestReport

TOOL = f"archive {archive.__version__}"
FLUSH_SECONDS = 2.0  # commit at least this often, so a slow run's progress is durable


@dataclass(frozen=True)
class FileJob:
    """Everything known about a file before extraction."""
    root_id: int
    root: str
    path: str  # catalog form, root-relative POSIX
    path_raw: bytes | None
    folder: str
    abs: str
    size: int
    mtime_ns: int
    grouping: Grouping
    chain: tuple[str, ...]  # root's own name, then folders down to the file
    existing_id: int | None = None  # the catalogued row, when the file changed
    manifest: ManifestRow | None = None


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
    type: str | None = None
    default_access: str = "open"
    batch_size: int = 200


@dataclass
class _Pending:
    job: FileJob
    result: Extraction


@dataclass
class CatalogWriter:
    catalog: Catalog
    run_id: int
    resolver: ScientistResolver
    report: IngestReport
    options: WriteOptions
    pending: list[_Pending] = field(default_factory=list)
    _last_flush: float = field(default_factory=time.monotonic)

    # -- taking results ---------------------------------------------------------------------
    def add(self, job: FileJob, result: Extraction) -> None:
        self.pending.append(_Pending(job, result))
        if len(self.pending) >= self.options.batch_size or \
                time.monotonic() - self._last_flush > FLUSH_SECONDS:
            self.flush()

    def problem(self, path: str, stage: str, reason: str) -> None:
        """A file that could not be catalogued at all (unreadable): reported, no row."""
        self.report.problems.append({"path": path, "stage": stage, "reason": reason})
        with self.catalog.session() as s:
            s.add(IngestProblem(run_id=self.run_id, kind="problem", path=path, stage=stage,
                                reason=reason))

    def record_skipped(self, items: list[dict[str, str]]) -> None:
        if not items:
            return
        self.report.skipped.extend(items)
        with self.catalog.session() as s:
            s.execute(insert(IngestProblem), [
                {"run_id": self.run_id, "kind": "skipped", "path": i["path"], "stage": "walk",
                 "reason": i["reason"]} for i in items])

    def flush(self) -> None:
        self._last_flush = time.monotonic()
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        with self.catalog.session() as s:
            self._write(s, batch)

    # -- writing ----------------------------------------------------------------------------
    def _write(self, s: Session, batch: list[_Pending]) -> None:
        by_sha = self._catalogued_copies(s, {p.result.sha256 for p in batch
                                             if p.result.sha256 and p.result.size})
        roots = {r.id: r.path for r in s.scalars(select(Root))}
        events: list[dict[str, Any]] = []
        texts: list[tuple[File, Extraction]] = []
        problems: list[dict[str, Any]] = []
        written: list[File] = []
        for p in batch:
            job, res = p.job, p.result
            if job.existing_id is not None:
                f = self._update_changed(s, job, res, events)
            else:
                copies = by_sha.get(res.sha256 or "", []) if res.size else []
                moved = next((c for c in copies if not os.path.exists(
                    filesystem_path(roots[c.root_id], c.path, c.path_raw))), None)
                if moved is not None:
                    written.append(self._move(s, moved, job, events))
                    copies.remove(moved)
                    continue
                f = self._create(s, job, res, events)
                original = next(iter(copies), None)
                if original is not None:
                    f.duplicate_of_id = original.id
                    self.report.duplicates.append((job.path, original.path))
                    problems.append({"kind": "duplicate", "path": job.path, "stage": "checksum",
                                     "reason": f"same bytes as {original.path}"})
                elif res.sha256 and res.size:
                    by_sha.setdefault(res.sha256, []).append(f)
            written.append(f)
            if res.text or res.cues:
                texts.append((f, res))
            if res.problem:
                self.report.problems.append({"path": job.path, "stage": res.problem_stage or
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

    def _create(self, s: Session, job: FileJob, res: Extraction, events: list[dict]) -> File:
        item = self._item_for(s, job, res)
        f = File(item=item, root_id=job.root_id, path=job.path, folder=job.folder,
                 path_raw=job.path_raw, size=job.size, mtime_ns=job.mtime_ns,
                 role=job.grouping.role, **_file_columns(res))
        s.add(f)
        self.report.new += 1
        self.report.bytes_read += res.size
        events += _extraction_events(f, res, first=True)
        return f

    def _update_changed(self, s: Session, job: FileJob, res: Extraction,
                        events: list[dict]) -> File:
        f = s.get(File, job.existing_id)
        assert f is not None, "a file listed as catalogued a moment ago is gone"
        old_sha = f.sha256
        f.size, f.mtime_ns = job.size, job.mtime_ns
        if f.status == "changed":  # verify's finding, now read again and recorded below
            f.status, f.status_since = "present", utcnow()
        for key, value in _file_columns(res).items():
            setattr(f, key, value)
        self.report.bytes_read += res.size
        if old_sha == res.sha256 and not res.problem:
            self.report.unchanged += 1  # touched, not changed: same bytes
            return f
        self.report.changed += 1
        if old_sha != res.sha256:
            events.append({"file": f, "kind": "modification",
                           "detail": f"content changed: sha256 {old_sha} -> {res.sha256}"})
        events += _extraction_events(f, res, first=False)
        return f

    def _move(self, s: Session, f: File, job: FileJob, events: list[dict]) -> File:
        old = f.path
        f.root_id, f.path, f.folder, f.path_raw = job.root_id, job.path, job.folder, job.path_raw
        f.size, f.mtime_ns = job.size, job.mtime_ns
        self.report.moved += 1
        events.append({"file": f, "kind": "move", "detail": f"{old} -> {job.path}"})
        return f

    def _item_for(self, s: Session, job: FileJob, res: Extraction) -> Item:
        key = f"{job.folder}/{job.grouping.base}" if job.folder else job.grouping.base
        item = s.scalars(select(Item).where(Item.root_id == job.root_id, Item.key == key)).first()
        if item is None:
            item = self._new_item(s, job, res, key)
        elif job.grouping.role in ("master", "page") and item.type_source == "sidecar":
            # The item was opened by its transcript before its main file was written.
            item.type, item.type_source = self._type_of(job, res)
        return item

    def _type_of(self, job: FileJob, res: Extraction) -> tuple[str, str]:
        """(material type, where it came from)."""
        row = job.manifest
        if row and row.type:
            return row.type, "manifest"
        if self.options.type:
            return self.options.type, "option"
        folders = job.chain[1:-1] if len(job.chain) > 1 else ()
        if job.grouping.role in ("transcript", "sidecar"):
            # Only a guess from the main file's extension until that file is written.
            return material_type(kind_from_extension(job.grouping.master_ext), folders), "sidecar"
        return material_type(res.kind, folders), "content"

    def _new_item(self, s: Session, job: FileJob, res: Extraction, key: str) -> Item:
        row = job.manifest
        first_under_root = job.chain[1] if len(job.chain) > 2 else None
        scientist_id = self.resolver.resolve(s, job.chain[:-1], first_under_root,
                                             row.scientist if row else None)
        mtype, type_source = self._type_of(job, res)
        date = row.date if row and row.date else None
        if date is None:
            from_name = date_from_filename(job.grouping.base)
            if from_name is None and mtype == "photograph" and res.date_taken:
                from_name = (iso_exif_datetime(res.date_taken) or "")[:10] or None
            try:
                date = parse_date(from_name)
            except ValueError:
                date = None
        item = Item(
            accession=next_accession(s, self.resolver.code(s, scientist_id), mtype),
            root_id=job.root_id, key=key, type=mtype, type_source=type_source,
            scientist_id=scientist_id,
            title=(row.title if row and row.title else title_from_base(job.grouping.base)),
            date=date.text if date else None, date_start=date.start if date else None,
            date_end=date.end if date else None, date_precision=date.precision if date else None,
            description=row.description if row else None,
            access=(row.access if row and row.access else self.options.default_access),
            rights=row.rights if row else None, location=row.location if row else None,
            extra=dict(row.extra) if row and row.extra else None,
        )
        s.add(item)
        s.flush()
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
                    s, f.item, _manifest_wanted(f.item, row, self.resolver.matcher.match),
                    changed_at, self.run_id, row.number)
                if diffs:
                    for attr, value in diffs.items():
                        setattr(f.item, attr, value)
                    s.add(Event(item_id=f.item_id, run_id=self.run_id, kind="metadata modification",
                                tool=TOOL, detail=f"manifest row {row.number}: "
                                + ", ".join(sorted(diffs))))
                    record_changes(s, {f.item_id})
                    changed += 1
        return changed


def _manifest_wanted(item: Item, row: ManifestRow, match) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    """Every item column the row sets (equal to the item's or not)."""
    wanted: dict[str, Any] = {}
    for attr in ("title", "description", "access", "rights", "location", "type"):
        value = getattr(row, attr)
        if value is not None:
            wanted[attr] = value
    if row.date is not None:
        wanted.update(date=row.date.text, date_start=row.date.start, date_end=row.date.end,
                      date_precision=row.date.precision)
    if row.scientist:
        sid = match(row.scientist)
        if sid is not None:
            wanted["scientist_id"] = sid
    if row.extra:
        wanted["extra"] = {**(item.extra or {}), **row.extra}
    return wanted


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
