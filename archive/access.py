"""Who may see an item: the one rule every surface (search, the site, exhibits, exports,
harvesting) asks, so "public" cannot mean two things in two places, and nothing is computed for
everyone and filtered afterwards.

    is_public("open", None)                       -> True
    is_public("restricted", None)                 -> False
    is_public("open", <withdrawn time>)           -> False  (withdrawn items leave every surface)
    is_public("closed", None, date(2051, 1, 1))   -> False  until 1 January 2051, then True
    effective_access("restricted", date(2020, 1, 1), today=date(2026, 1, 1)) -> "open"

Who sees what (`can_see`):

    anonymous   open items
    researcher  open items, and restricted items they hold an unexpired grant for
    staff       open and restricted items
    admin       open, restricted and closed items

Closed means closed to everyone but administrators, staff included. Withdrawn items are on no
surface for anyone: they live on in the catalog and its command line only.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy import ColumnElement
    from sqlalchemy.orm import Session

    from archive.models import Item, User

# The rule itself (Viewer, can_see, effective_access) is plain Python: a command-line search
# asks it without importing SQLAlchemy and the models (a third of a second of its start).
# The SQL conditions below import them when called, by then loaded by whoever holds a session.

PUBLIC_ACCESS = "open"
ACCESS_LEVELS = ("open", "restricted", "closed")
ROLES = ("researcher", "staff", "admin")
HIDDEN = frozenset(ACCESS_LEVELS) - {PUBLIC_ACCESS}  # the levels the public does not see

# What each role sees by the item's access level alone (grants come on top, per item).
_LEVELS_BY_ROLE: dict[str, frozenset[str]] = {
    "anonymous": frozenset({"open"}),
    "researcher": frozenset({"open"}),
    "staff": frozenset({"open", "restricted"}),
    "admin": frozenset({"open", "restricted", "closed"}),
}


def today() -> dt.date:
    return dt.datetime.now(dt.UTC).date()


def effective_access(access: str | None, access_until: dt.date | None = None,
                     on: dt.date | None = None) -> str:
    """The access that holds on a day: a sealed item opens by itself on its `access_until`."""
    level = access or PUBLIC_ACCESS
    if access_until is not None and level != PUBLIC_ACCESS and (on or today()) >= access_until:
        return PUBLIC_ACCESS
    return level


def is_public(access: str | None, withdrawn_at: dt.datetime | None = None,
              access_until: dt.date | None = None, on: dt.date | None = None) -> bool:
    return withdrawn_at is None and effective_access(access, access_until, on) == PUBLIC_ACCESS


def item_is_public(item: Item) -> bool:
    return is_public(item.access, item.withdrawn_at, item.access_until)


def public_items(on: dt.date | None = None) -> ColumnElement[bool]:
    """The same rule as a SQL condition on Item, for queries that must never load the rest."""
    from sqlalchemy import and_

    from archive.models import Item
    return and_(Item.withdrawn_at.is_(None), _level_in(frozenset({PUBLIC_ACCESS}), on))


def not_withdrawn() -> ColumnElement[bool]:
    """Items still on record for the surfaces that show restricted material to those who run
    the command line on the catalog itself (`--include-restricted`)."""
    from archive.models import Item
    return Item.withdrawn_at.is_(None)


@dataclass(frozen=True)
class Viewer:
    """Who is looking: nobody signed in (the default), or a signed-in user with a role and the
    ids of the items they hold an unexpired grant for."""
    name: str | None = None
    role: str = "anonymous"
    granted: frozenset[int] = field(default_factory=frozenset)

    @property
    def levels(self) -> frozenset[str]:
        return _LEVELS_BY_ROLE.get(self.role, _LEVELS_BY_ROLE["anonymous"])

    @property
    def signed_in(self) -> bool:
        return self.name is not None and self.role != "anonymous"


ANONYMOUS = Viewer()


def viewer_for(session: Session, user: User | None, now: dt.datetime | None = None) -> Viewer:
    """Who this user is to the access rule: their role, and the items of their approved
    requests whose `expires_at` is still ahead (an approved request without one grants
    nothing: every grant ends). Nobody, a disabled account or an unknown role is ANONYMOUS."""
    from sqlalchemy import select

    from archive.models import AccessRequest, utcnow
    if user is None or user.disabled_at is not None or user.role not in ROLES:
        return ANONYMOUS
    granted = session.scalars(select(AccessRequest.item_id).where(
        AccessRequest.user_id == user.id, AccessRequest.status == "approved",
        AccessRequest.expires_at.is_not(None), AccessRequest.expires_at > (now or utcnow())))
    return Viewer(user.name, user.role, frozenset(granted))


def can_see(viewer: Viewer, item: Item, on: dt.date | None = None) -> bool:
    """The one rule: may this viewer see this item (its page, files, derivatives, snippets)?"""
    if item.withdrawn_at is not None:
        return False
    level = effective_access(item.access, item.access_until, on)
    if level in viewer.levels:
        return True
    # A grant is for one restricted item; closed stays closed to all but administrators.
    return level == "restricted" and item.id in viewer.granted


def visible_items(viewer: Viewer, on: dt.date | None = None) -> ColumnElement[bool]:
    """`can_see` as a SQL condition on Item."""
    from sqlalchemy import and_, or_

    from archive.models import Item
    by_level = _level_in(viewer.levels, on)
    if viewer.granted:
        granted = and_(Item.id.in_(sorted(viewer.granted)),
                       _level_in(frozenset({"restricted"}), on))
        by_level = or_(by_level, granted)
    return and_(Item.withdrawn_at.is_(None), by_level)


def _level_in(levels: frozenset[str], on: dt.date | None) -> ColumnElement[bool]:
    """Items whose effective access (sealing applied) is one of these levels."""
    from sqlalchemy import and_, false, or_

    from archive.models import Item
    day = on or today()
    sealed_open = and_(Item.access_until.is_not(None), Item.access_until <= day)
    still_sealed = or_(Item.access_until.is_(None), Item.access_until > day)
    parts: list[ColumnElement[bool]] = []
    if PUBLIC_ACCESS in levels:
        parts.append(or_(Item.access == PUBLIC_ACCESS, sealed_open))
    others = sorted(levels - {PUBLIC_ACCESS})
    if others:
        parts.append(and_(Item.access.in_(others), still_sealed))
    return or_(*parts) if parts else false()


def sealing_note(access: str | None, access_until: dt.date | None,
                 on: dt.date | None = None) -> str | None:
    """What an item's page and `archive show` say about its sealing date.

        sealing_note("closed", date(2051, 1, 1), on=date(2026, 1, 1)) -> "sealed until 2051-01-01"
        sealing_note("closed", date(2020, 1, 1), on=date(2026, 1, 1)) -> "open since 2020-01-01
                                                                          (sealing date)"
        sealing_note("open", date(2051, 1, 1))                          -> None  (nothing sealed)
        sealing_note("closed", None)                                    -> None
    """
    if access_until is None or (access or PUBLIC_ACCESS) == PUBLIC_ACCESS:
        return None
    if (on or today()) < access_until:
        return f"sealed until {access_until.isoformat()}"
    return f"open since {access_until.isoformat()} (sealing date)"
