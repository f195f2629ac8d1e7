"""The ingest pipeline: walk -> skip unchanged -> extract in isolated workers -> write batches.

One thread drives it: the walk feeds a bounded number of files to the worker pool, results are
handed to the single writer as they complete, and the writer commits every few hundred. Memory
stays flat however large the collection: one folder listing, the files in flight and one batch.
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator, Sequence
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, replace

from sqlalchemy import select, update

from archive.catalog import Catalog, ensure_root
from archive.errors import UnknownScientist, UsageError
from archive.fields import MATERIAL_TYPES
from archive.lock import writer_lock
from archive.precedence import file_changed_at
from archive.models import IngestRun, Root, utcnow
from archive.paths import catalog_path, manifest_key
from archive.scientists import ScientistMatcher, find_scientist
from ingest.attribution import ScientistResolver, attribute_unattributed
from archive.fields import type_word
from ingest.classify import Grouping, plan_folder
from ingest.manifest import ManifestRow, load_manifest
from ingest.manifest_guard import load_guard, remember_manifest
from ingest.report import IngestReport, NullProgress, Progress
from ingest.walk import WalkedFolder, walk
from ingest.extract import Extraction, extract_file
from ingest.workers import WorkerPool
from ingest.writer import CatalogWriter, FileJob, KnownFiles, WriteOptions
from media.checksum import sha256_file

log = logging.getLogger(__name__)
IN_FLIGHT_PER_WORKER = 16


@dataclass(frozen=True)
class IngestOptions:
    scientist: str | None = None
    type: str | None = None
    manifest: str | None = None
    dry_run: bool = False
    retry_problems: bool = False
    include_manifests: bool = False  # catalogue CSVs at a root that look like manifests


def resolve_roots(paths: Sequence[str]) -> list[str]:
    """Absolute, real, distinct folders; UsageError for a missing one or one inside another."""
    if not paths:
        raise UsageError("give at least one folder to ingest")
    roots: list[str] = []
    for p in paths:
        real = os.path.realpath(os.path.expanduser(p))
        if not os.path.exists(real):
            raise UsageError(f"no such folder: {p}")
        if not os.path.isdir(real):
            raise UsageError(f"{p} is a file; ingest takes folders (give its parent folder)")
        if real not in roots:
            roots.append(real)
    for a in roots:
        for b in roots:
            if a != b and b.startswith(a.rstrip(os.sep) + os.sep):
                raise UsageError(f"{b} is inside {a}; give only one of them")
    return roots


def _validate_type(value: str | None) -> str | None:
    if value is None:
        return None
    material = type_word(value)
    if material is None:
        raise UsageError(f"unknown type {value!r}; use one of {', '.join(MATERIAL_TYPES)}")
    return material


@dataclass
class _Plan:
    roots: list[str]
    material: str | None
    manifest: dict[str, ManifestRow]
    manifest_path: str | None


def _prepare(catalog: Catalog | None, paths: Sequence[str], options: IngestOptions) -> _Plan:
    """Everything checked before a single row is written: folders, type, scientist, manifest."""
    roots = resolve_roots(paths)
    material = _validate_type(options.type)
    matcher = None
    if catalog is not None:
        with catalog.session() as s:
            matcher = ScientistMatcher(s)
            if options.scientist:
                find_scientist(s, options.scientist)
    elif options.scientist:
        raise UnknownScientist(options.scientist)
    manifest: dict[str, ManifestRow] = {}
    manifest_path = None
    if options.manifest:
        manifest_path = os.path.realpath(options.manifest)
        known = (lambda name: matcher.match(name) is not None) if matcher else (lambda _: False)
        manifest = load_manifest(options.manifest, roots, known)
    return _Plan(roots, material, manifest, manifest_path)


def check_ingest(catalog: Catalog | None, paths: Sequence[str], options: IngestOptions) -> None:
    """Raise what ingest would raise before writing anything (bad folder, type, scientist or
    manifest), so a caller can check before it creates a catalog."""
    _prepare(catalog, paths, options)


def _folder_jobs(folder: WalkedFolder, root: Root, root_name: str,
                 known: dict[str, tuple[int, int, int, bool, bool]], plan: _Plan,
                 options: IngestOptions, report: IngestReport) -> Iterator[FileJob]:
    """The files of one folder that need extracting; counts the unchanged ones. The skip test
    comes first and costs a dict lookup: a re-run does little more than the walk itself."""
    grouping: dict[str, Grouping] | None = None
    folder_path = catalog_path(folder.rel)[0]
    # Names become titles, keys and scientists' names: use their catalog-safe text form.
    chain_dirs = tuple(folder_path.split("/")) if folder_path else ()
    for f in folder.files:
        report.seen += 1
        path, raw = catalog_path(f.rel)
        k = known.get(path)
        if k is not None and k[1] == f.size and k[2] == f.mtime_ns and not k[4] and \
                not (options.retry_problems and k[3]):
            report.unchanged += 1
            continue
        if grouping is None:
            grouping = plan_folder(x.name for x in folder.files)
        row = plan.manifest.get(manifest_key(path)) if plan.manifest else None
        if row is not None and row.root != root.path:
            row = None
        yield FileJob(root_id=root.id, root=root.path, path=path, path_raw=raw,
                      folder=folder_path, abs=f.abs, size=f.size, mtime_ns=f.mtime_ns,
                      grouping=_safe(grouping[f.name]),
                      chain=(root_name, *chain_dirs, catalog_path(f.name)[0]),
                      existing_id=k[0] if k else None, manifest=row)


def _safe(g: Grouping) -> Grouping:
    return replace(g, base=catalog_path(g.base)[0])


def _fallback_extraction(job: FileJob, stage: str, reason: str) -> Extraction | None:
    """A worker gave up on the file: hash it here so it is still catalogued, with its problem."""
    try:
        sha, size = sha256_file(job.abs)
    except OSError:
        return None
    return Extraction(sha256=sha, size=size, problem=reason, problem_stage=stage)


def ingest(catalog: Catalog | None, paths: Sequence[str], options: IngestOptions = IngestOptions(),
           progress: Progress | None = None) -> IngestReport:
    """Catalogue every file under `paths`. Raises ArchiveError subclasses for user errors
    (before anything is written); problems with single files go into the report."""
    progress = progress or NullProgress()
    plan = _prepare(catalog, paths, options)
    if options.dry_run:
        return _dry_run(catalog, plan, options, progress)
    if catalog is None:
        raise UsageError("ingest needs a catalog; only --dry-run works without one")
    settings = catalog.settings
    report = IngestReport(roots=plan.roots)
    started = time.monotonic()
    with writer_lock(catalog, wait=settings.lock_wait):
        with catalog.session() as s:
            # A run still marked running while we hold the lock was killed: say so.
            s.execute(update(IngestRun).where(IngestRun.status == "running",
                                              IngestRun.kind.is_(None))  # verify runs: theirs
                      .values(status="interrupted"))
            run = IngestRun(roots=plan.roots, options={k: v for k, v in vars(options).items()
                                                       if v not in (None, False)})
            s.add(run)
            s.flush()
            run_id = run.id
            if plan.manifest_path:
                remember_manifest(s, plan.manifest_path, run_id)
            forced = find_scientist(s, options.scientist).id if options.scientist else None
            resolver = ScientistResolver(s, forced, report.unattributed)
        report.run_id = run_id
        writer = CatalogWriter(catalog, run_id, resolver, report,
                               WriteOptions(plan.material, settings.default_access,
                                            settings.batch_size))
        status = "completed"
        try:
            _run(catalog, plan, options, writer, report, progress)
        except BaseException:
            status = "interrupted"
            report.interrupted = True
            raise
        finally:
            report.seconds = time.monotonic() - started
            with catalog.session() as s:
                s.execute(update(IngestRun).where(IngestRun.id == run_id).values(
                    status=status, finished_at=utcnow(), counts=report.stored_counts()))
    _update_index(catalog, report)
    with catalog.session() as s:  # the index line of the summary, for `archive runs show`
        s.execute(update(IngestRun).where(IngestRun.id == run_id).values(
            counts=report.stored_counts()))
    return report


def _update_index(catalog: Catalog, report: IngestReport) -> None:
    """Index what the run added or changed. The catalog is the record: an index problem is
    reported and left for `archive reindex`, never allowed to undo the ingest."""
    from search.state import freshness
    try:
        if not freshness(catalog).stale:
            report.indexed = 0  # nothing changed: Whoosh is not even imported
            return
        from search.index import update as update_index
        report.indexed = update_index(catalog)
    except Exception as exc:  # noqa: BLE001 - any index failure must leave the catalog be
        log.warning("search index not updated: %s", exc)
        report.index_error = f"{type(exc).__name__}: {exc}; run `archive reindex`"


def _run(catalog: Catalog, plan: _Plan, options: IngestOptions, writer: CatalogWriter,
         report: IngestReport, progress: Progress) -> None:
    settings = catalog.settings
    with catalog.session() as s:
        guard = load_guard(s, plan.manifest_path, options.include_manifests)
    max_in_flight = settings.worker_count * IN_FLIGHT_PER_WORKER
    # Results reach the writer in walk order, whatever order workers finish in: the same
    # folders always get the same accession numbers, and the first of two identical files
    # is always the original. The window keeps every worker busy meanwhile.
    in_flight: deque[tuple[Future[Extraction], FileJob]] = deque()

    def collect(block_until_below: int) -> None:
        while len(in_flight) > block_until_below:
            fut, job = in_flight.popleft()
            try:
                result: Extraction | None = fut.result()
            except BaseException as exc:  # noqa: BLE001 - every failure is this file's
                failure = pool.failure(exc)
                result = _fallback_extraction(job, failure.stage, failure.reason)
                if result is None:
                    writer.problem(job.path, "read", failure.reason)
            if result is not None:
                writer.add(job, result)
            progress.update(report, job.path)

    with WorkerPool(settings.worker_count, settings.file_timeout,
                    settings.worker_memory_mb) as pool, KnownFiles(catalog) as lookup:
        try:
            for root_path in plan.roots:
                with catalog.session() as s:
                    root = ensure_root(s, root_path)
                root_name = os.path.basename(root_path)
                for folder in walk(root_path, guard.exclude, guard.screen_csv):
                    writer.record_skipped([{"path": catalog_path(k.rel)[0], "reason": k.reason}
                                           for k in folder.skipped])
                    known = lookup(root.id, catalog_path(folder.rel)[0])
                    for job in _folder_jobs(folder, root, root_name, known, plan, options,
                                            report):
                        in_flight.append((pool.submit(extract_file, job.abs,
                                                      settings.max_text_chars), job))
                        collect(max_in_flight - 1)
                    progress.update(report, folder.rel)
            collect(0)
        finally:
            # Whatever finished before an interrupt is kept; the rest is redone next time.
            writer.flush()
    with catalog.session() as s:
        root_ids = {r.path: r.id for r in s.scalars(select(Root))}
        if writer.resolver.forced_id is not None:
            attribute_unattributed(s, [root_ids[r] for r in plan.roots],
                                   writer.resolver.forced_id, writer.run_id)
    if plan.manifest:
        writer.apply_manifest([(root_ids[r.root], r) for r in plan.manifest.values()],
                              file_changed_at(plan.manifest_path))


def _dry_run(catalog: Catalog | None, plan: _Plan, options: IngestOptions,
             progress: Progress) -> IngestReport:
    """Walk and compare with the catalog; extract nothing, write nothing."""
    report = IngestReport(roots=plan.roots, dry_run=True)
    started = time.monotonic()
    if catalog is None:
        guard = load_guard(None, plan.manifest_path, options.include_manifests)
    else:
        with catalog.session() as s:
            guard = load_guard(s, plan.manifest_path, options.include_manifests)
    with KnownFiles(catalog) as lookup:  # a dry run's look, on one connection
        for root_path in plan.roots:
            root_id = None
            if catalog is not None:
                with catalog.session() as s:
                    root_id = s.scalars(select(Root.id).where(Root.path == root_path)).first()
            fake_root = Root(id=root_id or 0, path=root_path)
            for folder in walk(root_path, guard.exclude, guard.screen_csv):
                report.skipped += [{"path": catalog_path(k.rel)[0], "reason": k.reason}
                                   for k in folder.skipped]
                known = lookup(root_id, catalog_path(folder.rel)[0])
                for job in _folder_jobs(folder, fake_root, os.path.basename(root_path), known, plan,
                                        options, report):
                    if job.existing_id is None:
                        report.new += 1
                    else:
                        report.changed += 1
                progress.update(report, folder.rel)
    report.seconds = time.monotonic() - started
    return report

