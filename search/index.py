"""The search index's life: build from the catalog, update what changed, detect when it is
missing (IndexMissing), held by another writer (IndexBusy) or damaged (IndexDamaged). The
catalog is never touched here except to read it.

Only Whoosh's reads of existing segments are guarded as possible damage: building a document
from the catalog, or adding one, happens outside the guard, so a bug there surfaces as the bug
it is rather than as advice to rebuild the index."""
from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import pickle
import shutil
import struct
import zlib
from collections.abc import Callable, Iterator
from typing import Any
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import func, select
from whoosh import index as windex
from whoosh.filedb.filestore import FileStorage
from whoosh.index import EmptyIndexError, LockError

from archive.catalog import Catalog
from archive.changes import CHANGE_WINDOW, changed_since
from archive.errors import IndexBusy, IndexDamaged, IndexMissing
from archive.models import Item
from search.analysis import quiet_jieba
from search.documents import item_documents, removed_items
from search.schema import build_schema
from search.state import (
    SCHEMA_VERSION,
    Freshness,
    catalog_mark,
    change_mark,
    freshness,
    read_state,
    write_state,
)

log = logging.getLogger(__name__)
# Postings each writer process buffers before a sorted run spills to disk (Python objects
# cost about twice Whoosh's estimate: a writer holds about 520 MB). Sharing 256 MB between the
# two writers cut that to 360 MB but made the build a quarter slower, and did not touch the
# peak at 500,000 items (docs/PERFORMANCE.md).
WRITER_MB = 256
# What Whoosh raises, among others, when it reads a damaged segment.
DAMAGE = (struct.error, EOFError, OSError, ValueError, KeyError, IndexError, zlib.error,
          pickle.UnpicklingError, TypeError)


def _writer(ix, wait: float, procs: int = 1):  # type: ignore[no-untyped-def]
    try:
        if procs > 1:
            # A full rebuild on every core, leaving a segment per process: merging them at
            # the end is single-process and undid most of the gain (measured: 218 items/s
            # with the merge, 480 without, 165 on one core; docs/PERFORMANCE.md).
            return ix.writer(limitmb=WRITER_MB, timeout=wait, delay=0.25, procs=procs,
                             multisegment=True)
        return ix.writer(limitmb=WRITER_MB, timeout=wait, delay=0.25)
    except LockError:
        raise IndexBusy(f"the search index is being written by another process and was "
                           f"still busy after {wait:.0f} s; try again later") from None


@contextmanager
def damage_guard(index_dir: Path) -> Iterator[None]:
    """Turn Whoosh's many ways of failing on a damaged index into one clear message. Wrap only
    Whoosh's reading of the index in it: the exceptions it catches are also what a bug raises."""
    try:
        yield
    except DAMAGE as exc:
        raise IndexDamaged(f"the search index at {index_dir} is damaged "
                           f"({type(exc).__name__}: {exc}); rebuild it with "
                           "`archive reindex`") from None


def _build_whoosh(catalog: Catalog, building: Path,
                  progress: Callable[[int, int], None] | None, total: int) -> int:
    ix = windex.create_in(str(building), build_schema())
    writer = _writer(ix, catalog.settings.index_wait, catalog.settings.worker_count)
    done = 0
    try:
        with catalog.session() as s:
            for doc in item_documents(s):
                writer.add_document(**doc)
                done += 1
                if progress and done % 100 == 0:
                    progress(done, total)
        writer.commit()
    except BaseException:  # Ctrl-C included: drop the half-built segment, then go on
        writer.cancel()
        raise
    return done


def _build_tantivy(catalog: Catalog, building: Path,
                   progress: Callable[[int, int], None] | None, total: int) -> int:
    from search.engines import tantivy as engine
    writer = engine.writer(engine.create(building), catalog.settings.index_wait,
                           catalog.settings.worker_count)
    done = 0
    try:
        with catalog.session() as s:
            for doc in item_documents(s):
                writer.add_document(engine.to_document(doc))
                done += 1
                if progress and done % 100 == 0:
                    progress(done, total)
        writer.commit()
        writer.wait_merging_threads()
    except BaseException:  # Ctrl-C included: the folder is dropped by the caller
        writer.rollback()
        writer.wait_merging_threads()  # drops the writer and its lock
        raise
    return done


def rebuild(catalog: Catalog, progress: Callable[[int, int], None] | None = None) -> int:
    """Build the whole index from the catalog into a new folder, then swap it in: a failed or
    interrupted rebuild leaves the old index as it was. Returns the number of items."""
    quiet_jieba()
    target = catalog.settings.index_dir
    building = target.with_name(target.name + f".building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    building.mkdir(parents=True)
    # Marks taken before reading: a change made while the build runs is applied again later.
    total, updated = catalog_mark(catalog)
    seq = change_mark(catalog)
    with catalog.session() as s:
        total = s.scalar(select(func.count(Item.id))) or 0  # for the progress bar only
    engine = catalog.settings.search_engine
    try:
        build = _build_tantivy if engine == "tantivy" else _build_whoosh
        done = build(catalog, building, progress, total)
        write_state(building, catalog_mark(catalog)[0] if done else 0, updated, seq, engine)
        old = target.with_name(target.name + f".old-{os.getpid()}")
        if target.exists():
            os.replace(target, old)
        os.replace(building, target)
        shutil.rmtree(old, ignore_errors=True)
    finally:
        shutil.rmtree(building, ignore_errors=True)
    if progress:
        progress(done, total)
    return done


def _exists(index_dir: Path, engine: str) -> bool:
    if engine == "tantivy":
        from search.engines import tantivy as tantivy_engine
        return tantivy_engine.exists(index_dir)
    return bool(windex.exists_in(str(index_dir)))


def open_index(catalog: Catalog):  # type: ignore[no-untyped-def]
    """The index, or IndexMissing / IndexDamaged saying how to get one. Opens for reading:
    nothing is written."""
    index_dir = catalog.settings.index_dir
    state = read_state(index_dir)
    engine = catalog.settings.search_engine
    if state is None or not _exists(index_dir, state.engine):
        raise IndexMissing(f"there is no search index at {index_dir}; "
                           "build it with `archive reindex`")
    if state.schema != SCHEMA_VERSION:
        raise IndexMissing("the search index was built by another version of the archive; "
                           "rebuild it with `archive reindex`")
    if state.engine != engine:
        raise IndexMissing(f"the search index was built by the {state.engine} engine and the "
                           f"setting search_engine is {engine}; rebuild it with "
                           "`archive reindex`")
    if engine == "tantivy":
        from search.engines import tantivy as tantivy_engine
        return tantivy_engine.open_index(index_dir)
    try:
        # Not mmapped: Whoosh copies a mapped segment file whole into a BytesIO on opening it
        # (at 20,000 items, most of a CLI search's time); plain reads fetch what queries touch.
        ix = FileStorage(str(index_dir), supports_mmap=False).open_index()
    except (EmptyIndexError, OSError, ValueError, EOFError) as exc:
        raise IndexDamaged(f"the search index at {index_dir} is damaged ({exc}); rebuild it "
                           "with `archive reindex`") from None
    with damage_guard(index_dir), ix.reader() as reader:
        # Segments are read lazily; touch each one's term table now, so damage shows here
        # with a clear message rather than in the middle of some later query.
        reader.doc_count()
        next(iter(reader.lexicon("accession")), None)
    return ix


class _Changes:
    """What an update does to an index, per engine: drop an item's document, add one, commit."""

    def __init__(self, catalog: Catalog, ix) -> None:  # type: ignore[no-untyped-def]
        self.index_dir = catalog.settings.index_dir
        self.tantivy = catalog.settings.search_engine == "tantivy"
        self.writer: Any
        if self.tantivy:
            from search.engines import tantivy as engine
            self.engine = engine
            self.writer = engine.writer(ix, catalog.settings.index_wait)
        else:
            self.writer = _writer(ix, catalog.settings.index_wait)

    def delete(self, item_id: int) -> None:
        if self.tantivy:
            with self.engine.damage_guard(self.index_dir):
                self.engine.delete_item(self.writer, item_id)
            return
        # Deleting reads the existing segments (damage shows here); adding only writes the
        # new segment, so a bad document is a bug, not damage.
        with damage_guard(self.index_dir):
            self.writer.delete_by_term("item_id", item_id)

    def add(self, doc: dict[str, Any]) -> None:
        if self.tantivy:
            self.writer.add_document(self.engine.to_document(doc))
        else:
            self.writer.add_document(**doc)

    def commit(self) -> None:
        if self.tantivy:
            with self.engine.damage_guard(self.index_dir):
                self.writer.commit()
                self.writer.wait_merging_threads()  # merging reads the old segments
            return
        with damage_guard(self.index_dir):
            self.writer.commit()  # merging segments reads the old ones

    def cancel(self) -> None:
        if self.tantivy:
            # On a damaged index the rollback may fail too; the caller already knows it is
            # damaged (and rebuilds into a new folder, which needs no lock of this one).
            with contextlib.suppress(IndexDamaged), self.engine.damage_guard(self.index_dir):
                self.writer.rollback()
                self.writer.wait_merging_threads()  # drops the writer: its lock goes with it
        else:
            self.writer.cancel()


def _apply_changes(changes: _Changes, catalog: Catalog, since: dt.datetime | None,
                   seq: int) -> int:
    """Re-read every item changed after change-log `seq` (a window behind it: see
    archive/changes.py) or dated after `since`, as it now is: its old document goes, its new
    one (if it is still on record and not withdrawn) comes. Then commit."""
    n = 0
    with catalog.session() as s:
        # SQLite has one writer, so seqs commit in order: no window needed there. Elsewhere a
        # slower transaction's lower seq may appear after a higher one was applied.
        window = 0 if catalog.engine.dialect.name == "sqlite" else CHANGE_WINDOW
        logged = set(changed_since(s, max(0, seq - window)))
        for item_id in sorted(removed_items(s, since) | logged):
            changes.delete(item_id)
        for doc in item_documents(s, item_ids=sorted(logged)) if logged else ():
            changes.add(doc)
            n += 1
        for doc in item_documents(s, updated_since=since):
            if doc["item_id"] in logged:
                continue  # done above
            changes.delete(doc["item_id"])
            changes.add(doc)
            n += 1
    changes.commit()
    return n


def update(catalog: Catalog) -> int:
    """Bring an existing index up to date with items added or changed since it was built (an
    ingest calls this at its end). Returns how many items were (re)indexed."""
    quiet_jieba()
    index_dir = catalog.settings.index_dir
    state = read_state(index_dir)
    if state is None or state.schema != SCHEMA_VERSION or \
            state.engine != catalog.settings.search_engine or \
            not _exists(index_dir, state.engine):
        return rebuild(catalog)
    items, updated = catalog_mark(catalog)
    if items < state.items:
        return rebuild(catalog)  # items went away: only a rebuild forgets them
    since = dt.datetime.fromisoformat(state.updated) if state.updated else None
    try:
        ix = open_index(catalog)
    except IndexDamaged as problem:
        log.warning("%s: rebuilding it", problem)
        return rebuild(catalog)  # an ingest is a writer anyway: mend the index for everyone
    seq = change_mark(catalog)  # before reading, as in rebuild
    changes = _Changes(catalog, ix)
    try:
        n = _apply_changes(changes, catalog, since, state.seq)
    except IndexDamaged as problem:
        changes.cancel()
        log.warning("%s: rebuilding it", problem)
        return rebuild(catalog)
    except BaseException:  # Ctrl-C or a bug: release the lock, leave the index as it was
        changes.cancel()
        raise
    write_state(index_dir, items, updated, seq, catalog.settings.search_engine)
    return n


__all__ = ["Freshness", "damage_guard", "freshness", "open_index", "rebuild", "update"]
