"""A Whoosh index on disk: create, open (damage shown as IndexDamaged), and its one writer
(IndexBusy when another process holds it past the wait)."""
from __future__ import annotations

import pickle
import struct
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from whoosh import index as windex
from whoosh.filedb.filestore import FileStorage
from whoosh.index import EmptyIndexError, LockError

from archive.errors import IndexBusy, IndexDamaged
from archive.interrupts import deferred
from search.engines.whoosh.schema import build_schema

# Postings each writer process buffers before a sorted run spills to disk (Python objects
# cost about twice Whoosh's estimate: a writer holds about 520 MB). Sharing 256 MB between the
# two writers cut that to 360 MB but made the build a quarter slower, and did not touch the
# peak at 500,000 items (docs/PERFORMANCE.md).
WRITER_MB = 256
# What Whoosh raises, among others, when it reads a damaged segment.
DAMAGE = (struct.error, EOFError, OSError, ValueError, KeyError, IndexError, zlib.error,
          pickle.UnpicklingError, TypeError)


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


def exists(folder: Path) -> bool:
    return bool(windex.exists_in(str(folder)))


def create(folder: Path) -> Any:
    return windex.create_in(str(folder), build_schema())


def open_index(folder: Path) -> Any:
    """The index, opened for reading (nothing is written), its segments touched so that damage
    shows here with a clear message rather than in the middle of some later query."""
    try:
        # Not mmapped: Whoosh copies a mapped segment file whole into a BytesIO on opening it
        # (at 20,000 items, most of a CLI search's time); plain reads fetch what queries touch.
        ix = FileStorage(str(folder), supports_mmap=False).open_index()
    except (EmptyIndexError, OSError, ValueError, EOFError) as exc:
        raise IndexDamaged(f"the search index at {folder} is damaged ({exc}); rebuild it "
                           "with `archive reindex`") from None
    with damage_guard(folder), ix.reader() as reader:
        reader.doc_count()
        next(iter(reader.lexicon("accession")), None)
    return ix


class Writer:
    """The index's one writer: drop an item's document, add one, commit or cancel."""

    def __init__(self, ix: Any, folder: Path, wait: float, procs: int = 1):
        self.folder = folder
        self.procs = procs
        try:
            if procs > 1:
                # A full rebuild on every core, leaving a segment per process: merging them
                # at the end is single-process and undid most of the gain (measured: 218
                # items/s with the merge, 480 without, 165 on one core; docs/PERFORMANCE.md).
                self.writer = ix.writer(limitmb=WRITER_MB, timeout=wait, delay=0.25,
                                        procs=procs, multisegment=True)
            else:
                self.writer = ix.writer(limitmb=WRITER_MB, timeout=wait, delay=0.25)
        except LockError:
            raise IndexBusy(f"the search index is being written by another process and was "
                            f"still busy after {wait:.0f} s; try again later") from None

    def delete(self, item_id: int) -> None:
        # Deleting reads the existing segments (damage shows here); adding only writes the
        # new segment, so a bad document is a bug, not damage.
        with damage_guard(self.folder):
            self.writer.delete_by_term("item_id", item_id)

    def add(self, doc: dict[str, Any]) -> None:
        if self.procs > 1 and len(self.writer.tasks) < self.procs:
            # This document may start a sub-writer: a Ctrl-C must wait until its pid is
            # known, or cancel() could not stop it (archive/interrupts.py).
            with deferred():
                self.writer.add_document(**doc)
        else:
            self.writer.add_document(**doc)

    add_prepared = add  # Whoosh's documents need no preparing (search.engines: prepare)

    def commit(self) -> None:
        with damage_guard(self.folder):
            self.writer.commit()  # merging segments reads the old ones

    def cancel(self) -> None:
        # A multi-process writer's cancel only flags its sub-writers in this process. They may
        # be gone (Ctrl-C reaches the whole process group) or at work: stop them before the
        # cancel deletes the job files they read, and let the job queue drop what it still
        # holds, or the exit waits for ever on its feeder thread writing into a pipe nobody
        # reads.
        for task in getattr(self.writer, "tasks", ()):
            if task.pid is None:
                continue  # made, never started: add() holds a Ctrl-C until start() returns
            if task.is_alive():
                task.terminate()
            task.join(5)
        for queue in (getattr(self.writer, "jobqueue", None),
                      getattr(self.writer, "resultqueue", None)):
            if queue is not None:
                queue.cancel_join_thread()
                queue.close()
        self.writer.cancel()
