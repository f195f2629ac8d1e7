"""Exhibits: create, list, show and delete them; add, remove, move and caption their objects.
Positions stay 1..n with no gaps; the objects of a section stay together, in order."""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.errors import NotFound, UsageError
from archive.models import Exhibit, ExhibitItem, Item

_SLUG = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")


def check_slug(slug: str) -> str:
    """Slugs go in URLs and folder names: lower-case letters, digits, - and _.

    check_slug("liangdan-yixing") -> "liangdan-yixing";  check_slug("两弹一星") -> UsageError
    """
    if not _SLUG.match(slug):
        raise UsageError(f"exhibit slug {slug!r}: use lower-case letters, digits, '-' and '_' "
                         "(it goes into URLs), e.g. liangdan-yixing")
    return slug


def get_exhibit(s: Session, slug: str) -> Exhibit:
    exhibit = s.scalars(select(Exhibit).where(Exhibit.slug == slug)).first()
    if exhibit is None:
        raise NotFound(f"no exhibit {slug!r}; `archive exhibit list` shows them")
    return exhibit


def create_exhibit(s: Session, slug: str, title: str, description: str | None = None) -> Exhibit:
    check_slug(slug)
    if not title.strip():
        raise UsageError("an exhibit needs a title (--title)")
    if s.scalars(select(Exhibit.id).where(Exhibit.slug == slug)).first() is not None:
        raise UsageError(f"there is already an exhibit {slug!r}")
    exhibit = Exhibit(slug=slug, title=title.strip(), description=description)
    s.add(exhibit)
    s.flush()
    return exhibit


def delete_exhibit(s: Session, slug: str) -> None:
    s.delete(get_exhibit(s, slug))


def list_exhibits(s: Session) -> list[dict[str, object]]:
    return [{"slug": e.slug, "title": e.title, "objects": len(e.entries),
             "sections": len({x.section for x in e.entries if x.section}),
             "updated": e.updated_at.isoformat(timespec="seconds")}
            for e in s.scalars(select(Exhibit).order_by(Exhibit.slug))]


def _items(s: Session, accessions: list[str]) -> list[Item]:
    wanted = [a.strip() for a in accessions if a.strip()]
    found = {i.accession: i for i in s.scalars(select(Item).where(Item.accession.in_(wanted)))}
    missing = [a for a in wanted if a not in found]
    if missing:
        raise NotFound(f"no item with accession number {', '.join(missing)}")
    return [found[a] for a in wanted]


def _renumber(entries: list[ExhibitItem]) -> None:
    for n, entry in enumerate(entries, start=1):
        entry.position = n


@dataclass(frozen=True)
class AddResult:
    added: list[str]
    already: list[str]


def add_objects(s: Session, slug: str, accessions: list[str], caption: str | None = None,
                section: str | None = None) -> AddResult:
    """Add items at the end of their section (or of the exhibit); an item already there keeps
    its place, and is reported, not duplicated."""
    exhibit = get_exhibit(s, slug)
    entries = list(exhibit.entries)
    present = {e.item_id for e in entries}
    added, already = [], []
    section = section.strip() if section and section.strip() else None
    for item in _items(s, accessions):
        if item.id in present:
            already.append(item.accession)
            continue
        entry = ExhibitItem(item_id=item.id, section=section, caption=caption, position=0)
        entry.item = item
        last = max((i for i, e in enumerate(entries) if e.section == section), default=None)
        entries.insert(len(entries) if last is None else last + 1, entry)
        present.add(item.id)
        added.append(item.accession)
    exhibit.entries = entries
    _renumber(entries)
    return AddResult(added, already)


def _entry(exhibit: Exhibit, accession: str) -> ExhibitItem:
    for e in exhibit.entries:
        if e.item.accession == accession:
            return e
    raise NotFound(f"{accession} is not in the exhibit {exhibit.slug!r}")


def remove_objects(s: Session, slug: str, accessions: list[str]) -> None:
    exhibit = get_exhibit(s, slug)
    for accession in accessions:
        exhibit.entries.remove(_entry(exhibit, accession))
    _renumber(list(exhibit.entries))


def move_object(s: Session, slug: str, accession: str, position: int,
                section: str | None = None) -> None:
    """Put an object at 1-based `position` (and, if given, into `section`)."""
    exhibit = get_exhibit(s, slug)
    entries = list(exhibit.entries)
    if not 1 <= position <= len(entries):
        raise UsageError(f"position {position} is outside 1..{len(entries)}")
    entry = _entry(exhibit, accession)
    entries.remove(entry)
    entries.insert(position - 1, entry)
    if section is not None:
        entry.section = section.strip() or None
    exhibit.entries = entries
    _renumber(entries)


def set_caption(s: Session, slug: str, accession: str, caption: str) -> None:
    _entry(get_exhibit(s, slug), accession).caption = caption.strip() or None


def sections_in_order(entries: list[ExhibitItem]) -> list[str | None]:
    """Sections in the order their first object stands."""
    seen: list[str | None] = []
    for e in entries:
        if e.section not in seen:
            seen.append(e.section)
    return seen
