"""Writer locks: an ingest locks the folders it walks, not the catalog, so archivists ingesting
different folders into one catalog run at once; one row per held lock, on any database.

A lock has a name (the command: "ingest", "verify") and a scope: a folder, or the whole
catalog (scope None). Two holders of one name conflict when their scopes overlap:

    scopes_overlap("/data/qian", "/data/qian")      -> True   (the same folder)
    scopes_overlap("/data", "/data/qian")           -> True   (one inside the other)
    scopes_overlap("/data/qian", "/data/qiang")     -> False  (neighbours, not nested)
    scopes_overlap(None, "/data/qian")              -> True   (the whole catalog)
"""
from __future__ import annotations

import hashlib
import os
import socket
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive.catalog import Catalog
from archive.errors import CatalogBusy
from archive.models import Lock, Meta

# The row of archive_meta whose row lock makes checking and taking locks one step: without it
# two ingests of nested folders could each check, find the other absent, and both go on.
_GATE = "lock-gate"


def scopes_overlap(a: str | None, b: str | None) -> bool:
    """True when two lock scopes (folders, None for the whole catalog) share any file."""
    if a is None or b is None:
        return True
    a, b = a.rstrip(os.sep) + os.sep, b.rstrip(os.sep) + os.sep
    return a.startswith(b) or b.startswith(a)


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
                 pid: int) -> Holder | None:
    """Take the locks of every scope, or return a holder of one overlapping them. A holder on
    this host whose process is gone (a killed ingest) is cleared, so `kill -9` never wedges
    the catalog."""
    _make_gate(catalog)
    with catalog.session() as s:
        # The gate's row lock for the rest of this transaction (on SQLite the write lock,
        # which the busy timeout makes a second process wait its turn for).
        s.execute(update(Meta).where(Meta.key == _GATE).values(value=""))
        for held in _holders(s, name):
            if not any(scopes_overlap(held.scope, mine) for mine in scopes):
                continue
            if held.host == host and not _alive(held.pid):
                s.execute(delete(Lock).where(Lock.name == held.name, Lock.pid == held.pid))
                continue
            return Holder(held.host, held.pid, f"{held.acquired_at:%Y-%m-%d %H:%M:%S}",
                          held.scope)
        s.execute(insert(Lock), [{"name": _row_name(name, scope), "scope": scope, "host": host,
                                  "pid": pid} for scope in dict.fromkeys(scopes)])
    return None


@contextmanager
def writer_lock(catalog: Catalog, name: str = "ingest", wait: float = 0.0,
                poll: float = 0.25, scopes: Sequence[str] | None = None) -> Iterator[None]:
    """Hold the `name` lock over `scopes` (folders; None: the whole catalog) for the block.
    Raises CatalogBusy when another holder overlaps them for longer than `wait` seconds."""
    host, pid = socket.gethostname(), os.getpid()
    wanted: list[str | None] = list(scopes) if scopes else [None]
    deadline = time.monotonic() + wait
    while True:
        holder = _try_acquire(catalog, name, wanted, host, pid)
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
        yield
    finally:
        with catalog.session() as s:
            s.execute(delete(Lock).where(Lock.name.in_([_row_name(name, w) for w in wanted]),
                                         Lock.host == host, Lock.pid == pid))
