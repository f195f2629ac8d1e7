"""Who wins when a manifest and a person both changed an item's field: the later change.

Every ingest with `--manifest` re-applies every row. A row whose value for a field is the same
as the last time it was applied has not changed, so it never undoes an edit (`archive edit`,
`archive items import`, a scientists merge) made since. A row that did change wins unless the
field was edited after the manifest file was last saved (its mtime stands for when its rows
changed); either way both are events. The ingest writer asks `manifest_overrides` for every
row it applies; nothing else here touches ingest.

    (t1 earlier than t2)
    manifest_wins("B", last_seen="A", edited_at=None, row_changed_at=t1)  -> True   new value
    manifest_wins("A", last_seen="A", edited_at=t2, row_changed_at=t1)    -> False  row unchanged
    manifest_wins("B", last_seen="A", edited_at=t2, row_changed_at=t1)    -> False  edit later
    manifest_wins("B", last_seen="A", edited_at=t1, row_changed_at=t2)    -> True   row later
    manifest_wins("B", last_seen=NEVER, edited_at=None, row_changed_at=t1) -> True  first time
"""
from __future__ import annotations

import datetime as dt
import os
from collections.abc import Mapping
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.events import MERGE, METADATA_MODIFICATION, event_row, record_events
from archive.fields import EDITABLE_FIELDS
from archive.models import Event, Item, ManifestValue, utcnow

NEVER = object()  # no value of this row was ever recorded for the field
# Each editable field and the item columns a manifest sets for it (the first one is compared
# and recorded; the others travel with it).
_SEVERAL_COLUMNS: dict[str, tuple[str, ...]] = {
    "type": ("type", "type_source"), "date": ("date", "date_start", "date_end", "date_precision"),
    "scientist": ("scientist_id",)}
FIELD_COLUMNS: dict[str, tuple[str, ...]] = {
    f: _SEVERAL_COLUMNS.get(f, (f,)) for f in EDITABLE_FIELDS}
SUPERSEDED = "not applied"  # the outcome of a manifest change a later edit outranks


def manifest_wins(row_value: str | None, last_seen: object, edited_at: dt.datetime | None,
                  row_changed_at: dt.datetime | None) -> bool:
    """May a manifest row's value overwrite the item's (that differs)? See the module table."""
    if last_seen is not NEVER and row_value == last_seen:
        return False
    if edited_at is None or row_changed_at is None:
        return True
    return row_changed_at > edited_at


def file_changed_at(path: str | None) -> dt.datetime | None:
    """A manifest file's modification time, UTC, as the catalog stores times."""
    if not path:
        return None
    try:
        stamp = os.stat(path).st_mtime
    except OSError:
        return None
    return dt.datetime.fromtimestamp(stamp, dt.UTC).replace(tzinfo=None)


def _text(value: Any) -> str | None:
    return None if value is None else str(value)


def _edited_at(s: Session, item_id: int) -> dict[str, dt.datetime]:
    """field -> time of the latest change a person made to it (events outside ingest runs)."""
    rows = s.execute(select(Event.field, func.max(Event.at))
                     .where(Event.item_id == item_id, Event.run_id.is_(None),
                            Event.kind.in_((METADATA_MODIFICATION, MERGE)),
                            Event.field.is_not(None))
                     .group_by(Event.field))
    return {f: at for f, at in rows if f is not None}


def manifest_overrides(s: Session, item: Item, wanted: Mapping[str, Any],
                       row_changed_at: dt.datetime | None, run_id: int | None = None,
                       row_number: int | None = None) -> dict[str, Any]:
    """Of the item columns a manifest row sets (`wanted`: all of them, equal or not), those it
    may write now: the ones that differ and are not outranked by a later edit. Records what
    the row said for next time, and an event for each change a later edit outranks."""
    stored = {v.field: v for v in s.scalars(select(ManifestValue)
                                            .where(ManifestValue.item_id == item.id))}
    edited: dict[str, dt.datetime] | None = None
    allowed: dict[str, Any] = {}
    events = []
    handled: set[str] = set()
    for field, columns in FIELD_COLUMNS.items():
        present = [c for c in columns if c in wanted]
        handled.update(columns)
        if columns[0] not in wanted:
            continue
        row_value = _text(wanted[columns[0]])
        record = stored.get(field)
        last_seen: object = record.value if record is not None else NEVER
        if record is None:
            s.add(ManifestValue(item_id=item.id, field=field, value=row_value))
        elif record.value != row_value:
            record.value, record.seen_at = row_value, utcnow()
        if getattr(item, columns[0]) == wanted[columns[0]]:
            continue
        if edited is None:
            edited = _edited_at(s, item.id)
        if manifest_wins(row_value, last_seen, edited.get(field), row_changed_at):
            allowed.update({c: wanted[c] for c in present})
        elif last_seen is NEVER or row_value != last_seen:
            when = edited[field]  # manifest_wins said no: an edit came later
            events.append(event_row(
                METADATA_MODIFICATION, item_id=item.id, run_id=run_id, field=field,
                old=_text(getattr(item, columns[0])), new=row_value, outcome=SUPERSEDED,
                detail=f"manifest row {row_number}: not applied, the field was edited later "
                       f"({when:%Y-%m-%d %H:%M:%S} UTC)"))
    for column, value in wanted.items():  # extra columns and the like: the row decides
        if column not in handled and getattr(item, column) != value:
            allowed[column] = value
    record_events(s, events)
    return allowed
