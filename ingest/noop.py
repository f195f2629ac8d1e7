"""An ingest that finds nothing to do, told and recorded in plain SQL (#13.8).

Most runs of `archive ingest` over folders already catalogued change nothing: an archivist runs
it again to be sure, a nightly job runs it to notice what came. Such a run is a walk of the
folders against the catalog's sizes and modification times, and one row on record; through the
full ingest (ingest/pipeline.py) importing SQLAlchemy and declaring the catalog's models cost
several times the walk before the first folder was read (docs/PERFORMANCE.md, No-op). So the
command line asks here first.

`noop_run` walks the folders as the ingest walks them (ingest/walk.py: the same files passed
over, for the same reasons, with the same manifests and forgotten files kept out) and compares
each group of folders with the catalog's rows for them as two sets of (path, size, mtime), in
C. When every file is as catalogued, every catalogued file under the folders was found and the
search index is current, it records the run as the full ingest would (a completed run with its
counts, and the files passed over) and returns its report.

Anything else returns None before anything is written, and the caller runs the full ingest: a
new, changed or newly missing file, a file `archive verify` found changed, a root new to the
catalog, an ingest of the same folders still marked running (the full ingest takes the writer
lock and marks a dead one interrupted), a search index behind the catalog, options that change
items (--scientist, --type, --manifest, --retry-problems, --include-forgotten), a dry run, a
catalog on a database server or at another schema revision. A change found early costs that part of
the walk twice; one found late, the walk twice: small beside reading the changed files.

Files already marked missing and still gone are listed in the report as the full ingest lists
them. Ctrl-C records the run as interrupted, with what it had seen, as the full ingest does.

No writer lock is taken: the run reads one snapshot of the catalog and adds only its own rows,
and what it reports was true of that snapshot, as a full run's report is of the moment it ends
(two such re-runs of the same folders may run at once). `--debug` logs why a run was handed to
the full ingest.
"""
from __future__ import annotations

import datetime as dt
import json
import logging
import operator
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from archive.catalog_reader import SQLITE_DATETIME, CatalogReader, connect_current
from archive.errors import Interrupted
from archive.paths import catalog_path, filesystem_path, is_gone, scopes_overlap
from ingest.forgotten import forgotten_exclude
from ingest.known import FOLDERS_PER_QUERY, UNTRUSTED
from ingest.manifest_guard import ManifestGuard, guard_of
from ingest.options import IngestOptions, resolve_roots
from ingest.report import IngestReport, NullProgress, Progress
from ingest.walk import WalkedFile, paths_are_text, skipped_lines, walk
from search.state import freshness_of

if TYPE_CHECKING:
    import sqlite3

    from archive.settings import Settings

log = logging.getLogger(__name__)

_FOLDER_PARAMETERS = [f"f{i}" for i in range(FOLDERS_PER_QUERY)]
# The catalogued files of some folders, as the walk finds them when they are unchanged. A file
# whose size and mtime are not to be trusted is left out: the walk then finds it "new".
_CATALOGUED = ("SELECT path, size, mtime_ns FROM files WHERE root_id = :root AND "
               f"coalesce(status, '') NOT IN ({', '.join(repr(s) for s in UNTRUSTED)}) "
               f"AND folder IN ({', '.join(':' + p for p in _FOLDER_PARAMETERS)})")
_walked = operator.itemgetter(1, 3, 4)  # WalkedFile -> (rel, size, mtime_ns), in C


def noop_run(settings: Settings, paths: Sequence[str], options: IngestOptions,
             progress: Progress | None = None) -> IngestReport | None:
    """The recorded report of an ingest of `paths` that has nothing to do, or None when it
    has something to do or this cannot tell (see the module docstring). Raises UsageError for
    a missing folder, as the full ingest does; Interrupted on Ctrl-C, the run recorded as
    interrupted."""
    if not _may_do_nothing(options):
        return None
    roots = resolve_roots(paths)
    con = connect_current(settings, write=True)
    if con is None:
        return None
    report = IngestReport(roots=roots)
    started_at, started = _now(), time.monotonic()
    try:
        try:
            con.execute("BEGIN")  # every read below sees one state of the catalog
            difference = _difference(con, settings, roots, options, report,
                                     progress or NullProgress())
        finally:
            con.execute("ROLLBACK")  # only read
        if difference is not None:
            log.debug("the ingest has something to do: %s", difference)
            return None
        report.seconds = time.monotonic() - started
        report.indexed = 0  # the index is current (checked above)
        report.run_id = _record(con, report, options, started_at, "completed")
        return report
    except KeyboardInterrupt:
        report.interrupted = True
        report.seconds = time.monotonic() - started
        report.run_id = _record(con, report, options, started_at, "interrupted")
        raise Interrupted(report) from None
    finally:
        con.close()


def _may_do_nothing(options: IngestOptions) -> bool:
    """Whether a run with these options changes nothing when every file is unchanged: the
    options that attribute, type or describe items, or read files again, change items even
    then (a dry run writes nothing at all, and counts on its own). Tested as the full ingest
    tests them: an empty --type is refused there."""
    return not (options.dry_run or options.scientist or options.type is not None
                or options.manifest or options.retry_problems or options.include_forgotten)


def _difference(con: sqlite3.Connection, settings: Settings, roots: list[str],
                options: IngestOptions, report: IngestReport, progress: Progress) -> str | None:
    """Walk the roots against the catalog: None when nothing changed (the report then holds
    the counts, the files passed over and those still missing), else the first reason the
    run has something to do."""
    root_ids: dict[str, int] = dict(con.execute(
        f"SELECT path, id FROM roots WHERE path IN ({', '.join('?' * len(roots))})",
        roots).fetchall())
    if len(root_ids) != len(roots):
        return "a folder new to the catalog"
    if _running(con, roots):
        return "an ingest of these folders is marked running"
    stale = freshness_of(CatalogReader.on(settings, con))
    if stale.stale:
        return f"the search index is behind ({stale.reason})"
    guard = _guard(con, list(root_ids.values()), options)
    for root in roots:
        root_id, under_root, in_chunk = root_ids[root], 0, 0
        # Folder by folder, not in held groups: each folder's tuples go as soon as they are
        # in the set (holding 64 folders' files measured 5-10% slower).
        folders: list[str] = []
        walked: set[tuple[str, int, int]] = set()
        for folder in walk(root, guard.exclude, guard.screen_csv):
            if folder.skipped:
                report.skipped += skipped_lines(folder)
            walked.update(map(_walked, folder.files) if paths_are_text(folder.files)
                          else map(_catalogued_key, folder.files))
            folders.append(catalog_path(folder.rel)[0])
            in_chunk += len(folder.files)
            if len(folders) == FOLDERS_PER_QUERY:
                if not _as_catalogued(con, root_id, folders, walked):
                    return f"a file new, changed or gone in {_span(folders)}"
                _unchanged(report, in_chunk, progress, folder.rel)
                under_root += in_chunk
                folders, walked, in_chunk = [], set(), 0
        if folders and not _as_catalogued(con, root_id, folders, walked):
            return f"a file new, changed or gone in {_span(folders)}"
        _unchanged(report, in_chunk, progress, root)
        under_root += in_chunk
        # Every catalogued file under the root was found, but those already missing: none is
        # in a folder the walk did not see (gone, or unreadable now). Counted on the index;
        # the files' own rows are read only when some are not found.
        (catalogued,), = con.execute("SELECT count(*) FROM files WHERE root_id = ?",
                                     (root_id,)).fetchall()
        if catalogued != under_root:
            missing = _still_missing(con, root, root_id)
            if missing is None:
                return f"a file marked missing under {root} is back"
            if catalogued - len(missing) != under_root:
                return f"a file under {root} is gone"
            report.missing += missing
    report.missing.sort()
    return None


def _unchanged(report: IngestReport, files: int, progress: Progress, where: str) -> None:
    report.seen += files
    report.unchanged = report.done = report.seen
    progress.update(report, where)


def _span(folders: list[str]) -> str:
    """The folders a look-up compared, for the debug log.

        _span([""]) -> "./";  _span(["a", "a/b"]) -> "a/ … a/b/"
    """
    first, last = (f"{f or '.'}/" for f in (folders[0], folders[-1]))
    return first if len(folders) == 1 else f"{first} … {last}"


def _catalogued_key(f: WalkedFile) -> tuple[str, int, int]:
    """(catalog path, size, mtime_ns) of a file whose name is not valid text."""
    return catalog_path(f.rel)[0], f.size, f.mtime_ns


def _still_missing(con: sqlite3.Connection, root: str, root_id: int) -> list[str] | None:
    """The files marked missing under the root, as the full ingest lists them; None when one
    may be back (the full ingest restores it, or cannot tell for a folder it cannot read)."""
    missing = []
    for path, raw in con.execute("SELECT path, path_raw FROM files WHERE root_id = ? AND "
                                 "status = 'missing'", (root_id,)):
        if not is_gone(filesystem_path(root, path, raw)):
            return None
        missing.append(path)
    return missing


def _running(con: sqlite3.Connection, roots: list[str]) -> bool:
    """Whether an ingest of any of these folders is marked running: alive (the full ingest
    waits for its lock) or killed (the full ingest marks it interrupted)."""
    for (scopes,) in con.execute("SELECT roots FROM ingest_runs "
                                 "WHERE status = 'running' AND kind IS NULL"):
        if any(scopes_overlap(a, b) for a in json.loads(scopes or "[]") for b in roots):
            return True
    return False


def _guard(con: sqlite3.Connection, root_ids: list[int], options: IngestOptions
           ) -> ManifestGuard:
    """What the walk keeps out, as the full ingest's guard: the manifests this catalog has
    used (and copies of them), CSV files at a root that look like manifests, and the files
    forgotten under these roots (ingest/forgotten.py)."""
    guard = guard_of(con.execute("SELECT path, size, sha256 FROM used_manifests"), None,
                     options.include_manifests)
    guard.exclude.update(forgotten_exclude(
        (root, path, raw, dt.datetime.fromisoformat(at), reason)
        for root, path, raw, at, reason in con.execute(
            "SELECT r.path, f.path, f.path_raw, f.forgotten_at, f.reason "
            "FROM forgotten_files f JOIN roots r ON r.id = f.root_id "
            f"WHERE f.root_id IN ({', '.join('?' * len(root_ids))})", root_ids)))
    return guard


def _as_catalogued(con: sqlite3.Connection, root_id: int, folders: list[str],
                   walked: set[tuple[str, int, int]]) -> bool:
    """Whether these folders hold exactly the files walked, at their sizes and mtimes."""
    # One statement for every look-up: the last folder repeated to fill its parameters.
    padded = folders + folders[-1:] * (FOLDERS_PER_QUERY - len(folders))
    params: dict[str, Any] = dict(zip(_FOLDER_PARAMETERS, padded, strict=True))
    params["root"] = root_id
    return set(con.execute(_CATALOGUED, params).fetchall()) == walked


def _record(con: sqlite3.Connection, report: IngestReport, options: IngestOptions,
            started_at: str, status: str) -> int:
    """The run's rows, as the full ingest writes them (SQLAlchemy keeps JSON as json.dumps'
    text and times as SQLITE_DATETIME text): the run with its status and counts, and the files
    passed over."""
    with con:  # one transaction: BEGIN ... COMMIT, or ROLLBACK on an error
        con.execute("BEGIN IMMEDIATE")
        (run_id,), = con.execute(
            "INSERT INTO ingest_runs (kind, started_at, finished_at, status, roots, options, "
            "counts) VALUES (NULL, ?, ?, ?, ?, ?, ?) RETURNING id",
            (started_at, _now(), status, json.dumps(report.roots),
             json.dumps(options.recorded()), json.dumps(report.stored_counts()))).fetchall()
        con.executemany("INSERT INTO ingest_problems (run_id, kind, path, stage, reason) "
                        "VALUES (?, 'skipped', ?, 'walk', ?)",
                        [(run_id, k["path"], k["reason"]) for k in report.skipped])
    return int(run_id)


def _now() -> str:
    """Now, as archive.models.utcnow gives it and SQLAlchemy stores it in SQLite."""
    return dt.datetime.now(dt.UTC).strftime(SQLITE_DATETIME)
