"""Forgetting files catalogued by mistake (a manifest, a stray system file): their rows and
text go, an item left with no file goes too, and a `deletion` event with the reason, the path
and the checksum stays in the catalog's log. Originals on disk are never touched; accession
numbers are never reused (the counters only grow). The path is remembered (ForgottenFile), so a
file still on disk is not catalogued again by the next ingest (ingest/forgotten.py).

    catalogued_key("/data/coll/钱学森/a.jpg", {1: "/data/coll"}) -> (1, "钱学森/a.jpg")
    catalogued_key("/elsewhere/a.jpg", {1: "/data/coll"})       -> None
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from archive.changes import record_changes
from archive.errors import UsageError
from archive.events import DELETION, event_row, record_events
from archive.exhibits import remove_objects
from archive.models import (
    AccessRequest, Event, ExhibitItem, File, FileText, ForgottenFile, Item, Root,
)
from archive.paths import catalog_path


@dataclass(frozen=True)
class Forgotten:
    path: str  # as on disk
    accession: str
    item_id: int
    item_gone: bool


def catalogued_key(real: str, roots: dict[int, str]) -> tuple[int, str] | None:
    """(root id, catalog path) of an absolute, resolved path under one of the roots."""
    for root_id, root in roots.items():
        prefix = root.rstrip(os.sep) + os.sep
        if real.startswith(prefix):
            return root_id, catalog_path(real[len(prefix):].replace(os.sep, "/"))[0]
    return None


def _files(s: Session, paths: Sequence[str]) -> list[tuple[str, File]]:
    """The catalogued file of each path; UsageError naming every path that is none, so one
    typo changes nothing."""
    roots = {r.id: os.path.realpath(r.path) for r in s.scalars(select(Root))}
    found: dict[int, tuple[str, File]] = {}
    unknown = []
    for p in paths:
        # The file itself may be gone from disk: resolve its folder, keep its own name.
        folder, name = os.path.split(os.path.abspath(os.path.expanduser(p)))
        key = catalogued_key(os.path.join(os.path.realpath(folder), name), roots)
        f = s.scalars(select(File).where(File.root_id == key[0], File.path == key[1])).first() \
            if key else None
        if f is None:
            unknown.append(p)
        else:
            found.setdefault(f.id, (p, f))
    if unknown:
        raise UsageError(f"not a catalogued file: {', '.join(unknown)}; nothing was forgotten "
                         "(give the path of each file on disk; `archive show ACCESSION` "
                         "lists an item's files)")
    if not found:
        raise UsageError("give at least one file")
    return list(found.values())


def forget(s: Session, paths: Sequence[str], reason: str,
           agent: str | None = None) -> list[Forgotten]:
    reason = reason.strip()
    if not reason:
        raise UsageError("say why with --reason TEXT: the reason stays in the catalog's log")
    files = _files(s, paths)
    roots = dict(s.execute(select(Root.id, Root.path)).all())
    out: list[Forgotten] = []
    touched: set[int] = set()
    gone: set[int] = set()
    for given, f in files:
        item = s.get(Item, f.item_id)
        assert item is not None, "a file belongs to an item"
        where = f"{roots[f.root_id].rstrip('/')}/{f.path}"
        # Copies that named this file as their original: the oldest becomes the original.
        copies = list(s.scalars(select(File.id).where(File.duplicate_of_id == f.id)
                                .order_by(File.id)))
        if copies:
            s.execute(update(File).where(File.id == copies[0]).values(duplicate_of_id=None))
            s.execute(update(File).where(File.id.in_(copies[1:]))
                      .values(duplicate_of_id=copies[0]))
        s.execute(delete(FileText).where(FileText.file_id == f.id))
        s.execute(update(Event).where(Event.file_id == f.id).values(file_id=None))
        s.execute(delete(File).where(File.id == f.id))
        s.execute(delete(ForgottenFile).where(ForgottenFile.root_id == f.root_id,
                                              ForgottenFile.path == f.path))
        s.add(ForgottenFile(root_id=f.root_id, path=f.path, path_raw=f.path_raw,
                            sha256=f.sha256, reason=reason))
        left = s.scalar(select(File.id).where(File.item_id == item.id).limit(1))
        item_gone = left is None
        detail = (f"forgotten: {reason}; file {where}; sha256 {f.sha256 or 'none'}; "
                  f"item {item.accession}" + (" (no file left: the item is gone)"
                                              if item_gone else ""))
        record_events(s, [event_row(DELETION, item_id=None if item_gone else item.id,
                                    agent=agent, field="file", old=where, new=None,
                                    detail=detail)])
        if item_gone:
            _drop_item(s, item)
            gone.add(item.id)
        else:
            touched.add(item.id)
        out.append(Forgotten(given, item.accession, item.id, item_gone))
    record_changes(s, touched - gone)
    record_changes(s, gone, "delete")
    return out


def _drop_item(s: Session, item: Item) -> None:
    """An item with no file left: out of exhibits, its access requests and grants ended (they
    were for this item only; their events say who asked and who decided), its past events kept
    (with the item id cleared, as the row they pointed to goes), then the row itself."""
    for entry in s.scalars(select(ExhibitItem).where(ExhibitItem.item_id == item.id)).all():
        remove_objects(s, entry.exhibit.slug, [item.accession])
    s.flush()
    s.execute(delete(AccessRequest).where(AccessRequest.item_id == item.id))
    s.execute(update(Event).where(Event.item_id == item.id).values(item_id=None))
    s.expunge(item)
    s.execute(delete(Item).where(Item.id == item.id))
