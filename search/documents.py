"""Index documents built from the catalog, a chunk of items at a time (memory stays flat)."""
from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.access import HIDDEN
from archive.models import Change, File, FileText, Item, Scientist
from archive.names import name_keys, name_parts
from archive.page_text import PageText, texts_of_files
from search.facets import decade_code, type_code
from search.keys import PART, day_number

CHUNK = 500
MAX_CONTENT_CHARS = 1_000_000  # text indexed per item; a longer text is indexed this far


def _scientist_keys(s: Scientist) -> str:
    """Every key of every written form of the scientist's name, and, marked with PART, of its
    surname and given name alone (`Tsien` or `Xuesen` finds the scientists it can belong to)."""
    keys = {n.key for n in s.names}
    for form in [s.name, *(s.variants or [])]:
        keys |= name_keys(form) | {PART + p for p in name_parts(form)}
    return " ".join(sorted(keys))


class _Scientists:
    """Each scientist's (matching keys, preferred name), worked out once per indexing run:
    per item, the pinyin readings and the lazy loads cost a tenth of a rebuild's time."""

    def __init__(self, session: Session):
        self._session = session
        self._known: dict[int, tuple[str, str]] = {}

    def __getitem__(self, scientist_id: int | None) -> tuple[str, str]:
        if scientist_id is None:
            return "", ""
        if scientist_id not in self._known:
            s = self._session.get(Scientist, scientist_id)
            self._known[scientist_id] = (_scientist_keys(s), s.name) if s else ("", "")
        return self._known[scientist_id]


def _document(item: Any, files: Sequence[Any], texts: dict[int, str],
              scientist: tuple[str, str], pages: list[PageText]) -> dict[str, Any]:
    """The document of `item` (a row of ITEM_COLUMNS' names, or an Item) and its `files`
    (rows of FILE_COLUMNS' names, or Files, in path order); `texts` maps a file id to its
    text."""
    parts = [item.title, item.description or "", item.location or "", item.collection or ""]
    for value in (item.extra or {}).values():
        parts.append(str(value))
    for f in files:
        tech = f.tech or {}
        for key in ("exif_description", "title", "author"):
            if tech.get(key):
                parts.append(str(tech[key]))
        for value in (tech.get("tags") or {}).values():
            parts.append(str(value))
    # jieba's words for what describes the item (titles, descriptions, tags): they rank whole
    # words first. The full texts are bigrams only: segmenting every transcript with jieba
    # doubled the index's build time and size for no hit the bigrams do not already find.
    described = "\n".join(p for p in parts if p)
    bodies = [texts[f.id] for f in files if f.id in texts]
    # Machine-read pages beside the archivist's texts, never instead of them: both are found.
    bodies += [p.text for p in pages]
    content = "\n".join([described, *bodies])[:MAX_CONTENT_CHARS]
    # Every title and jieba-word term is a content term: the title is content's first line
    # and the words are cut from its first lines, each cut where content is. So an engine may
    # ask for the three fields in one union and match what content alone matches (#14).
    described = described[:MAX_CONTENT_CHARS]
    main = next((f for f in files if f.role == "master"), files[0] if files else None)
    start: dt.date | None = item.date_start
    end: dt.date | None = item.date_end
    doc: dict[str, Any] = {
        "accession": item.accession, "item_id": item.id,
        "title": item.title[:MAX_CONTENT_CHARS],
        "title_stored": item.title, "scientist": scientist[0],
        "scientist_name": scientist[1],
        "type": item.type, "date": item.date or "", "access": item.access,
        "hidden": "yes" if item.access in HIDDEN else "",
        "collection": item.collection or "", "content": content, "words": described,
        "format": " ".join(sorted({f.format for f in files if f.format})),
        "path": main.path if main else "",
        "type_code": type_code(item.type), "scientist_code": item.scientist_id or 0,
        "decade_code": decade_code(start.year) if start is not None else 0,
    }
    if start is not None:
        last = (end or start).year
        doc["years"] = " ".join(str(y) for y in range(start.year, min(last, start.year + 300) + 1))
        doc.update(year_start=start.year, year_end=last,
                   date_sort=start.year * 10000 + start.month * 100 + start.day)
    if item.seconds:
        doc["duration"] = round(item.seconds)
    if item.access_until is not None:
        doc["access_until"] = day_number(item.access_until)
    return doc


# What a document is made of, read as plain rows (Core, not ORM objects: building an Item and
# its Files cost more than analysing the item's title, docs/PERFORMANCE.md).
ITEM_COLUMNS = ("id", "accession", "title", "type", "scientist_id", "date", "date_start",
                "date_end", "description", "access", "access_until", "location", "collection",
                "extra", "seconds")
FILE_COLUMNS = ("id", "item_id", "path", "role", "mime", "pages", "format", "tech")


def item_documents(s: Session, item_ids: list[int] | None = None,
                   updated_since: dt.datetime | None = None) -> Iterator[dict[str, Any]]:
    """Documents for all items, for some ids, or for those changed since a time, CHUNK items
    at a time in id order (memory stays flat). Withdrawn items are not documents: they leave
    the index entirely (see removed_items)."""
    items_t, files_t, texts_t = (Item.__table__, File.__table__, FileText.__table__)
    item_cols = [items_t.c[name] for name in ITEM_COLUMNS]
    file_cols = [files_t.c[name] for name in FILE_COLUMNS]
    last_id = 0
    scientists = _Scientists(s)
    while True:
        query = select(*item_cols).where(items_t.c.id > last_id,
                                         items_t.c.withdrawn_at.is_(None)) \
            .order_by(items_t.c.id).limit(CHUNK)
        if item_ids is not None:
            query = query.where(items_t.c.id.in_(item_ids))
        if updated_since is not None:
            query = query.where(items_t.c.updated_at >= updated_since)
        items = s.execute(query).all()
        if not items:
            return
        ids = [i.id for i in items]
        files: dict[int, list[Any]] = {}
        for f in s.execute(select(*file_cols).where(files_t.c.item_id.in_(ids))
                           .order_by(files_t.c.path)):
            files.setdefault(f.item_id, []).append(f)
        file_ids = [f.id for fs in files.values() for f in fs]
        texts: dict[int, str] = dict(s.execute(
            select(texts_t.c.file_id, texts_t.c.text).where(texts_t.c.file_id.in_(file_ids)))
            .all())
        pages = texts_of_files(s, files)
        for item in items:
            yield _document(item, files.get(item.id, []), texts, scientists[item.scientist_id],
                            pages.get(item.id, []))
        last_id = ids[-1]
        s.expunge_all()  # the scientists read: nothing else of the catalog stays in the session


def removed_items(s: Session, since: dt.datetime | None) -> set[int]:
    """Ids of items the index must drop: withdrawn, or gone from the catalog (forgotten), since
    `since` (ever, when None)."""
    withdrawn = select(Item.id).where(Item.withdrawn_at.is_not(None))
    deleted = select(Change.item_id).where(Change.kind == "delete")
    if since is not None:
        withdrawn = withdrawn.where(Item.updated_at >= since)
        deleted = deleted.where(Change.at >= since)
    return set(s.scalars(withdrawn)) | set(s.scalars(deleted))
