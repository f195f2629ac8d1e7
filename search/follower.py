"""The background follower of `archive serve`: every few seconds it applies the catalog's
changes to this machine's search index, so an edit made anywhere (an archivist's CLI, another
machine on a shared catalog) becomes searchable on the site within seconds, while requests
never write (they read through SearchService(writable=False), which notices the newer index).

    follower = Follower(settings, every=5.0)   # its own catalog connection, read-only
    follower.start()                           # a daemon thread; step() is one round
    ...
    follower.stop()

One writer at a time: an update takes the index's writer lock, waiting for another writer (an
ingest, a reindex, another server sharing this index_dir) up to `every` seconds, and tries
again at the next round if that one is still busy."""
from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass

from archive.catalog import Catalog
from archive.settings import Settings
from search.index import update
from search.state import INDEX_FAILURES, freshness

log = logging.getLogger(__name__)


@dataclass
class FollowerStats:
    rounds: int = 0
    applied: int = 0  # items (re)indexed since the follower started
    failures: int = 0
    last_problem: str = ""


def why_not_follow(catalog: Catalog) -> str | None:
    """Why this site cannot keep its index up to date itself, or None when it can.

        a published copy (immutable catalog)        -> "the catalog is a read-only copy"
        an index folder this user may not write     -> "... may not be written by this user"
    """
    if catalog.immutable:
        return "the catalog is a read-only copy: nothing in it changes"
    index_dir = catalog.settings.index_dir
    # A rebuild swaps in a new folder beside the index, and writers take turns by a lock file
    # there (search.index.writers_turn): both folders must be writable.
    for folder in (index_dir, index_dir.parent):
        if folder.exists() and not os.access(folder, os.W_OK):
            return f"the search index folder {folder} may not be written by this user"
    return None


class Follower:
    """Applies catalog changes to the index from a background thread (see the module)."""

    def __init__(self, settings: Settings, every: float):
        self.every = every
        # Wait for another writer no longer than a round: the next round tries again.
        self.catalog = Catalog.open(settings.with_options(
            index_wait=min(settings.index_wait, max(every, 1.0))), create=False, read_only=True)
        self.stats = FollowerStats()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def step(self) -> int:
        """One round: bring the index up to date if the catalog moved on; returns how many
        items were (re)indexed. The index's own problems (busy past the wait, damaged: the
        update mends it by rebuilding), the disk and a busy catalog are logged and tried
        again next round; anything else is a bug and ends the follower loudly."""
        self.stats.rounds += 1
        try:
            if not freshness(self.catalog).stale:
                return 0
            n = update(self.catalog)
        except INDEX_FAILURES as problem:
            self.stats.failures += 1
            self.stats.last_problem = str(problem)
            log.warning("the search index was not brought up to date: %s", problem)
            return 0
        self.stats.applied += n
        if n:
            log.info("applied %d changed item(s) to the search index", n)
        return n

    def _run(self) -> None:
        while not self._stop.wait(self.every):
            self.step()

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="index-follower", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 10.0) -> None:
        """Ask the thread to end after its round and wait for it (a round waits for the
        index's writer lock at most `every` seconds)."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
        self.catalog.close()
