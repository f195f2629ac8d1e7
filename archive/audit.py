"""The audit log: every view or download of a restricted or closed item's page, file,
derivative, IIIF manifest or image, or search snippet, by anyone, signed in or not; also every
such request the site refused (someone not allowed asking for it). Rows are only ever added;
`archive audit` reads them.

    audited("restricted", None)                       -> True
    audited("closed", date(2020, 1, 1), on=2026-01-01) -> False (unsealed: open now)
    audited("open", None)                             -> False (open material is not logged)
    read_since("2026-12-01")                          -> datetime(2026, 12, 1, 0, 0)
    read_since("2026-12-01T18:30")                    -> datetime(2026, 12, 1, 18, 30)
    read_since("yesterday")                           -> UsageError "cannot read ..."
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from archive.access import PUBLIC_ACCESS, effective_access
from archive.accession import normalise_accession
from archive.errors import UsageError
from archive.models import AuditEntry, Item, utcnow

# What was asked for (AuditEntry.action).
ACTIONS = ("page", "file", "derivative", "manifest", "image", "snippet")
SERVED = "served"
REFUSED = "refused"  # the viewer may not see the item: the site answered 404
_CHUNK = 500


def audited(access: str | None, access_until: dt.date | None, on: dt.date | None = None) -> bool:
    """Is a view of an item with this access logged? Restricted and closed ones are (sealing
    applied: an item whose sealing date has come is open)."""
    return effective_access(access, access_until, on) != PUBLIC_ACCESS


def record_view(s: Session, item: Item, action: str, user: str | None, address: str | None,
                path: str | None, outcome: str = SERVED,
                at: dt.datetime | None = None) -> bool:
    """Log one view of `item` if it is restricted or closed; True when a row was added."""
    if not audited(item.access, item.access_until):
        return False
    s.execute(insert(AuditEntry).values(
        at=at or utcnow(), user_name=user, item_id=item.id, accession=item.accession,
        action=action, path=(path or "")[:2000] or None, address=(address or "")[:64] or None,
        outcome=outcome))
    return True


def read_since(text: str) -> dt.datetime:
    """--since: a day or a moment, ISO 8601, taken as UTC like every time in the catalog."""
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise UsageError(f"cannot read {text!r} as a date; use 2026-12-01 or "
                         "2026-12-01T18:30 (UTC)") from None
    if moment.tzinfo is not None:
        moment = moment.astimezone(dt.UTC).replace(tzinfo=None)
    return moment


@dataclass(frozen=True)
class AuditLine:
    at: dt.datetime
    user: str | None  # None: nobody signed in
    accession: str | None
    action: str
    outcome: str
    address: str | None
    path: str | None

    def to_json(self) -> dict[str, object]:
        return {"at": self.at.isoformat(timespec="seconds") + "Z", "user": self.user,
                "accession": self.accession, "action": self.action, "outcome": self.outcome,
                "address": self.address, "path": self.path}

    def line(self) -> str:
        return (f"{self.at:%Y-%m-%d %H:%M:%S}  {self.user or '(anonymous)'}  "
                f"{self.accession or '-'}  {self.action}  {self.outcome}  "
                f"{self.address or '-'}  {self.path or ''}").rstrip()


def audit_lines(s: Session, accession: str | None = None, user: str | None = None,
                since: dt.datetime | None = None) -> Iterator[AuditLine]:
    """The log, oldest first, narrowed to an item, a person or a time; streamed."""
    query = select(AuditEntry).order_by(AuditEntry.id).execution_options(yield_per=_CHUNK)
    if accession is not None:
        query = query.where(AuditEntry.accession == normalise_accession(accession))
    if user is not None:
        query = query.where(AuditEntry.user_name == user)
    if since is not None:
        query = query.where(AuditEntry.at >= since)
    for e in s.scalars(query):
        yield AuditLine(e.at, e.user_name, e.accession, e.action, e.outcome or SERVED,
                        e.address, e.path)
