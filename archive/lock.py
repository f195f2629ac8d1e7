"""The writer lock: at most one ingest writes to a catalog at a time, on any database."""
from __future__ import annotations

import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from archive.catalog import Catalog
from archive.errors import CatalogBusy
from archive.models import Lock


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _try_acquire(catalog: Catalog, name: str, host: str, pid: int) -> Lock | None:
    """Take the lock, or return the row of whoever holds it. A holder on this host whose
    process is gone (a killed ingest) is cleared, so `kill -9` never wedges the catalog."""
    try:
        with catalog.session() as s:
            s.add(Lock(name=name, host=host, pid=pid))
        return None
    except IntegrityError:
        pass
    with catalog.session() as s:
        holder = s.scalars(select(Lock).where(Lock.name == name)).one_or_none()
        if holder is None:
            return _try_acquire(catalog, name, host, pid)
        if holder.host == host and not _alive(holder.pid):
            s.execute(delete(Lock).where(Lock.name == name, Lock.pid == holder.pid))
            s.commit()
            return _try_acquire(catalog, name, host, pid)
        s.expunge(holder)
        return holder


@contextmanager
def writer_lock(catalog: Catalog, name: str = "ingest", wait: float = 0.0,
                poll: float = 0.25) -> Iterator[None]:
    host, pid = socket.gethostname(), os.getpid()
    deadline = time.monotonic() + wait
    while True:
        holder = _try_acquire(catalog, name, host, pid)
        if holder is None:
            break
        if time.monotonic() >= deadline:
            raise CatalogBusy(
                f"another {name} is writing to this catalog (pid {holder.pid} on {holder.host}, "
                f"since {holder.acquired_at:%Y-%m-%d %H:%M:%S} UTC); wait for it to finish or "
                "pass --wait SECONDS")
        time.sleep(poll)
    try:
        yield
    finally:
        with catalog.session() as s:
            s.execute(delete(Lock).where(Lock.name == name, Lock.host == host, Lock.pid == pid))
