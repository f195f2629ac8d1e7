"""Editing catalogued items after ingest: each value read as a manifest cell is
(archive/cells.py), one `metadata modification` event per changed field with its old and new
values, and a change-log row so the search index follows.

    read_values({"title": " 新标题 ", "date": "1950年3月"}, known)
        -> {"title": "新标题", "date": ItemDate("1950-03", ...)}
    read_values({"type": "poem"}, known)       -> ValueError "unknown type 'poem' (...)"
    read_values({"title": ""}, known)          -> ValueError "the title cannot be empty"
    shown("date", ItemDate("1950-03", ...))    -> "1950-03"
    shown("access_until", date(2051, 1, 1))    -> "2051-01-01"
"""
from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from archive.accession import item_by_accession
from archive.cells import EDITABLE_FIELDS, read_cell
from archive.changes import record_changes
from archive.dates import ItemDate
from archive.errors import NotFound, UsageError
from archive.events import METADATA_MODIFICATION, event_row, record_events
from archive.models import Item, Scientist
from archive.scientists import ScientistMatcher

# Fields an item cannot be without: an empty cell is an error, not a deletion.
REQUIRED_FIELDS = ("title", "type", "access")
EDIT_TYPE_SOURCE = "edit"  # Item.type_source of a type set by a person


@dataclass(frozen=True)
class FieldChange:
    """One field of one item going from `old` to `new` (display forms; None when empty)."""
    accession: str
    field: str
    old: str | None
    new: str | None

    def line(self) -> str:
        return f"{self.accession}: {self.field}: {self.old or '∅'} → {self.new or '∅'}"


def read_values(cells: Mapping[str, str], known_scientist: Callable[[str], bool]
                ) -> dict[str, Any]:
    """Typed cells -> values; the first bad cell raises ValueError with what to type."""
    out: dict[str, Any] = {}
    for field, text in cells.items():
        value = read_cell(field, text, known_scientist)
        if value is None and field in REQUIRED_FIELDS:
            raise ValueError(f"the {field} cannot be empty")
        out[field] = value
    return out


def shown(field: str, value: Any) -> str | None:
    """A field's value as people read it and as events record it."""
    if value is None or value == "":
        return None
    if isinstance(value, ItemDate):
        return value.text
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def current_values(s: Session, item: Item) -> dict[str, str | None]:
    """The item's editable fields in display form (the scientist by preferred name)."""
    scientist = s.get(Scientist, item.scientist_id) if item.scientist_id else None
    return {f: (scientist.name if scientist else None) if f == "scientist"
            else shown(f, getattr(item, f)) for f in EDITABLE_FIELDS}


class Editor:
    """Plans and applies edits in one session; reads the scientists' names once."""

    def __init__(self, s: Session, agent: str | None = None, detail: str = "archive edit"):
        self.s = s
        self.agent = agent
        self.detail = detail
        self.matcher = ScientistMatcher(s)

    def known(self, name: str) -> bool:
        return self.matcher.match(name) is not None

    def item(self, accession: str) -> Item:
        item = item_by_accession(self.s, accession)
        if item is None:
            raise NotFound(f"no item with accession number {accession.strip()!r}; "
                           "`archive items list` lists them")
        return item

    def plan(self, item: Item, values: Mapping[str, Any]) -> list[FieldChange]:
        """The fields whose value would change (a scientist named by a variant of the one
        already there is no change)."""
        before = current_values(self.s, item)
        changes = []
        for field in EDITABLE_FIELDS:
            if field not in values:
                continue
            value = values[field]
            if field == "scientist":
                sid = self.matcher.match(value) if value else None
                if sid == item.scientist_id:
                    continue
                scientist = self.s.get(Scientist, sid) if sid else None
                new = scientist.name if scientist else None
            else:
                new = shown(field, value)
            if new != before[field]:
                changes.append(FieldChange(item.accession, field, before[field], new))
        return changes

    def apply(self, item: Item, values: Mapping[str, Any]) -> list[FieldChange]:
        """Write the changed fields, one event each, and note the change for the index."""
        changes = self.plan(item, values)
        for change in changes:
            _set(item, change.field, values[change.field], self.matcher)
        if changes:
            record_events(self.s, [event_row(METADATA_MODIFICATION, item_id=item.id,
                                             agent=self.agent, field=c.field, old=c.old,
                                             new=c.new, detail=self.detail) for c in changes])
            self.s.flush()
            record_changes(self.s, {item.id})
        return changes


def _set(item: Item, field: str, value: Any, matcher: ScientistMatcher) -> None:
    if field == "date":
        date: ItemDate | None = value
        item.date = date.text if date else None
        item.date_start = date.start if date else None
        item.date_end = date.end if date else None
        item.date_precision = date.precision if date else None
    elif field == "scientist":
        item.scientist_id = matcher.match(value) if value else None
    elif field == "type":
        item.type, item.type_source = value, EDIT_TYPE_SOURCE
    else:
        setattr(item, field, value)


def edit_item(s: Session, accession: str, cells: Mapping[str, str],
              agent: str | None = None) -> list[FieldChange]:
    """`archive edit`: change the given fields of one item; returns what changed."""
    if not cells:
        raise UsageError("nothing to change: give at least one of "
                         + ", ".join(f"--{f.replace('_', '-')}" for f in EDITABLE_FIELDS))
    editor = Editor(s, agent)
    item = editor.item(accession)
    try:
        values = read_values(cells, editor.known)
    except ValueError as exc:
        raise UsageError(f"{item.accession}: {exc}; nothing was changed") from None
    return editor.apply(item, values)
