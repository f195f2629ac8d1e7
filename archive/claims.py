"""Work spread over machines: a command that works file by file (derive, verify, ocr) claims a
batch of pending files with a lease before working on them, so several machines (or processes)
share one catalog's work and a machine that dies gives its work back when its lease runs out.

One `work_claims` row per (kind, file): who holds it, until when, and when it was done. A
file is free for a run when no one holds a live lease on it and it was not done since the run
began:

    claim_free(None, run_started, now, alive)                          -> True   (never claimed)
    claim_free(held by B until now+60 s, not done, ...)                -> False  (B works on it)
    claim_free(held by B until now-1 s, not done, ...)                 -> True   (B's lease ran out)
    claim_free(held by a dead process of this host, not done, ...)     -> True   (kill -9)
    claim_free(done after run_started, ...)                            -> False  (done this run)
    claim_free(done before run_started, ...)                           -> True   (an earlier run's)

Claiming locks the candidate files' rows with SELECT ... FOR UPDATE SKIP LOCKED (files another
machine is claiming this instant are skipped, not waited for), reads their claims again under
that lock and takes the free ones, all in one short transaction. On SQLite the claim takes the
write lock instead (one machine; processes take turns). A heartbeat thread keeps the leases of
work in progress alive, so only a machine that stopped loses its claims.
"""
from __future__ import annotations

import datetime as dt
import logging
import os
import socket
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field

from sqlalchemy import delete, insert, select, update
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session

from archive.catalog import Catalog
from archive.leases import renewed
from archive.models import File, WorkClaim, utcnow

log = logging.getLogger(__name__)


def holder_name(host: str | None = None, pid: int | None = None) -> str:
    """Who holds a claim: `host:pid`, so a dead process of this host is recognised."""
    return f"{host or socket.gethostname()}:{pid if pid is not None else os.getpid()}"


def holder_alive(holder: str) -> bool:
    """False only for a holder on this host whose process is gone (or no holder at all)."""
    if not holder:
        return False
    host, _, pid = holder.rpartition(":")
    if host != socket.gethostname() or not pid.isdigit():
        return True
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def claim_free(claim: WorkClaim | None, run_started: dt.datetime, now: dt.datetime,
               alive: Callable[[str], bool] = holder_alive) -> bool:
    """May a run that began at `run_started` take this file (see the module's table)?"""
    if claim is None:
        return True
    if claim.done_at is not None:
        return claim.done_at < run_started
    return claim.expires_at <= now or not alive(claim.holder)


@dataclass
class Claims:
    """One run's claims of one kind of work."""
    catalog: Catalog
    kind: str  # derive, verify, ocr
    lease: float  # seconds a claim lasts without renewal
    holder: str = field(default_factory=holder_name)
    started: dt.datetime = field(default_factory=utcnow)
    elsewhere: set[int] = field(default_factory=set)  # files another holder had when we looked

    def take(self, file_ids: Sequence[int]) -> list[int]:
        """Claim what is free among these files; returns the ids now ours, in the order
        given. Files locked or held by another machine are left to it."""
        if not file_ids:
            return []
        now = utcnow()
        with self.catalog.writing() as s:
            locked = set(s.scalars(select(File.id).where(File.id.in_(file_ids))
                                   .with_for_update(skip_locked=True)))
            claims = {c.file_id: c for c in s.scalars(select(WorkClaim).where(
                WorkClaim.kind == self.kind, WorkClaim.file_id.in_(locked)))}
            mine = [i for i in file_ids if i in locked
                    and claim_free(claims.get(i), self.started, now)]
            self.elsewhere |= set(file_ids) - set(mine)
            self.elsewhere -= set(mine)
            expires = now + dt.timedelta(seconds=self.lease)
            stale = [i for i in mine if i in claims]
            if stale:
                s.execute(delete(WorkClaim).where(WorkClaim.kind == self.kind,
                                                  WorkClaim.file_id.in_(stale)))
            if mine:
                s.execute(insert(WorkClaim), [
                    {"kind": self.kind, "file_id": i, "holder": self.holder, "claimed_at": now,
                     "expires_at": expires, "done_at": None} for i in mine])
        return mine

    def done(self, s: Session | Connection, file_ids: Sequence[int]) -> None:
        """Mark these files done, in the transaction that records their results."""
        if file_ids:
            s.execute(update(WorkClaim).where(
                WorkClaim.kind == self.kind, WorkClaim.holder == self.holder,
                WorkClaim.file_id.in_(list(file_ids))).values(done_at=utcnow())
                .execution_options(synchronize_session=False))

    def renew(self) -> None:
        """Move the leases of this run's unfinished claims on."""
        with self.catalog.session() as s:
            s.execute(update(WorkClaim).where(
                WorkClaim.kind == self.kind, WorkClaim.holder == self.holder,
                WorkClaim.done_at.is_(None))
                .values(expires_at=utcnow() + dt.timedelta(seconds=self.lease)))

    def release(self) -> None:
        """Give back what this run claimed and did not finish (an interrupted run)."""
        with self.catalog.session() as s:
            s.execute(delete(WorkClaim).where(WorkClaim.kind == self.kind,
                                              WorkClaim.holder == self.holder,
                                              WorkClaim.done_at.is_(None)))

    def held_elsewhere(self) -> list[int]:
        """Files we saw held by others that are not done yet (live or just expired)."""
        if not self.elsewhere:
            return []
        with self.catalog.session() as s:
            done = set(s.scalars(select(WorkClaim.file_id).where(
                WorkClaim.kind == self.kind, WorkClaim.file_id.in_(self.elsewhere),
                WorkClaim.done_at.is_not(None), WorkClaim.done_at >= self.started)))
            present = set(s.scalars(select(File.id).where(File.id.in_(self.elsewhere))))
        self.elsewhere &= present - done
        return sorted(self.elsewhere)

    def heartbeat(self) -> AbstractContextManager[None]:
        """Renew this run's leases every third of a lease while the block runs."""
        return renewed(self.lease, self.renew, f"{self.kind} work claims")

