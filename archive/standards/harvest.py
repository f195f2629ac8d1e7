"""What OAI-PMH harvesters may see, read from the catalog: public items as records, and as
deleted headers the items that left the public (withdrawn, or made restricted or closed after
being open) so harvesters drop their copies. Items never public never appear at all. Lists run
in (updated_at, id) order from a keyset, so a page boundary survives catalog changes: an item
changed meanwhile moves to the end of the list and is harvested again, none is skipped."""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, and_, exists, func, or_, select
from sqlalchemy.orm import Session

from archive.access import public_items
from archive.fields import MATERIAL_TYPES
from archive.models import Event, Item, Scientist


@dataclass(frozen=True)
class HarvestRow:
    id: int
    accession: str
    updated_at: dt.datetime
    type: str
    scientist_code: str | None
    deleted: bool


def _was_public() -> ColumnElement[bool]:
    """An access change away from open is on record (an edit or a manifest's event)."""
    return exists(select(Event.id).where(Event.item_id == Item.id, Event.field == "access",
                                         Event.old_value == "open"))


def harvestable() -> ColumnElement[bool]:
    return or_(public_items(), Item.withdrawn_at.is_not(None),
               and_(Item.access != "open", _was_public()))


def set_condition(spec: str | None) -> ColumnElement[bool] | None:
    """scientist:QXS or type:letter; None for no set; an impossible condition for others."""
    if not spec:
        return None
    kind, _, value = spec.partition(":")
    if kind == "type" and value in MATERIAL_TYPES:
        return Item.type == value
    if kind == "scientist" and value:
        return Scientist.code == value
    return Item.id < 0  # an unknown set matches nothing


def _rows(query) -> list[HarvestRow]:  # type: ignore[no-untyped-def]
    return [HarvestRow(r.id, r.accession, r.updated_at, r.type, r.code,
                       not (r.access == "open" and r.withdrawn_at is None)) for r in query]


def _select():  # type: ignore[no-untyped-def]
    return (select(Item.id, Item.accession, Item.updated_at, Item.type, Scientist.code,
                   Item.access, Item.withdrawn_at)
            .outerjoin(Scientist, Item.scientist_id == Scientist.id)
            .where(harvestable()))


def page(s: Session, *, start: dt.datetime | None, end: dt.datetime | None,
         set_spec: str | None, after: tuple[dt.datetime, int] | None,
         limit: int) -> list[HarvestRow]:
    """Up to `limit` rows changed in [start, end) after the keyset `after`."""
    query = _select()
    if start is not None:
        query = query.where(Item.updated_at >= start)
    if end is not None:
        query = query.where(Item.updated_at < end)
    condition = set_condition(set_spec)
    if condition is not None:
        query = query.where(condition)
    if after is not None:
        at, last = after
        query = query.where(or_(Item.updated_at > at,
                                and_(Item.updated_at == at, Item.id > last)))
    return _rows(s.execute(query.order_by(Item.updated_at, Item.id).limit(limit)))


def find(s: Session, accession: str) -> HarvestRow | None:
    rows = _rows(s.execute(_select().where(Item.accession == accession)))
    return rows[0] if rows else None


def earliest(s: Session) -> dt.datetime | None:
    return s.scalar(select(func.min(Item.updated_at)).where(harvestable()))


def sets(s: Session) -> list[tuple[str, str]]:
    """(setSpec, setName) of every scientist with public items, then every material type."""
    out = [(f"scientist:{code}", name) for code, name in s.execute(
        select(Scientist.code, Scientist.name).where(
            exists(select(Item.id).where(Item.scientist_id == Scientist.id, public_items())))
        .order_by(Scientist.code))]
    out += [(f"type:{t}", t) for t in MATERIAL_TYPES]
    return out
