"""Withdrawing items from every public surface, and reinstating them. A withdrawn item stays in
the catalog with its files and events; archive/access.py is what keeps it off search, the site,
exhibits and exports. Each step is an event and a change-log row (the index drops the item)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.accession import item_by_accession
from archive.changes import record_changes
from archive.errors import NotFound, UsageError
from archive.events import REINSTATEMENT, WITHDRAWAL, event_row, record_events
from archive.models import Item, Scientist, utcnow


@dataclass(frozen=True)
class Outcome:
    done: list[str]  # accession numbers changed
    unchanged: list[str]  # already in the state asked for


def items_for(s: Session, accessions: Sequence[str]) -> list[Item]:
    """The items, in the order given (each once); NotFound naming every unknown number, so a
    typo in a long list changes nothing."""
    items: dict[int, Item] = {}
    missing = []
    for accession in accessions:
        item = item_by_accession(s, accession)
        if item is None:
            missing.append(accession.strip())
        else:
            items.setdefault(item.id, item)
    if missing:
        raise NotFound(f"no item with accession number {', '.join(missing)}; nothing was "
                       "changed")
    if not items:
        raise UsageError("give at least one accession number")
    return list(items.values())


def withdraw(s: Session, accessions: Sequence[str], reason: str,
             agent: str | None = None) -> Outcome:
    reason = reason.strip()
    if not reason:
        raise UsageError("say why with --reason TEXT: the reason stays in the item's provenance")
    items = items_for(s, accessions)
    now = utcnow()
    done = [i for i in items if i.withdrawn_at is None]
    for item in done:
        item.withdrawn_at, item.withdrawn_reason = now, reason
    record_events(s, [event_row(WITHDRAWAL, item_id=i.id, agent=agent, field="withdrawn",
                                old=None, new=now.isoformat(timespec="seconds"), detail=reason)
                      for i in done])
    s.flush()
    record_changes(s, {i.id for i in done})
    return Outcome([i.accession for i in done],
                   [i.accession for i in items if i not in done])


def reinstate(s: Session, accessions: Sequence[str], agent: str | None = None) -> Outcome:
    items = items_for(s, accessions)
    done = [i for i in items if i.withdrawn_at is not None]
    record_events(s, [event_row(REINSTATEMENT, item_id=i.id, agent=agent, field="withdrawn",
                                old=i.withdrawn_at.isoformat(timespec="seconds")
                                if i.withdrawn_at else None, new=None,
                                detail=f"withdrawn for: {i.withdrawn_reason}") for i in done])
    for item in done:
        item.withdrawn_at, item.withdrawn_reason = None, None
    s.flush()
    record_changes(s, {i.id for i in done})
    return Outcome([i.accession for i in done],
                   [i.accession for i in items if i not in done])


@dataclass(frozen=True)
class ItemLine:
    accession: str
    title: str
    type: str
    scientist: str | None
    date: str | None
    access: str
    withdrawn_at: dt.datetime | None
    withdrawn_reason: str | None
    access_until: dt.date | None = None  # sealed until

    def to_json(self) -> dict[str, object]:
        d = dict(vars(self))
        d["withdrawn_at"] = self.withdrawn_at.isoformat(timespec="seconds") \
            if self.withdrawn_at else None
        d["access_until"] = self.access_until.isoformat() if self.access_until else None
        return d


def list_items(s: Session, withdrawn_only: bool = False) -> Iterator[ItemLine]:
    """Every item in accession order (or only the withdrawn ones), streamed."""
    query = (select(Item.accession, Item.title, Item.type, Scientist.name, Item.date,
                    Item.access, Item.withdrawn_at, Item.withdrawn_reason, Item.access_until)
             .outerjoin(Scientist, Item.scientist_id == Scientist.id)
             .order_by(Item.accession).execution_options(yield_per=500))
    if withdrawn_only:
        query = query.where(Item.withdrawn_at.is_not(None))
    for row in s.execute(query):
        yield ItemLine(*row)
