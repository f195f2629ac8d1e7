"""Fixity: re-read catalogued files and compare each one's SHA-256 with the catalog's, whatever
its size and mtime say (bagit-python's `validate`, Archivematica's fixity checker).

    outcome_of("ab12…", "ab12…")  -> "ok"
    outcome_of("ab12…", "ff00…")  -> "changed"
    check_file("/gone.jpg", …)    -> Check(outcome="missing", …)
    check_file("/a/fifo", …)      -> Check(outcome="unreadable", reason="not a regular file")

A check never repairs anything: a changed file keeps the checksum it was catalogued with and is
marked `changed` (a later ingest records the modification), a missing one `missing`. Every check
is a `fixity check` event and sets the file's `last_verified`; each run is kept in the catalog
(`ingest_runs` with kind `verify`, its failures in `ingest_problems`) for `archive runs`.

Files are taken a page at a time, least recently verified first (never verified before any),
hashed on `jobs` threads (hashlib and file reads release the GIL; measured no slower than worker
processes on small files, and a stop flag ends a long read at once), and their results written
in batches: memory stays flat at any catalog size.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import stat
import threading
import time
from collections import deque
from collections.abc import Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from sqlalchemy import (
    ColumnElement, Connection, DateTime, and_, bindparam, or_, select, tuple_, update,
)
from sqlalchemy.orm import Session

from archive.catalog import Catalog
from archive.claims import Claims, holder_alive
from archive.errors import UsageError
from archive.events import FIXITY_CHECK, TOOL, agent_name
from archive.models import Base, File, IngestRun, Root, WorkClaim, utcnow
from archive.paths import filesystem_path, local_root
from archive.runs import StoredRun

log = logging.getLogger(__name__)

OK, CHANGED, MISSING, UNREADABLE = "ok", "changed", "missing", "unreadable"
PRESENT = "present"
RUN_KIND = "verify"
CHUNK = 1024 * 1024
PAGE = 500  # catalog rows read at a time
# Files go to a thread in groups (so small files cost one future between them) of up to:
GROUP_FILES = 64
GROUP_BYTES = 8 * CHUNK
# Groups queued per thread: enough that the threads keep reading while a batch is written.
IN_FLIGHT_PER_THREAD = 8
FLUSH_FILES = 500
FLUSH_SECONDS = 2.0


@dataclass(frozen=True)
class VerifyOptions:
    paths: tuple[str, ...] = ()  # check only files under these (absolute or relative) paths
    all: bool = False  # every file, however recently verified
    older_than_days: float | None = None  # only files not verified for this long
    limit: int | None = None  # at most this many files
    max_seconds: float | None = None  # start no file after this long
    jobs: int = 1
    by: str | None = None  # the agent of the events; else the operating-system user


class Target(NamedTuple):
    """One catalogued file to check (a tuple: one is made per file, the hot path)."""
    file_id: int
    item_id: int
    path: str  # on disk, absolute: what the report shows
    disk: str  # what to open (differs from `path` only for names that are not UTF-8)
    expected: str
    status: str | None
    size: int = 0  # as catalogued; only to size the groups
    root_present: bool = True


class Check(NamedTuple):
    outcome: str  # ok, changed, missing, unreadable
    actual: str | None = None
    size: int = 0
    reason: str | None = None


@dataclass(frozen=True)
class ChangedFile:
    path: str
    expected: str
    actual: str


@dataclass(frozen=True)
class UnreadableFile:
    path: str
    reason: str


@dataclass
class FixityReport:
    """What one `archive verify` found; `to_json` is its `--json`."""
    paths: list[str] = field(default_factory=list)
    run_id: int | None = None
    checked: int = 0
    ok: int = 0
    changed: list[ChangedFile] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    unreadable: list[UnreadableFile] = field(default_factory=list)
    bytes: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    time_limit_reached: bool = False

    @property
    def exit_code(self) -> int:
        return 0 if self.ok == self.checked and not self.interrupted else 1

    def counts(self) -> dict[str, int]:
        return {"checked": self.checked, "ok": self.ok, "changed": len(self.changed),
                "missing": len(self.missing), "unreadable": len(self.unreadable),
                "bytes": self.bytes}

    def to_json(self) -> dict[str, Any]:
        return {"run": self.run_id, "checked": self.checked, "ok": self.ok,
                "changed": [{"path": c.path, "expected": c.expected, "actual": c.actual}
                            for c in self.changed],
                "missing": list(self.missing),
                "unreadable": [{"path": u.path, "reason": u.reason} for u in self.unreadable],
                "bytes": self.bytes, "seconds": round(self.seconds, 3),
                "interrupted": self.interrupted}

    def add(self, target: Target, check: Check) -> None:
        self.checked += 1
        self.bytes += check.size
        if check.outcome == OK:
            self.ok += 1
        elif check.outcome == CHANGED:
            self.changed.append(ChangedFile(target.path, target.expected, check.actual or ""))
        elif check.outcome == MISSING:
            self.missing.append(target.path)
        else:
            self.unreadable.append(UnreadableFile(target.path, check.reason or "unreadable"))


class Progress(Protocol):
    """What verify tells a progress display after each file; the CLI draws it."""

    def update(self, report: FixityReport, current: str) -> None: ...


class NullProgress:
    def update(self, report: FixityReport, current: str) -> None:
        return None


class Stopped(Exception):
    """A read given up because the run is stopping (Ctrl-C)."""


# -- checking one file (pure apart from reading it) -------------------------------------------

def outcome_of(expected: str, actual: str) -> str:
    """ok when the digests agree, else changed (hex digests compare case-blind)."""
    return OK if expected.lower() == actual.lower() else CHANGED


def check_file(disk: str, expected: str, stop: threading.Event | None = None) -> Check:
    """Read the whole file and compare. Never follows a symbolic link put in the file's place
    and never blocks on a FIFO: the walk catalogued a regular file, so only one is read."""
    try:
        fd = os.open(disk, os.O_RDONLY | os.O_NONBLOCK | os.O_NOFOLLOW)
    except (FileNotFoundError, NotADirectoryError):
        return Check(MISSING)
    except OSError as exc:
        if os.path.islink(disk):
            return Check(UNREADABLE, reason="a symbolic link is now in the file's place")
        return Check(UNREADABLE, reason=f"cannot open: {exc.strerror or exc}")
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            return Check(UNREADABLE, reason="not a regular file")
        digest = hashlib.sha256()
        total = 0
        buf, view = _buffer()
        try:
            while n := os.readv(fd, [buf]):
                digest.update(view[:n])
                total += n
                if stop is not None and stop.is_set():
                    raise Stopped
        except OSError as exc:
            return Check(UNREADABLE, size=total,
                         reason=f"read failed after {total} bytes: {exc.strerror or exc}")
    finally:
        os.close(fd)
    actual = digest.hexdigest()
    return Check(outcome_of(expected, actual), actual, total)


_buffers = threading.local()


def _buffer() -> tuple[bytearray, memoryview]:
    """This thread's read buffer, made once: a fresh zero-filled megabyte per file cost a
    small file more than hashing it."""
    pair: tuple[bytearray, memoryview] | None = getattr(_buffers, "pair", None)
    if pair is None:
        buf = bytearray(CHUNK)
        pair = _buffers.pair = (buf, memoryview(buf))
    return pair


def check_group(targets: list[Target], stop: threading.Event) -> list[Check]:
    """Check several files on one thread; a file whose root folder is gone is not read."""
    out = []
    for t in targets:
        if stop.is_set():
            raise Stopped
        if not t.root_present:
            out.append(Check(UNREADABLE, reason="its root folder is not there (a disk not "
                                                "mounted?); nothing was marked missing"))
        else:
            out.append(check_file(t.disk, t.expected, stop))
    return out


def event_detail(target: Target, check: Check) -> str:
    """The `fixity check` event's detail.

        ok          -> "sha256 ab12… matches"
        changed     -> "sha256 ff00… on disk, ab12… in the catalog"
        missing     -> "no file at /data/x.jpg"
        unreadable  -> "not a regular file"
    """
    if check.outcome == OK:
        return f"sha256 {target.expected} matches"
    if check.outcome == CHANGED:
        return f"sha256 {check.actual} on disk, {target.expected} in the catalog"
    if check.outcome == MISSING:
        return f"no file at {target.path}"
    return check.reason or "unreadable"


def changed_reason(expected: str, actual: str) -> str:
    """How a changed file is kept in the run's problems; parse_changed reads it back.

        changed_reason("ab", "cd") -> "expected ab actual cd"
        parse_changed("expected ab actual cd") -> ("ab", "cd")
    """
    return f"expected {expected} actual {actual}"


def parse_changed(reason: str) -> tuple[str, str]:
    words = reason.split()
    if len(words) == 4 and words[0] == "expected" and words[2] == "actual":
        return words[1], words[3]
    return "", ""


def new_status(old: str | None, outcome: str) -> str | None:
    """The file's status after a check, or None when it stays as it is.

        new_status(None, "ok")          -> None        (present, as before)
        new_status("missing", "ok")     -> "present"   (it is back, unchanged)
        new_status(None, "changed")     -> "changed"
        new_status("changed", "changed")-> None
        new_status(None, "unreadable")  -> None        (unknown, so unchanged)
    """
    wanted = {OK: PRESENT, CHANGED: CHANGED, MISSING: MISSING}.get(outcome)
    if wanted is None or (old or PRESENT) == wanted:
        return None
    return wanted


# -- choosing files ---------------------------------------------------------------------------

def _like_prefix(prefix: str) -> str:
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "/%"


def _under(real: str, root: str) -> str | None:
    """The root-relative POSIX prefix of `real` in `root`; "" when real is the root or holds
    it; None when they are apart.

        _under("/r/a/b", "/r")  -> "a/b"
        _under("/r", "/r/x")    -> ""   (the path holds the whole root)
        _under("/q", "/r")      -> None
    """
    if real == root or root.startswith(real.rstrip(os.sep) + os.sep):
        return ""
    if real.startswith(root.rstrip(os.sep) + os.sep):
        return real[len(root.rstrip(os.sep)) + 1:].replace(os.sep, "/")
    return None


def path_filter(roots: dict[int, str], paths: Sequence[str]) -> ColumnElement[bool]:
    """The files under any of `paths` (on disk, absolute or relative to the working folder).
    UsageError names a path that is under no catalogued root."""
    conditions: list[ColumnElement[bool]] = []
    for p in paths:
        real = os.path.realpath(os.path.expanduser(p))
        found = False
        for root_id, root in roots.items():
            rel = _under(real, os.path.realpath(root))
            if rel is None:
                continue
            found = True
            if rel == "":
                conditions.append(File.root_id == root_id)
            else:
                conditions.append(and_(File.root_id == root_id, or_(
                    File.path == rel, File.path.like(_like_prefix(rel), escape="\\"))))
        if not found:
            raise UsageError(f"{p} is under no catalogued folder; give a path inside a folder "
                             "that was ingested")
    return or_(*conditions)


def _conditions(roots: dict[int, str], options: VerifyOptions,
                started: dt.datetime) -> list[ColumnElement[bool]]:
    base: list[ColumnElement[bool]] = [File.sha256.is_not(None)]
    if options.paths:
        base.append(path_filter(roots, options.paths))
    if options.older_than_days is not None and not options.all:
        cutoff = started - dt.timedelta(days=options.older_than_days)
        base.append(or_(File.last_verified.is_(None), File.last_verified < cutoff))
    return base


def _local_roots(catalog: Catalog, s: Session) -> dict[int, str]:
    """Root id -> where that root is on this machine (the setting root_map)."""
    return {i: local_root(p, catalog.settings.root_mapping)
            for i, p in s.execute(select(Root.id, Root.path))}


def _targets(catalog: Catalog, options: VerifyOptions, started: dt.datetime,
             claims: Claims | None = None, only: list[int] | None = None) -> Iterator[Target]:
    """Files to check, least recently verified first, a page at a time. Keyset paging on
    (last_verified, id): the rows this run updates move past `started` and are not met again.
    With `claims`, only the files of each page this run could claim (other machines check
    the rest); `only`: these files alone (work another machine may give back)."""
    with catalog.session() as s:
        roots = _local_roots(catalog, s)
    present = {rid: os.path.isdir(path) for rid, path in roots.items()}
    base = _conditions(roots, options, started)
    if only is not None:
        base.append(File.id.in_(only))
    for page in _pages(catalog, base, started):
        mine = set(claims.take([r.id for r in page])) if claims is not None else None
        for r in page:
            if mine is None or r.id in mine:
                yield _target(r, roots, present)
    if only is not None and claims is not None:  # checked meanwhile, or gone: not waited for
        with catalog.session() as s:
            still = set(s.scalars(select(File.id).where(*base)))
        claims.elsewhere &= still


def _pages(catalog: Catalog, base: list[ColumnElement[bool]],
           started: dt.datetime) -> Iterator[Sequence[Any]]:
    columns = (File.id, File.item_id, File.root_id, File.path, File.path_raw, File.sha256,
               File.size, File.status, File.last_verified)
    # First the never-verified files in id order, then the rest oldest first.
    last_id = 0
    while True:
        with catalog.engine.connect() as con:
            rows = con.execute(select(*columns).where(*base, File.last_verified.is_(None),
                                                    File.id > last_id)
                             .order_by(File.id).limit(PAGE)).all()
        yield rows
        if len(rows) < PAGE:
            break
        last_id = rows[-1].id
    mark: tuple[dt.datetime, int] | None = None
    while True:
        after = [] if mark is None else [tuple_(File.last_verified, File.id) > tuple_(*mark)]
        with catalog.engine.connect() as con:
            rows = con.execute(select(*columns).where(*base, File.last_verified < started,
                                                      *after)
                             .order_by(File.last_verified, File.id).limit(PAGE)).all()
        yield rows
        if len(rows) < PAGE:
            break
        mark = (rows[-1].last_verified, rows[-1].id)


def _target(r: Any, roots: dict[int, str], present: dict[int, bool]) -> Target:
    root = roots[r.root_id]
    # POSIX catalog paths joined as filesystem_path does, without a split and join per file.
    shown = f"{root.rstrip(os.sep)}{os.sep}{r.path}" if os.sep == "/" else \
        filesystem_path(root, r.path, None)
    disk = filesystem_path(root, r.path, r.path_raw) if r.path_raw else shown
    return Target(r.id, r.item_id, shown, disk, r.sha256, r.status, r.size or 0,
                  present[r.root_id])


# -- recording --------------------------------------------------------------------------------

@dataclass
class _Recorder:
    """Writes results in batches: events, last_verified, status changes, the run's problems."""
    catalog: Catalog
    run_id: int
    agent: str
    claims: Claims | None = None
    pending: list[tuple[Target, Check]] = field(default_factory=list)
    _last: float = field(default_factory=time.monotonic)

    def add(self, target: Target, check: Check) -> None:
        self.pending.append((target, check))
        if len(self.pending) >= FLUSH_FILES or time.monotonic() - self._last > FLUSH_SECONDS:
            self.flush()

    def flush(self) -> None:
        self._last = time.monotonic()
        if not self.pending:
            return
        batch, self.pending = self.pending, []
        dialect = self.catalog.engine.dialect
        checked_at = utcnow()
        now = _bound_time(dialect, checked_at)
        events, problems, plain, moved = [], [], [], []
        for t, c in batch:
            status = new_status(t.status, c.outcome)
            events.append({"kind": FIXITY_CHECK, "item_id": t.item_id, "file_id": t.file_id,
                           "run_id": self.run_id, "agent": self.agent, "tool": TOOL,
                           "outcome": "success" if c.outcome == OK else "failure",
                           "field": None if status is None else "status",
                           "old_value": None if status is None else t.status or PRESENT,
                           "new_value": status, "detail": event_detail(t, c), "at": now})
            if status is None:
                plain.append(t.file_id)
            else:
                moved.append({"fid": t.file_id, "st": status, "at": now})
            if c.outcome == CHANGED:
                problems.append({"kind": CHANGED, "path": t.path, "stage": "fixity",
                                 "reason": changed_reason(t.expected, c.actual or ""),
                                 "run_id": self.run_id})
            elif c.outcome in (MISSING, UNREADABLE):
                problems.append({"kind": c.outcome, "path": t.path, "stage": "fixity",
                                 "reason": c.reason or "no file at this path",
                                 "run_id": self.run_id})
        with self.catalog.engine.begin() as con:
            if plain:
                # One statement for the batch: they share the time, and a statement per row
                # took the GIL back from the hashing threads once per file.
                con.execute(_VERIFIED, {"at": checked_at, "fids": plain})
            for statement, rows in ((_STATUS, moved), (_PROBLEM, problems), (_EVENT, events)):
                if rows:
                    statement.run(con, rows)
            if self.claims is not None:  # done exactly when the checks are recorded
                self.claims.done(con, [t.file_id for t, _ in batch])


class _DriverStatement:
    """A statement compiled once per dialect and run on the driver: through SQLAlchemy's
    per-row parameter processing, recording a check cost more than hashing a small file
    (benchmarks/verify_bench.py). Many rows per INSERT on SQLite, executemany elsewhere.
    Values must already be in the driver's form (`_bound_time` for times)."""

    def __init__(self, statement: Any) -> None:
        self._statement = statement
        self._compiled: dict[str, tuple[str, tuple[str, ...] | None]] = {}

    def run(self, con: Connection, rows: list[dict[str, Any]]) -> None:
        dialect = con.dialect
        if dialect.name not in self._compiled:
            compiled = self._statement.compile(dialect=dialect)
            order = tuple(compiled.positiontup or ()) if compiled.positional else None
            self._compiled[dialect.name] = (str(compiled), order)
        sql, order = self._compiled[dialect.name]
        if order is None:
            con.exec_driver_sql(sql, rows)
            return
        params = [tuple(r[k] for k in order) for r in rows]
        head, values, tail = sql.partition(" VALUES ")
        if not values or dialect.name != "sqlite":
            con.exec_driver_sql(sql, params)
            return
        # An INSERT on SQLite: many rows per statement. executemany binds and steps row by
        # row, taking the GIL back from the hashing threads each time.
        # Bound values one SQLite statement may take: 32766 since SQLite 3.32, 999 before.
        version = getattr(dialect.dbapi, "sqlite_version_info", (0,))
        limit = 32766 if version >= (3, 32) else 999
        per = max(1, limit // max(1, len(order)))
        for i in range(0, len(params), per):
            chunk = params[i:i + per]
            con.exec_driver_sql(f"{head} VALUES {', '.join([tail] * len(chunk))}",
                                tuple(v for row in chunk for v in row))


def _bound_time(dialect: Any, at: dt.datetime) -> Any:
    """A time as the dialect's DateTime stores it (text on SQLite, unchanged elsewhere)."""
    process = DateTime().bind_processor(dialect)
    return process(at) if process is not None else at


def _insert(table: str) -> Any:
    t = Base.metadata.tables[table]
    return t.insert().values({c: bindparam(c) for c in _COLUMNS[table]})


_COLUMNS = {"events": ("kind", "item_id", "file_id", "run_id", "agent", "tool", "outcome",
                       "field", "old_value", "new_value", "detail", "at"),
            "ingest_problems": ("run_id", "kind", "path", "stage", "reason")}
_files = Base.metadata.tables["files"]
# A check alone leaves the row's updated_at be (the file's record did not change); a new
# status is an update.
_VERIFIED = update(_files).where(_files.c.id.in_(bindparam("fids", expanding=True))).values(
    last_verified=bindparam("at", type_=DateTime()), updated_at=_files.c.updated_at)
_STATUS = _DriverStatement(update(_files).where(_files.c.id == bindparam("fid")).values(
    status=bindparam("st"), status_since=bindparam("at"), last_verified=bindparam("at"),
    updated_at=bindparam("at")))
_EVENT = _DriverStatement(_insert("events"))
_PROBLEM = _DriverStatement(_insert("ingest_problems"))


# -- the run ----------------------------------------------------------------------------------

def check_options(options: VerifyOptions) -> None:
    """UsageError for options that contradict each other."""
    if options.all and options.older_than_days is not None:
        raise UsageError("--all checks every file; drop --older-than, or drop --all")
    if options.all and options.paths:
        raise UsageError("--all checks every file; give PATHs or --all, not both")


def verify(catalog: Catalog, options: VerifyOptions,
           progress: Progress | None = None) -> FixityReport:
    """Check files as `options` say; returns the report. Ctrl-C (KeyboardInterrupt) ends the
    run cleanly: what was checked is recorded, the run is marked interrupted and the report
    comes back with `interrupted` set. UsageError for bad options or paths."""
    check_options(options)
    progress = progress or NullProgress()
    report = FixityReport(paths=[os.path.realpath(p) for p in options.paths])
    # Several verify runs (machines) share the work: each claims pages of files
    # (archive/claims.py) and checks only its own.
    claims = Claims(catalog, RUN_KIND, catalog.settings.lease_seconds)
    claims.started = _round_start(catalog, options, report.paths, claims.started)
    with claims.heartbeat():
        try:
            _run(catalog, options, report, agent_name(options.by), progress, claims)
        finally:
            claims.release()
    return report


_NOT_THE_ROUND = {"holder", "jobs", "by"}  # options that may differ between machines


def _round_start(catalog: Catalog, options: VerifyOptions, paths: list[str],
                 now: dt.datetime) -> dt.datetime:
    """When the round this run joins began: the start of the earliest live verify run with
    the same options and paths (another machine's), else now. Files checked since then are
    not checked again, so machines started a little apart still check each file once."""
    same = {k: v for k, v in _options_json(options).items() if k not in _NOT_THE_ROUND}
    lease = dt.timedelta(seconds=catalog.settings.lease_seconds)
    with catalog.session() as s:
        runs = s.execute(select(IngestRun.started_at, IngestRun.roots, IngestRun.options)
                         .where(IngestRun.kind == RUN_KIND, IngestRun.status == "running"))
        # A machine that died long ago left its run "running": only one still holding
        # live claims (or just begun) is a round to join.
        working = set(s.scalars(select(WorkClaim.holder).where(
            WorkClaim.kind == RUN_KIND, WorkClaim.expires_at > now).distinct()))
        starts = [r.started_at for r in runs
                  if list(r.roots or []) == paths
                  and {k: v for k, v in (r.options or {}).items()
                       if k not in _NOT_THE_ROUND} == same
                  and (holder := str((r.options or {}).get("holder", "")))
                  and holder_alive(holder)
                  and (holder in working or r.started_at > now - lease)]
    return min([now, *starts])


def _run(catalog: Catalog, options: VerifyOptions, report: FixityReport, agent: str,
         progress: Progress, claims: Claims) -> None:
    clock = time.monotonic()
    started = claims.started
    targets = _targets(catalog, options, started, claims)
    first = next(targets, None)  # a bad PATH is a UsageError before any run is recorded
    with catalog.session() as s:
        # A verify still marked running whose process on this host is gone was killed: say
        # so. Runs of other machines may be alive.
        dead = [r.id for r in s.execute(select(IngestRun.id, IngestRun.options).where(
                    IngestRun.kind == RUN_KIND, IngestRun.status == "running"))
                if not holder_alive(str((r.options or {}).get("holder", "")))]
        if dead:
            s.execute(update(IngestRun).where(IngestRun.id.in_(dead))
                      .values(status="interrupted"))
        run = IngestRun(kind=RUN_KIND, roots=report.paths,
                        options={**_options_json(options), "holder": claims.holder})
        s.add(run)
        s.flush()
        report.run_id = run.id
    recorder = _Recorder(catalog, run.id, agent, claims)
    status = "completed"
    try:
        if first is not None:
            _check_all(_chain(first, targets), options, recorder, report, progress, clock)
        recorder.flush()
        # Files other machines held: wait until they are checked, or take them back when a
        # machine that stopped lets its lease run out (not when limited by count or time).
        while options.limit is None and options.max_seconds is None and \
                (held := claims.held_elsewhere()):
            _check_all(_targets(catalog, options, started, claims, only=held), options,
                       recorder, report, progress, clock)
            recorder.flush()
            if claims.held_elsewhere() == held:
                time.sleep(min(5.0, claims.lease / 3))
    except KeyboardInterrupt:
        status = "interrupted"
        report.interrupted = True
    finally:
        recorder.flush()
        # Rounded once, here: the live summary and `archive runs show` print the same figures.
        report.seconds = round(time.monotonic() - clock, 3)
        with catalog.session() as s:
            s.execute(update(IngestRun).where(IngestRun.id == run.id).values(
                status=status, finished_at=utcnow(),
                counts={**report.counts(), "seconds": report.seconds,
                        "time_limit_reached": report.time_limit_reached}))


def _chain(first: Target, rest: Iterator[Target]) -> Iterator[Target]:
    yield first
    yield from rest


def _options_json(options: VerifyOptions) -> dict[str, Any]:
    out = {"all": options.all, "older_than_days": options.older_than_days,
           "limit": options.limit, "max_seconds": options.max_seconds, "jobs": options.jobs,
           "by": options.by}
    return {k: v for k, v in out.items() if v not in (None, False)}


def _groups(targets: Iterator[Target], options: VerifyOptions, report: FixityReport,
            clock: float) -> Iterator[list[Target]]:
    """Targets in small groups, stopping at --limit files or once --max-seconds have passed."""
    group: list[Target] = []
    size = 0
    for taken, t in enumerate(targets):
        if options.limit is not None and taken >= options.limit:
            break
        if options.max_seconds is not None and time.monotonic() - clock >= options.max_seconds:
            report.time_limit_reached = True
            break
        group.append(t)
        size += t.size
        if len(group) >= GROUP_FILES or size >= GROUP_BYTES:
            yield group
            group, size = [], 0
    if group:
        yield group


def _check_all(targets: Iterator[Target], options: VerifyOptions, recorder: _Recorder,
               report: FixityReport, progress: Progress, clock: float) -> None:
    stop = threading.Event()
    jobs = max(1, options.jobs)
    in_flight: deque[tuple[Future[list[Check]], list[Target]]] = deque()
    pool = ThreadPoolExecutor(jobs, thread_name_prefix="fixity")

    def collect(below: int) -> None:
        while len(in_flight) > below:
            fut, group = in_flight.popleft()
            for t, c in zip(group, fut.result(), strict=True):
                report.add(t, c)
                recorder.add(t, c)
                progress.update(report, t.path)

    try:
        for group in _groups(targets, options, report, clock):
            in_flight.append((pool.submit(check_group, group, stop), group))
            collect(jobs * IN_FLIGHT_PER_THREAD)
        collect(0)
    except BaseException:
        stop.set()  # a read in progress stops within a megabyte
        for fut, _ in in_flight:
            fut.cancel()
        raise
    finally:
        pool.shutdown(wait=True, cancel_futures=True)



def count_targets(catalog: Catalog, options: VerifyOptions) -> int:
    """How many files `verify` would check with these options (for a progress bar)."""
    check_options(options)
    from sqlalchemy import func
    with catalog.session() as s:
        roots = _local_roots(catalog, s)
        query = select(func.count(File.id)).where(*_conditions(roots, options, utcnow()))
        n = int(s.scalar(query) or 0)
    return min(n, options.limit) if options.limit is not None else n


# -- the summary, live and from the catalog ---------------------------------------------------

def summary_text(report: FixityReport) -> str:
    """What `archive verify` prints, and `archive runs show` prints again for a verify run."""
    mib = report.bytes / 2**20
    rate = f", {mib / report.seconds:.1f} MiB/s" if report.seconds > 0 else ""
    lines = [f"Verified: {report.checked} files, {mib:.1f} MiB in {report.seconds:.1f} s{rate}",
             f"  ok {report.ok} · changed {len(report.changed)} · missing "
             f"{len(report.missing)} · unreadable {len(report.unreadable)}"]
    if report.changed:
        lines.append("Changed (the bytes differ; the catalog keeps the checksum it had):")
        for c in report.changed:
            lines += [f"  {c.path}", f"      catalog {c.expected}", f"      on disk {c.actual}"]
    if report.missing:
        lines.append("Missing:")
        lines += [f"  {p}" for p in report.missing]
    if report.unreadable:
        lines.append("Unreadable:")
        lines += [f"  {u.path}: {u.reason}" for u in report.unreadable]
    if report.time_limit_reached:
        lines.append("Stopped at --max-seconds; the next run goes on with the files least "
                     "recently verified.")
    if report.interrupted:
        lines.append("Interrupted: the files checked so far are recorded; run again to go on.")
    return "\n".join(lines)


def report_from_run(stored: StoredRun) -> FixityReport:
    """A verify run's report rebuilt from its catalog rows (`archive runs show`). A run killed
    before it wrote its counts gets them from its `fixity check` events."""
    run = stored.summary
    counts = run.counts or {}
    report = FixityReport(paths=run.roots, run_id=run.id, interrupted=run.status != "completed",
                          time_limit_reached=bool(counts.get("time_limit_reached")),
                          seconds=float(counts.get("seconds") or 0.0),
                          bytes=int(counts.get("bytes") or 0))
    for p in stored.problems:
        if p.kind == CHANGED:
            expected, actual = parse_changed(p.reason)
            report.changed.append(ChangedFile(p.path, expected, actual))
        elif p.kind == MISSING:
            report.missing.append(p.path)
        elif p.kind == UNREADABLE:
            report.unreadable.append(UnreadableFile(p.path, p.reason))
    failed = len(report.changed) + len(report.missing) + len(report.unreadable)
    report.checked = int(counts.get("checked", stored.events.get(FIXITY_CHECK, failed)))
    report.ok = int(counts.get("ok", report.checked - failed))
    return report
