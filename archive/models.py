"""SQLAlchemy 2.0 models of the catalog: the record everything else is rebuilt from."""
from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON, BigInteger, Date, DateTime, Float, ForeignKey, Index, Integer, LargeBinary, String,
    Text, UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Scientist(Base):
    __tablename__ = "scientists"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)  # preferred form, usually Chinese
    variants: Mapped[list[Any] | None]  # other written forms, as recorded, for display
    born: Mapped[int | None]
    died: Mapped[int | None]
    field: Mapped[str | None] = mapped_column(String(200))
    biography: Mapped[str | None] = mapped_column(Text)  # `archive scientists edit --biography`
    code: Mapped[str] = mapped_column(String(16))  # accession prefix, e.g. QXS
    names: Mapped[list[ScientistName]] = relationship(
        back_populates="scientist", cascade="all, delete-orphan", order_by="ScientistName.id"
    )


class ScientistName(Base):
    """The normalised matching keys of every form a scientist is known by (name_keys)."""
    __tablename__ = "scientist_names"
    id: Mapped[int] = mapped_column(primary_key=True)
    scientist_id: Mapped[int] = mapped_column(ForeignKey("scientists.id", ondelete="CASCADE"))
    name: Mapped[str] = mapped_column(String(200))
    key: Mapped[str] = mapped_column(String(200), index=True)
    kind: Mapped[str] = mapped_column(String(16))  # preferred, variant, pinyin
    scientist: Mapped[Scientist] = relationship(back_populates="names")
    __table_args__ = (UniqueConstraint("scientist_id", "key"),)


class Root(Base):
    """A source folder files are catalogued in place under; paths are stored relative to it."""
    __tablename__ = "roots"
    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(1000), unique=True)
    added_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Item(Base):
    """The intellectual unit a researcher cites: one letter (its pages and transcription), one
    interview, one photograph."""
    __tablename__ = "items"
    id: Mapped[int] = mapped_column(primary_key=True)
    accession: Mapped[str] = mapped_column(String(40), unique=True)
    root_id: Mapped[int | None] = mapped_column(ForeignKey("roots.id"))
    key: Mapped[str | None] = mapped_column(String(1000))  # root-relative folder/stem of files
    title: Mapped[str] = mapped_column(String(500))
    type: Mapped[str] = mapped_column(String(20), index=True)
    type_source: Mapped[str | None] = mapped_column(String(12))  # manifest/option/content/sidecar
    scientist_id: Mapped[int | None] = mapped_column(ForeignKey("scientists.id"), index=True)
    date: Mapped[str | None] = mapped_column(String(40))
    date_start: Mapped[dt.date | None] = mapped_column(Date, index=True)
    date_end: Mapped[dt.date | None] = mapped_column(Date)
    date_precision: Mapped[str | None] = mapped_column(String(10))
    description: Mapped[str | None] = mapped_column(Text)
    access: Mapped[str] = mapped_column(String(12), default="open")
    # Sealed until: a restricted or closed item opens by itself on this date (archive/access.py).
    access_until: Mapped[dt.date | None] = mapped_column(Date)
    rights: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(500))
    collection: Mapped[str | None] = mapped_column(String(500))
    extra: Mapped[dict[str, Any] | None]
    pages: Mapped[int | None]
    seconds: Mapped[float | None] = mapped_column(Float)
    # Withdrawn items leave every public surface (search, site, exhibits, exports) but stay in
    # the catalog with their files and events (archive/access.py is the one rule).
    withdrawn_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    withdrawn_reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow,
                                                    index=True)
    scientist: Mapped[Scientist | None] = relationship()
    files: Mapped[list[File]] = relationship(back_populates="item", order_by="File.path")
    __table_args__ = (UniqueConstraint("root_id", "key"),)


class File(Base):
    """One bitstream of an item, catalogued in place, with its technical metadata."""
    __tablename__ = "files"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    root_id: Mapped[int] = mapped_column(ForeignKey("roots.id"))
    path: Mapped[str] = mapped_column(String(2000))  # root-relative, POSIX, see archive.paths
    folder: Mapped[str] = mapped_column(String(2000))  # root-relative folder, for look-ups by it
    path_raw: Mapped[bytes | None] = mapped_column(LargeBinary)  # only when the name isn't UTF-8
    size: Mapped[int] = mapped_column(BigInteger)
    mtime_ns: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    mime: Mapped[str | None] = mapped_column(String(100))
    format: Mapped[str | None] = mapped_column(String(40))
    role: Mapped[str] = mapped_column(String(12))
    problem: Mapped[str | None] = mapped_column(Text)
    problem_stage: Mapped[str | None] = mapped_column(String(20))
    duplicate_of_id: Mapped[int | None] = mapped_column(ForeignKey("files.id"))
    width: Mapped[int | None]
    height: Mapped[int | None]
    duration: Mapped[float | None] = mapped_column(Float)
    pages: Mapped[int | None]
    camera_make: Mapped[str | None] = mapped_column(String(200))
    camera_model: Mapped[str | None] = mapped_column(String(200))
    date_taken: Mapped[str | None] = mapped_column(String(40))
    gps_lat: Mapped[float | None] = mapped_column(Float)
    gps_lon: Mapped[float | None] = mapped_column(Float)
    orientation: Mapped[int | None]
    tech: Mapped[dict[str, Any] | None]  # everything else the extractor found
    # Fixity: present (NULL in catalogs made before this column), missing or changed. A changed
    # file keeps the checksum it was catalogued with until an ingest records the modification.
    status: Mapped[str | None] = mapped_column(String(12))
    status_since: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_verified: Mapped[dt.datetime | None] = mapped_column(DateTime, index=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    item: Mapped[Item] = relationship(back_populates="files")
    root: Mapped[Root] = relationship()
    text: Mapped[FileText | None] = relationship(cascade="all, delete-orphan")
    __table_args__ = (
        UniqueConstraint("root_id", "path"),
        Index("ix_files_root_folder", "root_id", "folder"),
    )


class FileText(Base):
    """Extracted text kept apart from File so scans of the files table stay small."""
    __tablename__ = "file_texts"
    file_id: Mapped[int] = mapped_column(ForeignKey("files.id", ondelete="CASCADE"),
                                         primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    cues: Mapped[list[Any] | None]  # [[start_s, end_s, text], ...] for SRT/VTT transcripts


class Event(Base):
    """Provenance, PREMIS-style: what was done to an item or file, when, by whom (agent), with
    which tool and version, with what outcome, and for edits the field's old and new values.
    Events are never rewritten; a forgotten file's deletion event keeps its path in `detail`
    after the file row is gone (file_id is then NULL)."""
    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("items.id"), index=True)
    file_id: Mapped[int | None] = mapped_column(ForeignKey("files.id", ondelete="SET NULL"),
                                                index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("ingest_runs.id"))
    kind: Mapped[str] = mapped_column(String(30))
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    agent: Mapped[str | None] = mapped_column(String(200))  # --by NAME, else the OS user
    tool: Mapped[str | None] = mapped_column(String(100))
    outcome: Mapped[str] = mapped_column(String(20), default="success")
    field: Mapped[str | None] = mapped_column(String(40))  # the field an edit changed
    old_value: Mapped[str | None] = mapped_column(Text)
    new_value: Mapped[str | None] = mapped_column(Text)
    detail: Mapped[str | None] = mapped_column(Text)


class IngestRun(Base):
    """One run of `archive ingest` (kind NULL, as in catalogs made before verify runs were
    kept) or of `archive verify` (kind "verify"), with its counts; `archive runs` lists them."""
    __tablename__ = "ingest_runs"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str | None] = mapped_column(String(12))
    started_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    finished_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    status: Mapped[str] = mapped_column(String(20), default="running")
    roots: Mapped[list[Any]]
    options: Mapped[dict[str, Any] | None]
    counts: Mapped[dict[str, Any] | None]
    problems: Mapped[list[IngestProblem]] = relationship(order_by="IngestProblem.id")


class UsedManifest(Base):
    """A file the catalog has read as a manifest, by path and by content: never catalogued as
    an item (its rows may describe closed material), wherever it or a copy of it lies."""
    __tablename__ = "used_manifests"
    id: Mapped[int] = mapped_column(primary_key=True)
    path: Mapped[str] = mapped_column(String(2000))  # absolute, as ingest resolved it
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    first_used_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    last_used_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    __table_args__ = (UniqueConstraint("path", "sha256"),)


class ForgottenFile(Base):
    """A file `archive forget` took out of the catalog: later ingests skip it at this path
    (with a line in their report) unless `--include-forgotten` asks for it again."""
    __tablename__ = "forgotten_files"
    id: Mapped[int] = mapped_column(primary_key=True)
    root_id: Mapped[int] = mapped_column(ForeignKey("roots.id"))
    path: Mapped[str] = mapped_column(String(2000))  # root-relative, POSIX, as File.path
    path_raw: Mapped[bytes | None] = mapped_column(LargeBinary)  # as File.path_raw
    sha256: Mapped[str | None] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text)
    forgotten_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    __table_args__ = (UniqueConstraint("root_id", "path"),)


class IngestProblem(Base):
    """One line of a run's report: a failed, skipped or duplicate file."""
    __tablename__ = "ingest_problems"
    id: Mapped[int] = mapped_column(primary_key=True)
    run_id: Mapped[int] = mapped_column(ForeignKey("ingest_runs.id"), index=True)
    # problem, skipped, duplicate, missing; a verify run's changed, missing, unreadable
    kind: Mapped[str] = mapped_column(String(12))
    path: Mapped[str] = mapped_column(String(2000))
    stage: Mapped[str | None] = mapped_column(String(20))
    reason: Mapped[str] = mapped_column(Text)


class ManifestValue(Base):
    """The value a manifest row last gave one field of an item, and when it was seen: a row
    re-applied unchanged is then known to be unchanged, and does not undo a later edit
    (archive/precedence.py)."""
    __tablename__ = "manifest_values"
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id", ondelete="CASCADE"),
                                         primary_key=True)
    field: Mapped[str] = mapped_column(String(20), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)
    seen_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Change(Base):
    """The change log the search index (and OAI-PMH harvesters) follow: every write to an item
    (ingest, edit, withdrawal, merge, forget) adds a row, so `seq` only grows. An index keeps
    the last seq it applied and catches up by reading the rows after it (archive/changes.py).
    No foreign key: a forgotten item's last change must outlive it."""
    __tablename__ = "changes"
    seq: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                     primary_key=True, autoincrement=True)
    item_id: Mapped[int] = mapped_column(index=True)
    kind: Mapped[str] = mapped_column(String(12), default="update")  # update or delete
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class Counter(Base):
    """Last number handed out per accession prefix, so numbers are never reused."""
    __tablename__ = "counters"
    prefix: Mapped[str] = mapped_column(String(40), primary_key=True)
    last: Mapped[int] = mapped_column(Integer, default=0)


class Lock(Base):
    """A held writer lock (archive/lock.py): one row per lock and folder, so it works the same
    on SQLite and PostgreSQL. `scope` is the folder an ingest walks, NULL for the catalog.
    The holder renews `lease_until` while it runs; a lock whose lease ran out is free, so a
    machine that died gives its folders back (NULL: no lease, held until cleared)."""
    __tablename__ = "locks"
    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    scope: Mapped[str | None] = mapped_column(Text)
    host: Mapped[str] = mapped_column(String(200))
    pid: Mapped[int]
    acquired_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    lease_until: Mapped[dt.datetime | None] = mapped_column(DateTime)


class WorkClaim(Base):
    """A machine's claim on one file's pending work of one kind (derive, verify, ocr) until
    its lease expires; done_at once the results are recorded (archive/claims.py)."""
    __tablename__ = "work_claims"
    kind: Mapped[str] = mapped_column(String(12), primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("files.id", ondelete="CASCADE"),
                                         primary_key=True, index=True)
    holder: Mapped[str] = mapped_column(String(200))  # host:pid
    claimed_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(DateTime)
    done_at: Mapped[dt.datetime | None] = mapped_column(DateTime)


class Exhibit(Base):
    """A curator's exhibit: an ordered checklist of items in sections (rooms or cases)."""
    __tablename__ = "exhibits"
    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(100), unique=True)
    title: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    entries: Mapped[list[ExhibitItem]] = relationship(
        back_populates="exhibit", cascade="all, delete-orphan", order_by="ExhibitItem.position")


class ExhibitItem(Base):
    __tablename__ = "exhibit_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    exhibit_id: Mapped[int] = mapped_column(ForeignKey("exhibits.id", ondelete="CASCADE"),
                                            index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"))
    position: Mapped[int]  # 1-based, contiguous within the exhibit
    section: Mapped[str | None] = mapped_column(String(200))
    caption: Mapped[str | None] = mapped_column(Text)
    exhibit: Mapped[Exhibit] = relationship(back_populates="entries")
    item: Mapped[Item] = relationship()
    __table_args__ = (UniqueConstraint("exhibit_id", "item_id"),)


class Meta(Base):
    """Facts about the catalog itself, as key and value. (Its schema revision is in Alembic's
    alembic_version table: archive/schema.py; releases before revisions kept a fingerprint.)"""
    __tablename__ = "archive_meta"
    key: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class OcrPage(Base):
    """One page of a file as the OCR read it: the unit `archive ocr` resumes by (a page with a
    row for the same engine and model is not read again unless forced). `page` is 1-based (1
    for a single image); width and height are the pixels of the page image the line boxes are
    measured in, after EXIF orientation. A page that could not be read keeps its error."""
    __tablename__ = "ocr_pages"
    id: Mapped[int] = mapped_column(primary_key=True)
    file_id: Mapped[int] = mapped_column(ForeignKey("files.id", ondelete="CASCADE"), index=True)
    page: Mapped[int]
    width: Mapped[int | None]
    height: Mapped[int | None]
    engine: Mapped[str] = mapped_column(String(60))  # e.g. "rapidocr 3.4.2"
    model: Mapped[str] = mapped_column(String(200))  # the detection/recognition models used
    status: Mapped[str] = mapped_column(String(12))  # read, failed
    error: Mapped[str | None] = mapped_column(Text)
    rotation: Mapped[int | None]  # degrees the page was turned to be read upright
    seconds: Mapped[float | None] = mapped_column(Float)
    read_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    lines: Mapped[list[OcrLine]] = relationship(
        back_populates="page_row", cascade="all, delete-orphan", order_by="OcrLine.line_no")
    __table_args__ = (UniqueConstraint("file_id", "page"),)


class OcrLine(Base):
    """One machine-read line of a page, in reading order, with its box in the page image's
    pixels: what search snippets, the item page's outlines and IIIF annotations are made of."""
    __tablename__ = "ocr_lines"
    id: Mapped[int] = mapped_column(primary_key=True)
    page_id: Mapped[int] = mapped_column(ForeignKey("ocr_pages.id", ondelete="CASCADE"),
                                         index=True)
    line_no: Mapped[int]  # 1-based reading order on the page
    text: Mapped[str] = mapped_column(Text)
    x: Mapped[int]
    y: Mapped[int]
    w: Mapped[int]
    h: Mapped[int]
    confidence: Mapped[float | None] = mapped_column(Float)
    page_row: Mapped[OcrPage] = relationship(back_populates="lines")


class User(Base):
    """A person who signs in to the site: a registered researcher, staff or an administrator
    (archive/access.py says what each role may see). Passwords are stored only as hashes."""
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    email: Mapped[str | None] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(12))  # researcher, staff, admin
    password_hash: Mapped[str | None] = mapped_column(String(300))
    disabled_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None] = mapped_column(DateTime)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)


class AccessRequest(Base):
    """A researcher's request to see one restricted item, and its decision. An approved request
    is the grant: it lets that researcher see that item until `expires_at`."""
    __tablename__ = "access_requests"
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("items.id"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(12), default="pending")  # approved, denied
    created_at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow)
    decided_at: Mapped[dt.datetime | None] = mapped_column(DateTime)
    decided_by: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[dt.datetime | None] = mapped_column(DateTime, index=True)


class AuditEntry(Base):
    """One view or download of restricted or closed material: who (NULL for nobody signed in),
    what, when and from which address, and whether it was served or refused (someone without
    the right asked for it). Rows are only ever added (archive/audit.py)."""
    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(DateTime, default=utcnow, index=True)
    user_name: Mapped[str | None] = mapped_column(String(100), index=True)
    item_id: Mapped[int | None] = mapped_column(index=True)  # no foreign key: outlives the item
    accession: Mapped[str | None] = mapped_column(String(40), index=True)
    action: Mapped[str] = mapped_column(String(20))  # page, file, derivative, snippet, manifest
    path: Mapped[str | None] = mapped_column(String(2000))  # the URL or file asked for
    address: Mapped[str | None] = mapped_column(String(64))
    outcome: Mapped[str] = mapped_column(String(12), default="served")  # or "refused"
