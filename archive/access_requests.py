"""Researchers' requests to see a restricted item, and staff's decisions on them. An approved
request is the grant: that researcher sees that item, and only it, until `expires_at`
(archive/access.py reads grants through `viewer_for`). Every step is a provenance event on the
item; nothing is deleted, so the history of who saw what under which grant stays.

    state_of("pending", None, now)                  -> "pending"
    state_of("approved", now + 1 day, now)          -> "approved"  (a grant in force)
    state_of("approved", now - 1 second, now)       -> "expired"
    state_of("denied", None, now)                   -> "denied"
    grant_ends(approved_at, days=30)                -> approved_at + 30 days
    grant_ends(approved_at, days=0)                 -> ValueError "a grant lasts 1 to 3650 days"
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.access import effective_access
from archive.accession import item_by_accession
from archive.errors import NotFound, UsageError
from archive.events import event_row, record_events
from archive.models import AccessRequest, Item, User, utcnow

# Provenance event kinds (each on the item asked for; the agent is who acted).
ACCESS_REQUESTED = "access request"
ACCESS_GRANTED = "access grant"
ACCESS_DENIED = "access denial"

DEFAULT_DAYS = 30
MAX_DAYS = 3650
MAX_REASON = 2000
MAX_NOTE = 2000
STATES = ("pending", "approved", "expired", "denied")


def state_of(status: str, expires_at: dt.datetime | None, now: dt.datetime) -> str:
    """The request's state as people read it: an approved grant whose end has passed (or
    that has none: every grant ends) is "expired"."""
    if status == "approved" and (expires_at is None or expires_at <= now):
        return "expired"
    return status


def grant_ends(approved_at: dt.datetime, days: int) -> dt.datetime:
    if not 1 <= days <= MAX_DAYS:
        raise ValueError(f"a grant lasts 1 to {MAX_DAYS} days (got {days})")
    return approved_at + dt.timedelta(days=days)


def _iso(at: dt.datetime | None) -> str | None:
    return at.isoformat(timespec="seconds") + "Z" if at is not None else None


@dataclass(frozen=True)
class RequestLine:
    """One request as `archive requests list`, /staff/requests and /account show it."""
    id: int
    user: str
    accession: str
    title: str
    reason: str
    state: str  # pending, approved (a grant in force), expired, denied
    created_at: dt.datetime
    decided_at: dt.datetime | None
    decided_by: str | None
    note: str | None
    expires_at: dt.datetime | None
    access: str = "restricted"  # the item's access now (sealing applied): who may read its title

    def to_json(self) -> dict[str, object]:
        return {"id": self.id, "user": self.user, "accession": self.accession,
                "title": self.title, "reason": self.reason, "status": self.state,
                "created_at": _iso(self.created_at), "decided_at": _iso(self.decided_at),
                "decided_by": self.decided_by, "note": self.note,
                "expires_at": _iso(self.expires_at)}

    def line(self) -> str:
        when = {"pending": f"asked {self.created_at:%Y-%m-%d}",
                "approved": f"until {self.expires_at:%Y-%m-%d %H:%M} UTC"
                if self.expires_at else "",
                "expired": f"ended {self.expires_at:%Y-%m-%d %H:%M} UTC"
                if self.expires_at else "ended",
                "denied": f"denied {self.decided_at:%Y-%m-%d}" if self.decided_at else ""}
        return (f"#{self.id}  {self.state:<8}  {self.accession}  {self.user}  "
                f"{when[self.state]}  {self.reason}")


def _clean(text: str | None, what: str, limit: int) -> str | None:
    value = (text or "").strip()
    if "\x00" in value:
        raise UsageError(f"the {what} contains a NUL character")
    if len(value) > limit:
        raise UsageError(f"the {what} is longer than {limit} characters; shorten it")
    return value or None


def submit_request(s: Session, user: User, accession: str, reason: str,
                   now: dt.datetime | None = None) -> AccessRequest:
    """A researcher asks to see a restricted item. Open items need no request; closed ones
    cannot be granted (closed to everyone but administrators); one pending request per item
    and person is enough."""
    now = now or utcnow()
    item = item_by_accession(s, accession)
    if item is None or item.withdrawn_at is not None:
        raise NotFound(f"no item with accession number {accession.strip()!r}")
    level = effective_access(item.access, item.access_until, now.date())
    if level == "open":
        raise UsageError(f"{item.accession} is open: anyone may see it without a request")
    if level == "closed":
        raise UsageError(f"{item.accession} is closed: closed items cannot be requested")
    if user.disabled_at is not None:
        raise UsageError(f"the account {user.name} is disabled")
    text = _clean(reason, "reason", MAX_REASON)
    if text is None:
        raise UsageError("say why you need to see the item: the reason helps staff decide")
    pending = s.scalars(select(AccessRequest.id).where(
        AccessRequest.user_id == user.id, AccessRequest.item_id == item.id,
        AccessRequest.status == "pending")).first()
    if pending is not None:
        raise UsageError(f"you already asked for {item.accession} (request #{pending}); "
                         "staff will decide it")
    request = AccessRequest(user_id=user.id, item_id=item.id, reason=text, status="pending",
                            created_at=now)
    s.add(request)
    s.flush()
    record_events(s, [event_row(ACCESS_REQUESTED, item_id=item.id, agent=user.name,
                                detail=f"request #{request.id} by {user.name}: {text}")])
    return request


def _pending(s: Session, request_id: int) -> AccessRequest:
    request = s.get(AccessRequest, request_id)
    if request is None:
        raise NotFound(f"no access request #{request_id}; `archive requests list` lists them")
    if request.status != "pending":
        raise UsageError(f"request #{request_id} was already {request.status} "
                         f"({request.decided_at:%Y-%m-%d} by {request.decided_by}); a new "
                         "request is needed" if request.decided_at else
                         f"request #{request_id} is {request.status}, not pending")
    return request


def approve(s: Session, request_id: int, agent: str, days: int = DEFAULT_DAYS,
            note: str | None = None, now: dt.datetime | None = None) -> AccessRequest:
    """Grant a pending request for `days` from now: the researcher sees that item until then."""
    now = now or utcnow()
    try:
        ends = grant_ends(now, days)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    request = _pending(s, request_id)
    request.status, request.decided_at, request.decided_by = "approved", now, agent
    request.note, request.expires_at = _clean(note, "note", MAX_NOTE), ends
    user = s.get(User, request.user_id)
    who = user.name if user else f"user {request.user_id}"
    record_events(s, [event_row(ACCESS_GRANTED, item_id=request.item_id, agent=agent,
                                new=_iso(ends), detail=f"request #{request.id} by {who}: "
                                f"{days} day(s)" + (f"; {request.note}" if request.note else ""))])
    s.flush()
    return request


def deny(s: Session, request_id: int, agent: str, note: str | None = None,
         now: dt.datetime | None = None) -> AccessRequest:
    now = now or utcnow()
    request = _pending(s, request_id)
    request.status, request.decided_at, request.decided_by = "denied", now, agent
    request.note = _clean(note, "note", MAX_NOTE)
    user = s.get(User, request.user_id)
    who = user.name if user else f"user {request.user_id}"
    record_events(s, [event_row(ACCESS_DENIED, item_id=request.item_id, agent=agent,
                                detail=f"request #{request.id} by {who}"
                                + (f": {request.note}" if request.note else ""))])
    s.flush()
    return request


def list_requests(s: Session, states: Sequence[str] = (), user: str | None = None,
                  request_id: int | None = None,
                  now: dt.datetime | None = None) -> list[RequestLine]:
    """Requests, newest first: all, or those in `states`, or one person's (`user`: what
    /account shows; a researcher is never shown anyone else's)."""
    now = now or utcnow()
    unknown = [x for x in states if x not in STATES]
    if unknown:
        raise UsageError(f"unknown status {unknown[0]!r}; use {', '.join(STATES)}")
    query = (select(AccessRequest, User.name, Item.accession, Item.title, Item.access,
                    Item.access_until)
             .join(User, AccessRequest.user_id == User.id)
             .join(Item, AccessRequest.item_id == Item.id)
             .order_by(AccessRequest.id.desc()))
    if user is not None:
        query = query.where(User.name == user)
    if request_id is not None:
        query = query.where(AccessRequest.id == request_id)
    if states:  # narrowed in SQL by the stored status, then by the state expiry decides
        stored = {"expired": "approved"}
        query = query.where(AccessRequest.status.in_({stored.get(x, x) for x in states}))
    out = []
    for r, name, accession, title, access, until in s.execute(query):
        line = RequestLine(r.id, name, accession, title, r.reason,
                           state_of(r.status, r.expires_at, now), r.created_at, r.decided_at,
                           r.decided_by, r.note, r.expires_at,
                           effective_access(access, until, now.date()))
        if not states or line.state in states:
            out.append(line)
    return out


def request_line(s: Session, request_id: int, now: dt.datetime | None = None) -> RequestLine:
    found = list_requests(s, request_id=request_id, now=now)
    if not found:
        raise NotFound(f"no access request #{request_id}; `archive requests list` lists them")
    return found[0]


def user_named(s: Session, name: str) -> User:
    user = s.scalars(select(User).where(User.name == name)).first()
    if user is None:
        raise NotFound(f"no user {name!r}; `archive users list` lists them")
    return user


def item_for_request(s: Session, accession: str) -> Item | None:
    """The item a request form is for, if it can be requested now (restricted, not
    withdrawn): the form shows nothing of any other."""
    item = item_by_accession(s, accession)
    if item is None or item.withdrawn_at is not None or \
            effective_access(item.access, item.access_until) != "restricted":
        return None
    return item
