"""The search index's life: build from the catalog, update what changed, detect when it is
missing (IndexMissing), held by another writer (IndexBusy) or damaged (IndexDamaged). The
catalog is never touched here except to read it. Engine-free: the engine chosen by the
setting `search_engine` (search.engines) does the writing.

Only an engine's reads of existing segments are guarded as possible damage: building a
document from the catalog, or adding one, happens outside the guard, so a bug there surfaces
as the bug it is rather than as advice to rebuild the index."""
from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import logging
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.catalog import Catalog
from archive.changes import CHANGE_WINDOW, changed_since
from archive.errors import IndexBusy, IndexDamaged
from archive.interrupts import raise_if_interrupted
from archive.models import Item
from search.analysis import few_documents, load_jieba, quiet_jieba
from search.documents import item_documents, removed_items
from search.engines import ENGINES, Engine, IndexWriter, load
from search.preparing import Preparers
from search.state import (
    SCHEMA_VERSION,
    Freshness,
    catalog_mark,
    change_mark,
    freshness,
    read_state,
    write_state,
)
from search.state import open_index as open_index_at

log = logging.getLogger(__name__)


def engine_of(catalog: Catalog) -> Engine:
    """The engine the catalog's settings choose."""
    return load(catalog.settings.search_engine)


PREPARE_IN_WORKERS_FROM = 2_000  # items: below this, forking workers costs more than it saves
# Items: up to this many, a catch-up in this process cuts jieba words over the table of its
# dictionary rather than load it (0.5 s, about as much as the table's slower cut of 1,000 items).
FEW_DOCUMENTS = 1_000


def _build(catalog: Catalog, engine: Engine, building: Path,
           progress: Callable[[int, int], None] | None, total: int) -> int:
    workers = catalog.settings.worker_count
    # An engine that analyses documents in Python shares that out (search.preparing); Whoosh
    # analyses inside its own writer, which runs `workers` processes itself.
    preparers = Preparers(engine.prepare, _workers_for(catalog, engine, total),
                          before_fork=load_jieba)
    try:
        writer = engine.writer(engine.create(building), building, catalog.settings.index_wait,
                               workers)
        done = 0
        try:
            with catalog.session() as s:
                for doc in preparers.map(item_documents(s)):
                    raise_if_interrupted()  # a Ctrl-C lost while the writer forked its helpers
                    writer.add_prepared(doc)
                    done += 1
                    if progress and done % 100 == 0:
                        progress(done, total)
            writer.commit()
        except BaseException:  # Ctrl-C included: drop the half-built segment (the caller the
            writer.cancel()    # folder)
            raise
    finally:
        preparers.close()
    raise_if_interrupted()  # lost in the commit's forks: the caller drops the built folder
    return done


_TURNS_HELD: set[Path] = set()  # this process's turns, so update's rebuild does not wait on it


@contextmanager
def writers_turn(catalog: Catalog) -> Iterator[None]:
    """Hold the index's turn: read its state, apply changes or swap in a rebuild, write its
    state, with no other process doing the same. Whoosh's own lock covers only its writer:
    two ingests ending together could otherwise each read the old state, or one swap in a
    rebuild under the other's update, and leave the marks ahead of what the index holds."""
    index_dir = catalog.settings.index_dir
    path = index_dir.with_name(index_dir.name + ".lock")
    if path in _TURNS_HELD:
        yield
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    wait = catalog.settings.index_wait
    with open(path, "a+b") as fh:
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    raise IndexBusy(f"the search index is being written by another process "
                                    f"and was still busy after {wait:.0f} s; try again "
                                    "later") from None
                time.sleep(0.1)
        _TURNS_HELD.add(path)
        try:
            yield
        finally:
            _TURNS_HELD.discard(path)
            fcntl.flock(fh, fcntl.LOCK_UN)


def rebuild(catalog: Catalog, progress: Callable[[int, int], None] | None = None) -> int:
    """Build the whole index from the catalog into a new folder, then swap it in: a failed or
    interrupted rebuild leaves the old index as it was. Returns the number of items."""
    with writers_turn(catalog):
        return _rebuild(catalog, progress)


def _rebuild(catalog: Catalog, progress: Callable[[int, int], None] | None) -> int:
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
    try:
        done = _build(catalog, engine_of(catalog), building, progress, total)
        write_state(building, catalog_mark(catalog)[0] if done else 0, updated, seq,
                    catalog.settings.search_engine)
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
    return engine in ENGINES and load(engine).exists(index_dir)


def open_index(catalog: Catalog) -> Any:
    """The index, or IndexMissing / IndexDamaged saying how to get one (search.state)."""
    return open_index_at(catalog.settings)


@dataclass(frozen=True)
class _Changes:
    """What a catch-up re-reads: the items whose documents go (withdrawn, forgotten, or
    changed: the change log names them), the logged ones to read again by id, and those dated
    after the mark without a change row (bulk loads): by id when few, by date when many or
    when the index has no date mark (`dated` None)."""
    gone: list[int]
    logged: list[int]
    dated: list[int] | None
    size: int  # documents to read, about: whether workers pay for themselves


def _changes(catalog: Catalog, since: dt.datetime | None, seq: int) -> _Changes:
    with catalog.session() as s:
        # Change rows commit in seq order on every database (archive/changes.py).
        logged = set(changed_since(s, max(0, seq - CHANGE_WINDOW)))
        gone = sorted(removed_items(s, since) | logged)
        # Items dated after the mark without a change row: their ids first, so an item the log
        # already named is not read and analysed a second time only to be skipped. Many of them
        # (a bulk load) are read by date, as a rebuild reads, not by a list of ids.
        dated = sorted(set(s.scalars(select(Item.id).where(Item.updated_at >= since)))
                       - logged) if since is not None else None
        size = len(logged) + (len(dated) if dated is not None else
                              s.scalar(select(func.count(Item.id))) or 0)
    return _Changes(gone, sorted(logged), dated, size)


def _changed_documents(s: Session, changes: _Changes,
                       since: dt.datetime | None) -> Iterator[dict[str, Any]]:
    """The documents of the changed items as they now are: the logged ones, then the dated."""
    if changes.logged:
        yield from item_documents(s, item_ids=changes.logged)
    if changes.dated is None or len(changes.dated) > 500:
        logged = set(changes.logged)
        yield from (doc for doc in item_documents(s, updated_since=since)
                    if doc["item_id"] not in logged)  # done above
    elif changes.dated:
        yield from item_documents(s, item_ids=changes.dated)


def _apply_changes(writer: IndexWriter, catalog: Catalog, changes: _Changes,
                   since: dt.datetime | None, preparers: Preparers | None = None) -> int:
    """Re-read every changed item (`changes`) as it now is: its old document goes, its new one
    (if it is still on record and not withdrawn) comes; analysed by `preparers` when given (a
    large catch-up: worker processes, as a rebuild), else in this process. Then commit."""
    n = 0
    for item_id in changes.gone:
        writer.delete(item_id)
    logged = set(changes.logged)
    few = preparers is None and changes.size <= FEW_DOCUMENTS
    with catalog.session() as s, few_documents() if few else contextlib.nullcontext():
        docs = _changed_documents(s, changes, since)
        prepared = preparers.map(docs) if preparers is not None else docs
        for doc in prepared:
            raise_if_interrupted()
            if doc["item_id"] not in logged:
                writer.delete(doc["item_id"])  # a logged item's went with `gone`
            if preparers is not None:
                writer.add_prepared(doc)
            else:
                writer.add(doc)
            n += 1
    writer.commit()
    return n


def _workers_for(catalog: Catalog, engine: Engine, size: int) -> int:
    """Worker processes for analysing `size` documents: the catalog's worker count when the
    engine analyses in Python and there are enough of them to pay for the fork, else 1 (in
    this process). Only from the main thread: `archive serve`'s follower runs in a thread of a
    threaded server, whose other threads may hold locks a forked child would wait on for
    ever."""
    if engine.PREPARES and size >= PREPARE_IN_WORKERS_FROM and \
            threading.current_thread() is threading.main_thread():
        return catalog.settings.worker_count
    return 1


def update(catalog: Catalog) -> int:
    """Bring an existing index up to date with items added or changed since it was built (an
    ingest calls this at its end). Returns how many items were (re)indexed."""
    with writers_turn(catalog):
        return _update(catalog)


def _update(catalog: Catalog) -> int:
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
    engine = engine_of(catalog)
    changes = _changes(catalog, since, state.seq)
    workers = _workers_for(catalog, engine, changes.size)
    # A large catch-up (the first ingest of many files) is analysed in worker processes as a
    # rebuild is, forked before the writer's threads start (search.preparing).
    preparers = Preparers(engine.prepare, workers, before_fork=load_jieba) \
        if workers > 1 else None
    try:
        writer = engine.writer(ix, index_dir, catalog.settings.index_wait, workers)
        try:
            n = _apply_changes(writer, catalog, changes, since, preparers)
        except IndexDamaged as problem:
            writer.cancel()
            log.warning("%s: rebuilding it", problem)
            return rebuild(catalog)
        except BaseException:  # Ctrl-C or a bug: release the lock, leave the index as it was
            writer.cancel()
            raise
    finally:
        if preparers is not None:
            preparers.close()
    write_state(index_dir, items, updated, seq, catalog.settings.search_engine)
    return n


__all__ = ["Freshness", "engine_of", "freshness", "open_index", "rebuild", "update"]
