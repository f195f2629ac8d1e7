"""Reading the plain records of archive/standards/records.py out of the catalog, streamed in
chunks so an export of any size holds one chunk at a time. Who may be exported is decided by
archive/access.py, never here: public items, or with include_restricted every item that is
not withdrawn."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, case, func, select
from sqlalchemy.orm import Session

from archive.access import not_withdrawn, public_items
from archive.fields import MATERIAL_TYPES
from archive.models import Event, File, Item, Root, Scientist
from archive.scientists import find_scientist
from archive.standards.records import (
    EventRecord,
    FileRecord,
    Fonds,
    ItemRecord,
    ScientistRecord,
    SeriesSummary,
)

ItemQuery = Select[*tuple[Any, ...]]  # the item columns _item_query selects
CHUNK = 500  # items loaded (with their files and events) at a time

_TYPE_ORDER = case({t: n for n, t in enumerate(MATERIAL_TYPES)}, value=Item.type,
                   else_=len(MATERIAL_TYPES))


def visible(include_restricted: bool) -> ColumnElement[bool]:
    """The one public rule, or (for staff exports) everything still on record."""
    return not_withdrawn() if include_restricted else public_items()


def scientist_record(s: Session, name: str) -> tuple[int, ScientistRecord]:
    """The scientist a name (any variant) means, as a record; UnknownScientist otherwise."""
    sc = find_scientist(s, name)
    return sc.id, ScientistRecord(
        name=sc.name, code=sc.code, variants=tuple(v for v in (sc.variants or []) if v),
        born=sc.born, died=sc.died, field=sc.field,
        biography=sc.biography)


def fonds(s: Session, scientist_id: int, scientist: ScientistRecord,
          include_restricted: bool) -> Fonds:
    """Counts and year spans per material type, computed by the database."""
    rows = s.execute(
        select(Item.type, func.count(Item.id), func.min(Item.date_start), func.max(Item.date_end))
        .where(Item.scientist_id == scientist_id, visible(include_restricted))
        .group_by(Item.type)).all()
    order = {t: n for n, t in enumerate(MATERIAL_TYPES)}
    series = [SeriesSummary(t, int(n), first.year if first else None,
                            last.year if last else None)
              for t, n, first, last in sorted(rows, key=lambda r: order.get(r[0], 99))]
    return Fonds(scientist, tuple(series))


def _item_query(condition: ColumnElement[bool]) -> ItemQuery:
    query: ItemQuery = (select(Item.id, Item.accession, Item.title, Item.type,
                   Scientist.name.label("scientist"), Scientist.code.label("scientist_code"),
                   Item.date, Item.date_start,
                   Item.date_end, Item.date_precision, Item.description,
                   Item.extra, Item.access, Item.rights, Item.location, Item.pages,
                   Item.seconds, Item.updated_at)
            .outerjoin(Scientist, Item.scientist_id == Scientist.id)
            .where(condition))
    return query


def scientist_items(s: Session, scientist_id: int, include_restricted: bool,
                    with_events: bool = False) -> Iterator[ItemRecord]:
    """A fonds' items in finding-aid order: by series (material type), then date, undated
    last, then accession number."""
    query = (_item_query(Item.scientist_id == scientist_id)
             .where(visible(include_restricted))
             .order_by(_TYPE_ORDER, Item.date_start.is_(None), Item.date_start, Item.accession))
    return _records(s, query, with_events)


def all_items(s: Session, include_restricted: bool,
              with_events: bool = False) -> Iterator[ItemRecord]:
    """Every exportable item, in accession order."""
    query = _item_query(visible(include_restricted)).order_by(Item.accession)
    return _records(s, query, with_events)


def items_by_accession(s: Session, accessions: Iterable[str], include_restricted: bool,
                       with_events: bool = False) -> Iterator[ItemRecord]:
    """The named items in the order given (unknown or not visible ones are skipped: callers
    that must refuse them check first with `not_exportable`)."""
    batch: list[str] = []
    for accession in accessions:
        batch.append(accession)
        if len(batch) >= CHUNK:
            yield from _ordered(s, batch, include_restricted, with_events)
            batch = []
    if batch:
        yield from _ordered(s, batch, include_restricted, with_events)


def _ordered(s: Session, accessions: list[str], include_restricted: bool,
             with_events: bool) -> Iterator[ItemRecord]:
    query = _item_query(visible(include_restricted)).where(Item.accession.in_(accessions))
    found = {r.accession: r for r in _records(s, query, with_events)}
    for accession in accessions:
        if accession in found:
            yield found.pop(accession)


def not_exportable(s: Session, accessions: Sequence[str],
                   include_restricted: bool) -> tuple[list[str], list[str]]:
    """(unknown accession numbers, 'ACC (restricted)' for items the export may not hold)."""
    rows = {}
    for start in range(0, len(accessions), CHUNK):
        chunk = list(accessions[start:start + CHUNK])
        rows.update({a: (access, withdrawn) for a, access, withdrawn in s.execute(
            select(Item.accession, Item.access, Item.withdrawn_at)
            .where(Item.accession.in_(chunk)))})
    unknown = [a for a in accessions if a not in rows]
    refused = []
    for a in accessions:
        if a not in rows:
            continue
        access, withdrawn = rows[a]
        if withdrawn is not None:
            refused.append(f"{a} (withdrawn)")
        elif access != "open" and not include_restricted:
            refused.append(f"{a} ({access})")
    return unknown, refused


def _records(s: Session, query: ItemQuery, with_events: bool) -> Iterator[ItemRecord]:
    rows = s.execute(query.execution_options(yield_per=CHUNK))
    for chunk in rows.partitions():
        ids = [r.id for r in chunk]
        files = _files(s, ids)
        events = _events(s, ids) if with_events else {}
        for r in chunk:
            # The language is a manifest column kept among the item's extra fields.
            language = (r.extra or {}).get("language") or None
            yield ItemRecord(
                accession=r.accession, title=r.title, type=r.type, scientist=r.scientist,
                date=r.date, date_start=r.date_start, date_end=r.date_end,
                date_precision=r.date_precision, description=r.description,
                language=str(language) if language else None, access=r.access,
                rights=r.rights, location=r.location, pages=r.pages, seconds=r.seconds,
                updated_at=r.updated_at, scientist_code=r.scientist_code,
                files=tuple(files.get(r.id, ())),
                events=tuple(events.get(r.id, ())))


def _files(s: Session, ids: list[int]) -> dict[int, list[FileRecord]]:
    out: dict[int, list[FileRecord]] = {}
    for f in s.execute(select(File.item_id, File.path, File.role, File.size, File.sha256,
                              File.mime, File.format, File.width, File.height,
                              Root.path.label("root"), File.path_raw)
                       .join(Root, File.root_id == Root.id)
                       .where(File.item_id.in_(ids)).order_by(File.item_id, File.path)):
        out.setdefault(f.item_id, []).append(FileRecord(
            f.path, f.role, f.size, f.sha256, f.mime, f.format, f.width, f.height, f.root,
            f.path_raw))
    return out


def _events(s: Session, ids: list[int]) -> dict[int, list[EventRecord]]:
    out: dict[int, list[EventRecord]] = {}
    for e in s.execute(select(Event.id, Event.item_id, Event.kind, Event.at, Event.agent,
                              Event.tool, Event.outcome, File.path, Event.field,
                              Event.old_value, Event.new_value, Event.detail)
                       .outerjoin(File, Event.file_id == File.id)
                       .where(Event.item_id.in_(ids)).order_by(Event.id)):
        out.setdefault(e.item_id, []).append(EventRecord(
            e.id, e.kind, e.at, e.agent, e.tool, e.outcome, e.path, e.field, e.old_value,
            e.new_value, e.detail))
    return out
