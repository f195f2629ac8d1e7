"""The ingest stages, each a generator fed by the one before it (beets' importer pipeline, run
in one thread; the parallel part is the worker pool inside the extract stage):

    walk -> skip_unchanged -> plan -> extract -> describe -> store (the writer, or a counter)

`run_chain` connects them; a real ingest ends in the catalog writer, a dry run in a Counter
that predicts the same counts, duplicates and problems without writing. Memory stays flat
however large the collection: a bounded look-ahead of the walk, the files in flight in the
workers, and one batch.
"""
from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from functools import partial
from typing import Any, Generic, Protocol, TypeVar

from sqlalchemy import select

from archive.catalog import Catalog
from archive.models import File, Root
from ingest.attribution import unattributed_folder
from ingest.classify import Grouping, plan_folder
from ingest.describe import DescribeOptions, describe_item
from ingest.extraction import Extraction
from ingest.manifest import ManifestRow
from ingest.missing import MissingFiles
from ingest.manifest_guard import ManifestGuard
from archive.paths import catalog_path, filesystem_path, manifest_key
from ingest.report import IngestReport, Progress
from ingest.tasks import Described, Extracted, FileJob
from ingest.walk import WalkedFile, WalkedFolder, paths_are_text, skipped_lines, walk
from ingest.workers import Runner, WorkerFailure, check_interrupt, in_order
from ingest.known import FOLDERS_PER_QUERY, Catalogued, KnownFiles
from media.checksum import sha256_file

IN_FLIGHT_PER_WORKER = 16  # files queued per worker: keeps each busy between results
# Files the walk may run ahead of extraction. The walk is fast (a stat per file), so for most
# collections it finishes at once and the progress bar has its real total from the start; for
# larger ones the total grows until the walk is done. Bounded, so memory stays flat.
WALK_AHEAD = 50_000


class Sink(Protocol):
    """Where the chain ends: the catalog writer, or a dry run's Counter."""

    def record_skipped(self, items: list[dict[str, str]]) -> None: ...

    def problem(self, path: str, stage: str, reason: str) -> None: ...

    def add(self, described: Described) -> None: ...

    def flush(self) -> None: ...


@dataclass
class IngestSession:
    """What every stage reads: the run's roots, options, catalog look-ups and report."""
    roots: list[str]
    root_ids: dict[str, int | None]  # None: a dry run's root the catalog does not know yet
    known: KnownFiles
    manifest: dict[str, ManifestRow]
    guard: ManifestGuard  # manifests, never catalogued (ingest/manifest_guard.py)
    describe: DescribeOptions
    report: IngestReport
    progress: Progress
    retry_problems: bool = False
    missing: MissingFiles | None = None  # notices catalogued files the walk did not find
    max_text_chars: int = 2_000_000
    window: int = 1  # files in flight in the runner


@dataclass(frozen=True)
class RootFolder:
    """A walked folder and the root it lies under."""
    root: str
    root_id: int | None
    folder: WalkedFolder


@dataclass(frozen=True)
class ChangedFiles:
    """A folder's files that are new or changed since the catalog saw them."""
    where: RootFolder
    folder_path: str  # catalog form
    files: list[tuple[WalkedFile, str, bytes | None, Catalogued | None]]


S = TypeVar("S", bound=Sink)


class Deferred(Generic[S]):
    """A sink made when the chain first hands it something: a re-run that finds nothing to
    store never makes (nor imports) the writer (#13.8)."""

    def __init__(self, make: Callable[[], S]):
        self._make = make
        self._sink: S | None = None

    def made(self) -> S:
        if self._sink is None:
            self._sink = self._make()
        return self._sink

    def record_skipped(self, items: list[dict[str, str]]) -> None:
        if items:
            self.made().record_skipped(items)

    def problem(self, path: str, stage: str, reason: str) -> None:
        self.made().problem(path, stage, reason)

    def add(self, described: Described) -> None:
        self.made().add(described)

    def flush(self) -> None:
        if self._sink is not None:
            self._sink.flush()


# -- the stages -----------------------------------------------------------------------------

def walk_roots(sess: IngestSession, sink: Sink, ahead: int = WALK_AHEAD) -> Iterator[RootFolder]:
    """Every folder under every root, in walk order. Counts the files found (the progress
    bar's total) as it goes, up to `ahead` files before the later stages; passes what was
    skipped (junk, links, unreadable folders) straight to the sink, as nothing more is done
    with it."""
    queued: deque[RootFolder] = deque()
    files_queued = 0
    for root in sess.roots:
        for folder in walk(root, sess.guard.exclude, sess.guard.screen_csv):
            sink.record_skipped(skipped_lines(folder))
            sess.report.seen += len(folder.files)
            queued.append(RootFolder(root, sess.root_ids.get(root), folder))
            files_queued += len(folder.files)
            while files_queued > ahead:
                first = queued.popleft()
                files_queued -= len(first.folder.files)
                yield first
    while queued:
        yield queued.popleft()


def skip_unchanged(sess: IngestSession, folders: Iterable[RootFolder]) -> Iterator[ChangedFiles]:
    """Drop the files whose size and mtime are as catalogued. The test costs a dict look-up
    per file after one query per FOLDERS_PER_QUERY folders: a re-run does little more than the
    walk itself."""
    report, retry = sess.report, sess.retry_problems
    for chunk in _chunks_of(folders, FOLDERS_PER_QUERY):
        for root_id in dict.fromkeys(w.root_id for w in chunk):
            sess.known.look_ahead(root_id, [catalog_path(w.folder.rel)[0] for w in chunk
                                            if w.root_id == root_id])
        for where in chunk:
            check_interrupt()
            files = where.folder.files
            folder_path = catalog_path(where.folder.rel)[0]
            known = sess.known(where.root_id, folder_path)
            get = known.get
            # Almost always every name is valid text, so each file's walked path is its
            # catalog path: one test for the whole folder instead of one call per file.
            exact = paths_are_text(files)
            todo = []
            matched = unchanged = 0
            for f in files:
                k = get(f.rel if exact else catalog_path(f.rel)[0])
                if k is not None:
                    matched += 1
                    # k[4]: the file was found changed by `archive verify`, or missing: its
                    # size and mtime are not to be trusted, its bytes are read again.
                    if k[1] == f.size and k[2] == f.mtime_ns and not k[4] and \
                            not (retry and k[3]):
                        unchanged += 1
                        continue
                todo.append((f, *catalog_path(f.rel), k))
            report.unchanged += unchanged
            report.done += unchanged
            if sess.missing is not None:
                sess.missing.folder(where.root_id, folder_path, known, matched,
                                    partial(_catalog_paths, files))
            sess.progress.update(report, where.folder.rel)
            if todo:
                yield ChangedFiles(where, folder_path, todo)


def _chunks_of(folders: Iterable[RootFolder], size: int) -> Iterator[list[RootFolder]]:
    """The folders in lists of up to `size`, in walk order (found already: the walk runs
    ahead of the later stages, see walk_roots)."""
    chunk: list[RootFolder] = []
    for where in folders:
        chunk.append(where)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _catalog_paths(files: list[WalkedFile]) -> Iterator[str]:
    return (catalog_path(f.rel)[0] for f in files)


def plan(sess: IngestSession, changed: Iterable[ChangedFiles]) -> Iterator[FileJob]:
    """Group each folder's files into items (pages, transcripts, sidecars) and attach the
    manifest rows: one FileJob per file to extract."""
    for c in changed:
        where = c.where
        grouping = plan_folder(x.name for x in where.folder.files)
        # Names become titles, keys and scientists' names: use their catalog-safe text form.
        chain_dirs = tuple(c.folder_path.split("/")) if c.folder_path else ()
        root_name = os.path.basename(where.root)
        for f, path, raw, k in c.files:
            row = sess.manifest.get(manifest_key(path)) if sess.manifest else None
            if row is not None and row.root != where.root:
                row = None
            yield FileJob(root_id=where.root_id or 0, root=where.root, path=path, path_raw=raw,
                          folder=c.folder_path, abs=f.abs, size=f.size, mtime_ns=f.mtime_ns,
                          grouping=_safe(grouping[f.name]),
                          chain=(root_name, *chain_dirs, catalog_path(f.name)[0]),
                          existing_id=k[0] if k else None, manifest=row)


def _safe(g: Grouping) -> Grouping:
    base = catalog_path(g.base)[0]
    return g if base == g.base else Grouping(base, g.role, g.master_ext)


def extract(sess: IngestSession, jobs: Iterable[FileJob], runner: Runner) -> Iterator[Extracted]:
    """Hash and characterise each file in the runner, results in walk order. A file whose
    parser gave up (timed out, crashed, ran out of memory) is hashed again in a worker, with
    no time limit, so it is still catalogued with its checksum and its problem."""
    def submit(job: FileJob) -> Any:
        # The parsers are imported with the first file that needs them: a re-run that finds
        # every file unchanged never loads them (the workers have them preloaded).
        from ingest.extract import extract_file
        return runner.submit(extract_file, job.abs, sess.max_text_chars)

    for job, outcome in in_order(runner, jobs, submit, sess.window):
        if outcome.value is not None:
            yield Extracted(job, outcome.value)
            continue
        failure = outcome.failure or WorkerFailure("extract", "no result")
        hashed = runner.outcome(runner.submit(sha256_file, job.abs, timeout=None))
        if hashed.value is None:
            yield Extracted(job, None, WorkerFailure("read", failure.reason))
        else:
            sha, size = hashed.value
            yield Extracted(job, Extraction(sha256=sha, size=size, problem=failure.reason,
                                            problem_stage=failure.stage))


def describe(sess: IngestSession,
             extracted: Iterable[Extracted]) -> Iterator[Described | Extracted]:
    """Decide each file's item (ingest.describe); unreadable files pass through as they are.
    A new file left unattributed because its folder's name is not a person's names that
    folder in the report (the summary suggests --scientist)."""
    unattributed = sess.report.unattributed
    for e in extracted:
        if e.extraction is None:
            yield e
            continue
        facts = describe_item(e.job, e.extraction, e.job.manifest, sess.describe)
        if facts.scientist is None and e.job.existing_id is None:
            folder = unattributed_folder(e.job.chain[:-1])
            if folder is not None and folder not in unattributed:
                unattributed.append(folder)
        yield Described(e.job, e.extraction, facts)


def store(sess: IngestSession, described: Iterable[Described | Extracted], sink: Sink) -> None:
    """The chain's end: hand each file to the sink. What the sink holds when the chain stops,
    even by Ctrl-C, is complete and is kept; the rest is redone by the next run."""
    report, progress = sess.report, sess.progress
    try:
        for d in described:
            check_interrupt()
            if isinstance(d, Described):
                sink.add(d)
            else:
                failure = d.failure or WorkerFailure("read", "unreadable")
                sink.problem(d.job.path, failure.stage, failure.reason)
            report.done += 1
            progress.update(report, d.job.path)
    finally:
        sink.flush()


def run_chain(sess: IngestSession, runner: Runner, sink: Sink) -> None:
    """walk -> skip unchanged -> plan -> extract -> describe -> store."""
    folders = walk_roots(sess, sink)
    changed = skip_unchanged(sess, folders)
    jobs = plan(sess, changed)
    extracted = extract(sess, jobs, runner)
    store(sess, describe(sess, extracted), sink)


# -- a dry run's end of the chain -------------------------------------------------------------

@dataclass
class _Copy:
    path: str
    abs: str


def _gone(c: _Copy) -> bool:
    return not os.path.exists(c.abs)


@dataclass
class Counter:
    """A dry run's sink: counts what the writer would do, with the writer's own rules for
    changes, moves and duplicates (read from the catalog, a batch at a time), and the problems
    extraction found. Writes nothing."""
    catalog: Catalog | None
    report: IngestReport
    batch_size: int = 200
    pending: list[Described] = field(default_factory=list)
    _seen: dict[str, list[_Copy]] = field(default_factory=dict)  # this run's new files by sha
    moved_from: set[str] = field(default_factory=set)  # where files predicted moved were

    def record_skipped(self, items: list[dict[str, str]]) -> None:
        self.report.skipped.extend(items)

    def problem(self, path: str, stage: str, reason: str) -> None:
        self.report.problems.append({"path": path, "stage": stage, "reason": reason})

    def add(self, described: Described) -> None:
        self.pending.append(described)
        if len(self.pending) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        batch, self.pending = self.pending, []
        if not batch:
            return
        from ingest.batch import copy_fate  # the writer's rule, loaded only with work to do
        shas = {d.extraction.sha256 for d in batch if d.extraction.sha256 and d.extraction.size}
        copies, old = self._catalogued(shas, [d.job.existing_id for d in batch
                                              if d.job.existing_id is not None])
        report = self.report
        for d in batch:
            job, res = d.job, d.extraction
            if job.existing_id is not None:
                if old.get(job.existing_id) == res.sha256 and not res.problem:
                    report.unchanged += 1
                else:
                    report.changed += 1
            else:
                sha = res.sha256 or ""
                found: list[_Copy] = (copies.get(sha, []) + self._seen.get(sha, [])) \
                    if res.size else []
                decided = copy_fate(found, _gone)
                fate, copy = decided
                if fate == "move" and copy is not None:
                    report.moved += 1
                    self.moved_from.add(copy.abs)
                    if copy in copies.get(sha, []):
                        copies[sha].remove(copy)
                    continue
                report.new += 1
                if fate == "duplicate" and copy is not None:
                    report.duplicates.append((job.path, copy.path))
                elif res.sha256 and res.size:
                    self._seen.setdefault(sha, []).append(_Copy(job.path, job.abs))
            if res.problem:
                report.problems.append({"path": job.path, "stage": res.problem_stage or
                                        "extract", "reason": res.problem})

    def _catalogued(self, shas: set[str], ids: list[int]
                    ) -> tuple[dict[str, list[_Copy]], dict[int, str | None]]:
        """Catalogued originals with these checksums; the checksums of the changed files."""
        copies: dict[str, list[_Copy]] = {}
        old: dict[int, str | None] = {}
        if self.catalog is None or not (shas or ids):
            return copies, old
        with self.catalog.session() as s:
            roots = dict(s.execute(select(Root.id, Root.path)).all())
            if shas:
                for f in s.execute(select(File.sha256, File.path, File.path_raw, File.root_id)
                                   .where(File.sha256.in_(shas), File.duplicate_of_id.is_(None))
                                   .order_by(File.id)):
                    copies.setdefault(f.sha256, []).append(
                        _Copy(f.path, filesystem_path(roots[f.root_id], f.path, f.path_raw)))
            if ids:
                old = dict(s.execute(select(File.id, File.sha256).where(File.id.in_(ids))).all())
        return copies, old
