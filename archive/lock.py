"""Writer locks: an ingest locks the folders it walks, not the catalog, so archivists ingesting
different folders into one catalog run at once; one row per held lock, on any database.

A lock has a name (the command: "ingest", "verify") and a scope: a folder, or the whole
catalog (scope None). Two holders of one name conflict when their scopes overlap:

    scopes_overlap("/data/qian", "/data/qian")      -> True   (the same folder)
    scopes_overlap("/data", "/data/qian")           -> True   (one inside the other)
    scopes_overlap("/data/qian", "/data/qiang")     -> False  (neighbours, not nested)
    scopes_overlap(None, "/data/qian")              -> True   (the whole catalog)

Each lock has a lease: its holder renews `lease_until` from a small thread while it runs
(every third of `lease_seconds`), so a lock is kept exactly as long as its holder lives, on
whichever machine. A held lock is free for another taker when (`lock_free`):

    lock_free(lease until now+60 s, held by a live pid on another host)  -> False (it renews)
    lock_free(lease until now-1 s, on another host)                      -> True  (it died)
    lock_free(held on this host by a pid that is gone)                   -> True  (kill -9)
    lock_free(no lease (NULL), on another host)                          -> False (cleared by hand)

The machines' clocks must agree to well within a lease (NTP does): a lease is a time written
by one machine and read by another.
"""
from __future__ import annotations

import datetime as dt
import hashlib
import logging
import os
import socket
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive.catalog import Catalog
from archive.errors import CatalogBusy
from archive.leases import renewed
from archive.models import Lock, Meta, utcnow
from archive.paths import scopes_overlap

log = logging.getLogger(__name__)

# The row of archive_meta whose row lock makes checking and taking locks one step: without it
# two ingests of nested folders could each check, find the other absent, and both go on.
_GATE = "lock-gate"


def _row_name(name: str, scope: str | None) -> str:
    """The lock row's key: the name alone for the whole catalog, else name:digest-of-folder
    (folders are longer than the key column)."""
    if scope is None:
        return name
    return f"{name}:{hashlib.sha256(scope.encode('utf-8', 'surrogateescape')).hexdigest()[:24]}"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def lock_free(lease_until: dt.datetime | None, held_host: str, held_pid: int, host: str,
              now: dt.datetime, alive: Callable[[int], bool] = _alive) -> bool:
    """May a taker on `host` at `now` clear this overlapping lock (see the module's table)?
    A holder on this host is judged by its process; any holder by its lease."""
    if held_host == host and not alive(held_pid):
        return True
    return lease_until is not None and lease_until <= now


@dataclass(frozen=True)
class Holder:
    host: str
    pid: int
    since: str
    scope: str | None


def _holders(s: Session, name: str) -> list[Lock]:
    return list(s.scalars(select(Lock).where((Lock.name == name)
                                             | Lock.name.startswith(name + ":"))))


def _make_gate(catalog: Catalog) -> None:
    """The gate row, made once per catalog (by whichever process comes first)."""
    with catalog.engine.connect() as con:
        if con.execute(select(Meta.key).where(Meta.key == _GATE)).first() is not None:
            return
    try:
        with catalog.session() as s:
            s.execute(insert(Meta).values(key=_GATE, value=""))
    except IntegrityError:
        pass  # made by another process meanwhile


def _try_acquire(catalog: Catalog, name: str, scopes: Sequence[str | None], host: str,
                 pid: int, lease: float) -> Holder | None:
    """Take the locks of every scope, or return a holder of one overlapping them. A holder
    whose lease ran out (a machine that died) or on this host whose process is gone (a killed
    ingest) is cleared, so neither `kill -9` nor a dead machine wedges the folder."""
    _make_gate(catalog)
    with catalog.session() as s:
        # The gate's row lock for the rest of this transaction (on SQLite the write lock,
        # which the busy timeout makes a second process wait its turn for).
        s.execute(update(Meta).where(Meta.key == _GATE).values(value=""))
        now = utcnow()
        for held in _holders(s, name):
            if not any(scopes_overlap(held.scope, mine) for mine in scopes):
                continue
            if lock_free(held.lease_until, held.host, held.pid, host, now):
                log.info("clearing the %s lock of pid %s on %s (%s)", name, held.pid, held.host,
                         "its lease ran out" if held.host != host else "its process is gone")
                s.execute(delete(Lock).where(Lock.name == held.name, Lock.host == held.host,
                                             Lock.pid == held.pid))
                continue
            return Holder(held.host, held.pid, f"{held.acquired_at:%Y-%m-%d %H:%M:%S}",
                          held.scope)
        until = now + dt.timedelta(seconds=lease)
        s.execute(insert(Lock), [{"name": _row_name(name, scope), "scope": scope, "host": host,
                                  "pid": pid, "acquired_at": now, "lease_until": until}
                                 for scope in dict.fromkeys(scopes)])
    return None


def _renew(catalog: Catalog, rows: list[str], host: str, pid: int, lease: float) -> int:
    """Move this holder's leases on; returns how many of its rows are still there."""
    with catalog.session() as s:
        result = s.execute(update(Lock).where(Lock.name.in_(rows), Lock.host == host,
                                              Lock.pid == pid)
                           .values(lease_until=utcnow() + dt.timedelta(seconds=lease)))
    return int(getattr(result, "rowcount", 0) or 0)


def _renewing(catalog: Catalog, rows: list[str], host: str, pid: int,
              lease: float) -> AbstractContextManager[None]:
    """Renew the lease every third of it while the block runs (archive/leases.py)."""
    def renew() -> None:
        if _renew(catalog, rows, host, pid, lease) < len(rows):
            log.error("this process's lock on its folders was cleared by another "
                      "(its lease of %s s ran out before it was renewed)", lease)
    return renewed(lease, renew, "the folder lock")


@contextmanager
def writer_lock(catalog: Catalog, name: str = "ingest", wait: float = 0.0,
                poll: float = 0.25, scopes: Sequence[str] | None = None,
                lease: float | None = None) -> Iterator[None]:
    """Hold the `name` lock over `scopes` (folders; None: the whole catalog) for the block,
    renewing its lease (`lease` seconds, default the setting `lease_seconds`) as it runs.
    Raises CatalogBusy when another holder overlaps them for longer than `wait` seconds."""
    host, pid = socket.gethostname(), os.getpid()
    lease = catalog.settings.lease_seconds if lease is None else lease
    wanted: list[str | None] = list(scopes) if scopes else [None]
    rows = [_row_name(name, w) for w in dict.fromkeys(wanted)]
    deadline = time.monotonic() + wait
    while True:
        holder = _try_acquire(catalog, name, wanted, host, pid, lease)
        if holder is None:
            break
        if time.monotonic() >= deadline:
            where = "" if holder.scope is None else f" in {holder.scope}"
            raise CatalogBusy(
                f"another {name} is writing to this catalog (pid {holder.pid} on {holder.host}, "
                f"since {holder.since} UTC){where}; wait for it to finish or "
                "pass --wait SECONDS")
        time.sleep(poll)
    try:
        with _renewing(catalog, rows, host, pid, lease):
            yield
    finally:
        with catalog.session() as s:
            s.execute(delete(Lock).where(Lock.name.in_(rows), Lock.host == host,
                                         Lock.pid == pid))
