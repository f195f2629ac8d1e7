"""An ingest run: check everything first, take the writer lock, record the run, run the
stages (ingest/stages.py) into the catalog writer, apply the manifest to unchanged items,
update the search index. A dry run is the same chain ending in a counter.
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from archive.catalog import Catalog, ensure_root
from archive.errors import Interrupted, UnknownScientist, UsageError
from archive.fields import MATERIAL_TYPES, type_word
from archive.lock import scopes_overlap, writer_lock
from archive.models import IngestRun, Root, utcnow
from archive.paths import filesystem_path
from archive.precedence import file_changed_at
from archive.scientists import find_scientist
from archive.settings import Settings
from ingest.attribution import CachedMatcher, Match, attribute_unattributed
from ingest.describe import DescribeOptions
from ingest.forgotten import forgotten_paths, include_forgotten
from ingest.manifest import ManifestRow, load_manifest
from ingest.manifest_guard import ManifestGuard, load_guard, remember_manifest
from ingest.missing import MissingFiles
from ingest.options import IngestOptions, resolve_roots
from ingest.report import IngestReport, NullProgress, Progress
from ingest.stages import IN_FLIGHT_PER_WORKER, Counter, Deferred, IngestSession, run_chain
from ingest.workers import Runner, open_runner
from ingest.known import KnownFiles

if TYPE_CHECKING:
    from ingest.writer import CatalogWriter

log = logging.getLogger(__name__)


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
    if catalog is not None and options.scientist:
        with catalog.session() as s:
            find_scientist(s, options.scientist)
    elif options.scientist:
        raise UnknownScientist(options.scientist)
    manifest: dict[str, ManifestRow] = {}
    manifest_path = None
    if options.manifest:
        manifest_path = os.path.realpath(options.manifest)
        match: Match = CachedMatcher.of(catalog) if catalog is not None else _no_match
        manifest = load_manifest(options.manifest, roots, lambda name: match(name) is not None)
    return _Plan(roots, material, manifest, manifest_path)


def check_ingest(catalog: Catalog | None, paths: Sequence[str], options: IngestOptions) -> None:
    """Raise what ingest would raise before writing anything (bad folder, type, scientist or
    manifest), so a caller can check before it creates a catalog."""
    _prepare(catalog, paths, options)


def ingest(catalog: Catalog | None, paths: Sequence[str], options: IngestOptions | None = None,
           progress: Progress | None = None, settings: Settings | None = None) -> IngestReport:
    """Catalogue every file under `paths`. Raises ArchiveError subclasses for user errors
    (before anything is written); problems with single files go into the report. Ctrl-C
    raises Interrupted carrying the partial report (the run is recorded as interrupted).
    `settings` is for a dry run without a catalog; otherwise the catalog's are used."""
    options = options or IngestOptions()
    progress = progress or NullProgress()
    settings = catalog.settings if catalog is not None else (settings or Settings())
    plan = _prepare(catalog, paths, options)
    if options.dry_run:
        return _dry_run(catalog, settings, plan, options, progress)
    if catalog is None:
        raise UsageError("ingest needs a catalog; only --dry-run works without one")
    report = IngestReport(roots=plan.roots)
    started = time.monotonic()
    # The folders walked are locked, not the catalog: ingests of other folders run alongside.
    with writer_lock(catalog, wait=settings.lock_wait, scopes=plan.roots):
        with catalog.writing() as s:
            # A run of these folders still marked running while we hold their lock was
            # killed: say so. Runs of other folders may be alive (verify runs are theirs).
            dead = [r.id for r in s.execute(select(IngestRun.id, IngestRun.roots).where(
                        IngestRun.status == "running", IngestRun.kind.is_(None)))
                    if any(scopes_overlap(a, b) for a in r.roots or [] for b in plan.roots)]
            if dead:
                s.execute(update(IngestRun).where(IngestRun.id.in_(dead))
                          .values(status="interrupted"))
            run = IngestRun(roots=plan.roots, options=options.recorded())
            s.add(run)
            s.flush()
            run_id = run.id
            if plan.manifest_path:
                remember_manifest(s, plan.manifest_path, run_id)
            guard = load_guard(s, plan.manifest_path, options.include_manifests)
            forced = find_scientist(s, options.scientist).id if options.scientist else None
            match = CachedMatcher.of(catalog)
            root_ids: dict[str, int | None] = {r: ensure_root(s, r).id for r in plan.roots}
            walked = [i for i in root_ids.values() if i is not None]
            if options.include_forgotten:
                include_forgotten(s, walked)
            else:
                guard.exclude.update(forgotten_paths(s, walked))
        report.run_id = run_id
        writer = Deferred(partial(_writer, catalog, run_id, match, report, settings.batch_size))
        status = "completed"
        try:
            with KnownFiles(catalog) as known:
                sess = _session(settings, plan, options, report, progress, root_ids, known,
                                DescribeOptions(plan.material, settings.default_access, forced,
                                                match), guard)
                sess.missing = MissingFiles()
                with _runner(settings, options) as runner:
                    run_chain(sess, runner, writer)
            with catalog.writing() as s:  # the walk is complete: what it did not find is gone
                report.missing = sess.missing.finish(
                    s, [i for i in root_ids.values() if i is not None], run_id)
            if forced is not None:
                with catalog.writing() as s:
                    attribute_unattributed(s, [i for i in root_ids.values() if i is not None],
                                           forced, run_id)
            if plan.manifest:
                writer.made().apply_manifest([(root_ids[r.root] or 0, r)
                                       for r in plan.manifest.values()],
                                      file_changed_at(plan.manifest_path))
        except KeyboardInterrupt:
            status = "interrupted"
            report.interrupted = True
            raise Interrupted(report) from None
        finally:
            report.seconds = time.monotonic() - started
            with catalog.session() as s:
                s.execute(update(IngestRun).where(IngestRun.id == run_id).values(
                    status=status, finished_at=utcnow(), counts=report.stored_counts()))
    try:
        _update_index(catalog, report)
    except KeyboardInterrupt:
        # The catalog is complete; the next ingest indexes the rest. Index writer processes
        # left waiting for work would keep this process from exiting.
        for child in multiprocessing.active_children():
            child.terminate()
        report.interrupted = True
        raise Interrupted(report) from None
    with catalog.session() as s:  # the index line of the summary, for `archive runs show`
        s.execute(update(IngestRun).where(IngestRun.id == run_id).values(
            counts=report.stored_counts()))
    return report


def _writer(catalog: Catalog, run_id: int, match: CachedMatcher, report: IngestReport,
            batch_size: int) -> CatalogWriter:
    """The catalog writer, imported when a run first has something to store (a re-run that
    changes nothing never loads it and its batch planning: #13.8)."""
    from ingest.writer import CatalogWriter, WriteOptions
    return CatalogWriter(catalog, run_id, match, report, WriteOptions(batch_size))


def _runner(settings: Settings, options: IngestOptions) -> Runner:
    return open_runner(options.in_process, settings.worker_count, settings.file_timeout,
                       settings.worker_memory_mb)


def _session(settings: Settings, plan: _Plan, options: IngestOptions, report: IngestReport,
             progress: Progress, root_ids: dict[str, int | None], known: KnownFiles,
             describe: DescribeOptions, guard: ManifestGuard) -> IngestSession:
    return IngestSession(
        roots=plan.roots, root_ids=root_ids, known=known, manifest=plan.manifest, guard=guard,
        describe=describe, report=report, progress=progress,
        retry_problems=options.retry_problems, max_text_chars=settings.max_text_chars,
        window=1 if options.in_process else settings.worker_count * IN_FLIGHT_PER_WORKER)


def _update_index(catalog: Catalog, report: IngestReport) -> None:
    """Index what the run added or changed. The catalog is the record: an index problem is
    reported and left for `archive reindex`, never allowed to undo the ingest."""
    from search.state import INDEX_FAILURES, freshness
    try:
        if not freshness(catalog).stale:
            report.indexed = 0  # nothing changed: Whoosh is not even imported
            return
        from search.index import update as update_index
        report.indexed = update_index(catalog)
    except INDEX_FAILURES as exc:
        log.warning("search index not updated: %s", exc)
        report.index_error = f"{type(exc).__name__}: {exc}; run `archive reindex`"


def _dry_run(catalog: Catalog | None, settings: Settings, plan: _Plan, options: IngestOptions,
             progress: Progress) -> IngestReport:
    """The same chain, ending in a Counter: files are read and extracted (so duplicates and
    problems are predicted) and nothing is written, not even a catalog."""
    report = IngestReport(roots=plan.roots, dry_run=True)
    started = time.monotonic()
    root_ids: dict[str, int | None] = dict.fromkeys(plan.roots)
    forced = None
    match: Match = _no_match
    guard = load_guard(None, plan.manifest_path, options.include_manifests)
    if catalog is not None:
        with catalog.session() as s:
            guard = load_guard(s, plan.manifest_path, options.include_manifests)
            root_ids.update({r.path: r.id for r in s.scalars(select(Root)
                                                             .where(Root.path.in_(plan.roots)))})
            if not options.include_forgotten:
                guard.exclude.update(forgotten_paths(
                    s, [i for i in root_ids.values() if i is not None]))
            forced = find_scientist(s, options.scientist).id if options.scientist else None
            match = CachedMatcher.of(catalog)
    try:
        with KnownFiles(catalog) as known:  # a dry run's look, on one connection
            sess = _session(settings, plan, options, report, progress, root_ids, known,
                            DescribeOptions(plan.material, settings.default_access, forced,
                                            match), guard)
            sess.missing = MissingFiles()
            counter = Counter(catalog, report, settings.batch_size)
            with _runner(settings, options) as runner:
                run_chain(sess, runner, counter)
        if catalog is not None:  # what the real run would mark missing; nothing is written
            with catalog.session() as s:
                roots = dict(s.execute(select(Root.id, Root.path)).all())
                report.missing = sorted(
                    f.path for f in sess.missing.gone(s, [i for i in root_ids.values()
                                                         if i is not None])
                    if filesystem_path(roots[f.root_id], f.path, f.path_raw)
                    not in counter.moved_from)  # moved, not missing
    except KeyboardInterrupt:
        report.interrupted = True
        raise Interrupted(report) from None
    finally:
        report.seconds = time.monotonic() - started
    return report


def _no_match(name: str) -> int | None:
    return None
