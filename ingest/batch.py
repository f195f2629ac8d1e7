"""One batch of described files written in bulk: every row is planned in memory first (which
file is new, changed, moved or a duplicate; which item it joins or opens), then each table gets
one INSERT ... RETURNING or one executemany UPDATE. Nothing is decided here about what an item
is: the describe stage did that (ingest/describe.py).

    a new file, bytes never seen            -> new item (or the item of its key), new file row
    a new file, same bytes as a catalogued
      file whose own path is gone           -> that file row moves here (same item, accession)
    a new file, same bytes as another       -> new file row, duplicate_of the oldest copy
    a changed file (size or mtime differ)   -> its row updated; `modification` when bytes differ
    a missing file back at its path         -> `restored`, and read as a changed file
    a move                                  -> `move` with the old and the new path; earlier
                                               events keep theirs (history is not rewritten)
"""
from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Table, bindparam, case, delete, func, insert, select, update
from sqlalchemy.orm import Session

import archive
from archive.accession import accession_prefix, take_accessions
from archive.changes import record_changes
from archive.dates import iso_exif_datetime
from archive.events import MOVE, RESTORED
from archive.fields import MAIN_ROLES
from archive.models import Event, File, FileText, IngestProblem, Item, Root, utcnow
from archive.paths import filesystem_path
from ingest.attribution import NewScientist
from ingest.extraction import Extraction
from ingest.report import IngestReport
from ingest.tasks import Described

TOOL = f"archive {archive.__version__}"
T = TypeVar("T")


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
class _Ref:
    """A row's id, or its place among the batch's rows to insert (its id comes back from
    the INSERT ... RETURNING)."""
    id: int | None = None
    pos: int | None = None

    def resolve(self, inserted: Sequence[int]) -> int:
        if self.id is not None:
            return self.id
        assert self.pos is not None
        return inserted[self.pos]


@dataclass
class _Copy:
    """A file with some checksum: catalogued, or new in this batch."""
    file: _Ref
    item: _Ref
    path: str
    abs: str
    missing: bool = False  # marked missing by an earlier run: found again by this move


@dataclass
class _KnownItem:
    id: int
    type_source: str | None


@dataclass
class _Rows:
    """Everything one batch writes, planned before any of it is."""
    items: list[dict[str, Any]] = field(default_factory=list)  # new items
    item_at: dict[tuple[int, str], int] = field(default_factory=dict)  # (root, key) -> pos
    files: list[dict[str, Any]] = field(default_factory=list)  # new files
    file_items: list[_Ref] = field(default_factory=list)  # the item of each new file
    retyped: dict[int, tuple[str, str]] = field(default_factory=dict)  # item id -> type, source
    changed: list[dict[str, Any]] = field(default_factory=list)
    status_read_again: list[int] = field(default_factory=list)
    moves: list[dict[str, Any]] = field(default_factory=list)
    duplicates: list[tuple[int, _Ref]] = field(default_factory=list)  # new file pos, original
    texts: list[tuple[_Ref, Extraction]] = field(default_factory=list)
    replaced_texts: list[int] = field(default_factory=list)  # changed files' ids
    events: list[tuple[dict[str, Any], _Ref, _Ref]] = field(default_factory=list)
    problems: list[dict[str, Any]] = field(default_factory=list)
    touched: list[_Ref] = field(default_factory=list)  # items whose extents to recompute


def write_batch(s: Session, batch: list[Described], run_id: int,
                scientist_of: Callable[[int | NewScientist | None], int | None],
                code_of: Callable[[int | None], str | None], tally: IngestReport) -> None:
    """Write `batch` in `s` (one transaction); count what was done in `tally`."""
    roots: dict[int, str] = dict(s.execute(select(Root.id, Root.path)).all())
    copies = _catalogued_copies(s, {d.extraction.sha256 for d in batch
                                    if d.extraction.sha256 and d.extraction.size}, roots)
    known = _known_items(s, {(d.job.root_id, d.facts.key) for d in batch
                             if d.job.existing_id is None})
    old = _changed_files(s, [d.job.existing_id for d in batch if d.job.existing_id is not None])
    rows = _Rows()
    for d in batch:
        job, res = d.job, d.extraction
        if job.existing_id is not None:
            _plan_changed(rows, d, old[job.existing_id], tally)
        else:
            found = copies.setdefault(res.sha256 or "", []) if res.size and res.sha256 else []
            decided = copy_fate(found, _gone)
            fate, copy = decided
            if fate == "move" and copy is not None:
                found.remove(copy)
                rows.moves.append({"id": copy.file.id, "root_id": job.root_id, "path": job.path,
                                   "folder": job.folder, "path_raw": job.path_raw,
                                   "size": job.size, "mtime_ns": job.mtime_ns})
                rows.events.append(({"kind": MOVE, "field": "path", "old_value": copy.path,
                                     "new_value": job.path,
                                     "detail": f"{copy.path} -> {job.path}"},
                                    copy.file, copy.item))
                if copy.missing and copy.file.id is not None:
                    rows.status_read_again.append(copy.file.id)
                rows.touched.append(copy.item)
                tally.moved += 1
                continue
            item = _plan_item(s, rows, d, known, scientist_of, code_of)
            file = _Ref(pos=len(rows.files))
            rows.files.append({"root_id": job.root_id, "path": job.path, "folder": job.folder,
                               "path_raw": job.path_raw, "size": job.size,
                               "mtime_ns": job.mtime_ns, "role": job.grouping.role,
                               **_file_columns(res)})
            rows.file_items.append(item)
            rows.touched.append(item)
            rows.events += [(e, file, item) for e in _extraction_events(res, first=True)]
            tally.new += 1
            tally.bytes_read += res.size
            if fate == "duplicate" and copy is not None:
                rows.duplicates.append((len(rows.files) - 1, copy.file))
                tally.duplicates.append((job.path, copy.path))
                rows.problems.append({"kind": "duplicate", "path": job.path, "stage": "checksum",
                                      "reason": f"same bytes as {copy.path}"})
            elif res.sha256 and res.size:
                found.append(_Copy(file, item, job.path, job.abs))
            if res.text or res.cues:
                rows.texts.append((file, res))
        if res.problem:
            tally.problems.append({"path": job.path, "stage": res.problem_stage or "extract",
                                   "reason": res.problem})
            rows.problems.append({"kind": "problem", "path": job.path,
                                  "stage": res.problem_stage, "reason": res.problem})
    _store(s, rows, run_id)


def _gone(c: _Copy) -> bool:
    """A catalogued copy whose file is no longer there (this batch's own files never are)."""
    return c.file.id is not None and not os.path.exists(c.abs)


def _plan_changed(rows: _Rows, d: Described,
                  old: tuple[str | None, int, str | None, str | None],
                  tally: IngestReport) -> None:
    job, res = d.job, d.extraction
    old_sha, item_id, status, old_problem = old
    assert job.existing_id is not None
    file, item = _Ref(id=job.existing_id), _Ref(id=item_id)
    rows.changed.append({"id": job.existing_id, "size": job.size, "mtime_ns": job.mtime_ns,
                         **_file_columns(res)})
    if status == "missing":  # gone at an earlier run, back at its path now
        rows.events.append(({"kind": RESTORED, "detail": f"{job.path} is back"}, file, item))
        tally.restored.append(job.path)
    if status in ("changed", "missing"):  # verify's finding, or back: read again
        rows.status_read_again.append(job.existing_id)
    rows.touched.append(item)
    if res.text or res.cues:
        rows.texts.append((file, res))
        rows.replaced_texts.append(job.existing_id)
    tally.bytes_read += res.size
    if old_sha == res.sha256 and (not res.problem or res.problem == old_problem):
        # Touched, or a problem tried again (--retry-problems) with the same outcome: the
        # same bytes and the same facts are not a change (#12.14).
        tally.unchanged += 1
        return
    tally.changed += 1
    if old_sha != res.sha256:
        rows.events.append(({"kind": "modification",
                             "detail": f"content changed: sha256 {old_sha} -> {res.sha256}"},
                            file, item))
    rows.events += [(e, file, item) for e in _extraction_events(res, first=False)]


def _plan_item(s: Session, rows: _Rows, d: Described, known: dict[tuple[int, str], _KnownItem],
               scientist_of: Callable[[int | NewScientist | None], int | None],
               code_of: Callable[[int | None], str | None]) -> _Ref:
    """The item a new file joins: catalogued, opened earlier in this batch, or new."""
    job, facts = d.job, d.facts
    key = (job.root_id, facts.key)
    main = job.grouping.role in MAIN_ROLES
    existing = known.get(key)
    if existing is not None:
        if main and existing.type_source == "sidecar":
            # The item was opened by its transcript before its main file was written.
            rows.retyped[existing.id] = (facts.type, facts.type_source)
            existing.type_source = facts.type_source
        return _Ref(id=existing.id)
    pos = rows.item_at.get(key)
    if pos is not None:
        row = rows.items[pos]
        if main and row["type_source"] == "sidecar":
            row.update(type=facts.type, type_source=facts.type_source)
        return _Ref(pos=pos)
    scientist_id = scientist_of(facts.scientist)
    rows.item_at[key] = len(rows.items)
    # The number is taken when the batch is stored, every prefix's at once (archive/accession.py).
    rows.items.append({"accession": accession_prefix(code_of(scientist_id), facts.type),
                       "root_id": job.root_id, "scientist_id": scientist_id, **facts.columns()})
    return _Ref(pos=len(rows.items) - 1)


def _table(model: type) -> Table:
    table = model.__table__  # type: ignore[attr-defined]
    assert isinstance(table, Table)
    return table


# The batch's new rows go in on the tables, not through the ORM: an ORM bulk insert walks
# every row and column in Python before the driver sees them, which cost more than the
# driver's own work (profile in docs/PERFORMANCE.md). Every row of one insert has the same
# keys (an executemany takes its columns from the first row).
_ITEMS, _FILES, _TEXTS = _table(Item), _table(File), _table(FileText)
_EVENTS, _PROBLEMS = _table(Event), _table(IngestProblem)


def _insert_returning_ids(s: Session, table: Table, rows: list[dict[str, Any]]) -> list[int]:
    """Insert `rows`; their new ids, in the rows' order."""
    return list(s.connection().execute(
        insert(table).returning(table.c.id, sort_by_parameter_order=True), rows).scalars())


def _store(s: Session, rows: _Rows, run_id: int) -> None:
    """Write the planned rows: new items, then files (they need the items' ids), then what
    refers to files."""
    item_ids: list[int] = []
    now = utcnow()  # one time for the batch's new rows: they are written in one transaction
    if rows.items:
        numbers = take_accessions(s, [row["accession"] for row in rows.items])
        for row, number in zip(rows.items, numbers, strict=True):
            row.update(accession=number, created_at=now, updated_at=now)
        item_ids = _insert_returning_ids(s, _ITEMS, rows.items)
    if rows.retyped:
        s.execute(update(Item), [{"id": i, "type": t, "type_source": ts}
                                 for i, (t, ts) in rows.retyped.items()])
    file_ids: list[int] = []
    if rows.files:
        for row, item in zip(rows.files, rows.file_items, strict=True):
            row["item_id"] = item.resolve(item_ids)
        file_ids = _insert_returning_ids(s, _FILES, rows.files)
    if rows.duplicates:
        s.execute(update(File), [{"id": file_ids[pos],
                                  "duplicate_of_id": original.resolve(file_ids)}
                                 for pos, original in rows.duplicates])
    if rows.changed:
        s.execute(update(File), rows.changed)
    if rows.status_read_again:
        s.execute(update(File).where(File.id.in_(rows.status_read_again))
                  .values(status="present", status_since=utcnow())
                  .execution_options(synchronize_session=False))
    if rows.moves:
        s.execute(update(File), rows.moves)
    if rows.replaced_texts:
        s.execute(delete(FileText).where(FileText.file_id.in_(rows.replaced_texts))
                  .execution_options(synchronize_session=False))
    con = s.connection()
    if rows.texts:
        con.execute(insert(_TEXTS), [{"file_id": f.resolve(file_ids), "text": res.text or "",
                                      "cues": res.cues} for f, res in rows.texts])
    if rows.events:
        # Every row with every key: an insert of many rows takes its columns from the first,
        # so a key only later rows have (a move's paths, a failed outcome) would be dropped.
        base = {"run_id": run_id, "tool": TOOL, "outcome": "success", "agent": None,
                "field": None, "old_value": None, "new_value": None, "detail": None, "at": now}
        con.execute(insert(_EVENTS), [{**base, **e, "file_id": f.resolve(file_ids),
                                       "item_id": i.resolve(item_ids)}
                                      for e, f, i in rows.events])
    if rows.problems:
        con.execute(insert(_PROBLEMS), [{"run_id": run_id, **p} for p in rows.problems])
    refresh_extents(s, {i.resolve(item_ids) for i in rows.touched})


def _catalogued_copies(s: Session, shas: set[str], roots: dict[int, str]) -> dict[str, list[_Copy]]:
    """Catalogued originals (not duplicates) with these checksums, oldest first."""
    found: dict[str, list[_Copy]] = {}
    if shas:
        for fid, item_id, root_id, path, raw, sha, status in s.execute(
                select(File.id, File.item_id, File.root_id, File.path, File.path_raw, File.sha256,
                       File.status)
                .where(File.sha256.in_(shas), File.duplicate_of_id.is_(None)).order_by(File.id)):
            found.setdefault(sha or "", []).append(_Copy(_Ref(id=fid), _Ref(id=item_id), path,
                                                   filesystem_path(roots[root_id], path, raw),
                                                   missing=status == "missing"))
    return found


def _known_items(s: Session, keys: set[tuple[int, str]]) -> dict[tuple[int, str], _KnownItem]:
    """Catalogued items with these (root, key): the files of an item may come in batches."""
    if not keys:
        return {}
    rows = s.execute(select(Item.id, Item.root_id, Item.key, Item.type_source)
                     .where(Item.key.in_({k for _, k in keys})))
    return {(r or 0, k or ""): _KnownItem(i, ts) for i, r, k, ts in rows if (r, k) in keys}


def _changed_files(s: Session,
                   ids: list[int]) -> dict[int, tuple[str | None, int, str | None, str | None]]:
    """file id -> (sha256, item id, status, problem) of catalogued files found changed on
    disk."""
    if not ids:
        return {}
    return {i: (sha, item, status, problem) for i, sha, item, status, problem in s.execute(
        select(File.id, File.sha256, File.item_id, File.status, File.problem)
        .where(File.id.in_(ids)))}


def _file_columns(res: Extraction) -> dict[str, Any]:
    return {
        "sha256": res.sha256, "mime": res.mime, "format": res.format, "problem": res.problem,
        "problem_stage": res.problem_stage if res.problem else None, "width": res.width,
        "height": res.height, "duration": res.duration, "pages": res.pages,
        "camera_make": res.camera_make, "camera_model": res.camera_model,
        "date_taken": iso_exif_datetime(res.date_taken), "gps_lat": res.gps_lat,
        "gps_lon": res.gps_lon, "orientation": res.orientation,
        "tech": {"kind": res.kind, **res.tech} if res.tech or res.kind else None,
    }


def _extraction_events(res: Extraction, first: bool) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    if first:
        events.append({"kind": "ingestion", "detail": "catalogued in place"})
    if res.sha256:
        events.append({"kind": "message digest calculation", "detail": f"sha256 {res.sha256}",
                       "tool": "hashlib sha256"})
    events.append({"kind": "metadata extraction", "tool": ", ".join(res.tools) or TOOL,
                   "outcome": "failure" if res.problem else "success",
                   "detail": res.problem or f"{res.mime} identified as {res.kind}"})
    return events


def refresh_extents(s: Session, item_ids: set[int]) -> None:
    """Recompute the pages and seconds of items from their main files (not transcripts, not
    duplicate copies), so stats are sums over items, never over files counted twice. One
    executemany, on the table: no ORM bookkeeping per item."""
    if not item_ids:
        return
    main = File.role.in_(MAIN_ROLES) & File.duplicate_of_id.is_(None)
    page_count = case((File.pages.is_not(None), File.pages),
                      (File.mime.like("image/%"), 1), else_=None)
    rows = s.execute(
        select(File.item_id, func.sum(page_count), func.sum(File.duration))
        .where(File.item_id.in_(item_ids), main).group_by(File.item_id)).all()
    values: dict[int, tuple[int | None, float | None]] = dict.fromkeys(item_ids, (None, None))
    for item_id, pages, seconds in rows:
        values[item_id] = (int(pages) if pages else None,
                           round(float(seconds), 3) if seconds else None)
    table = Item.__table__
    assert isinstance(table, Table)
    s.connection().execute(
        update(table).where(table.c.id == bindparam("item")).values(
            pages=bindparam("item_pages"), seconds=bindparam("item_seconds")),
        [{"item": i, "item_pages": p, "item_seconds": sec} for i, (p, sec) in values.items()])
    record_changes(s, item_ids)
