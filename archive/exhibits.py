"""Exhibits: create, list, show and delete them; add, remove, move and caption their objects.
Positions stay 1..n with no gaps; the objects of a section stay together, in order; every change
to an exhibit or its objects moves its `updated` time."""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.accession import normalise_accession, find_items
from archive.errors import NotFound, UsageError
from archive.models import Exhibit, ExhibitItem, utcnow

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


def _renumber(exhibit: Exhibit, entries: list[ExhibitItem]) -> None:
    """Store the new order and mark the exhibit changed: the objects' rows change, not the
    exhibit's, so the database's on-update never fires for it."""
    for n, entry in enumerate(entries, start=1):
        entry.position = n
    exhibit.entries = entries
    exhibit.updated_at = utcnow()


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
    for item in find_items(s, accessions):
        if item.id in present:
            already.append(item.accession)
            continue
        entry = ExhibitItem(item_id=item.id, section=section, caption=caption, position=0)
        entry.item = item
        last = max((i for i, e in enumerate(entries) if e.section == section), default=None)
        entries.insert(len(entries) if last is None else last + 1, entry)
        present.add(item.id)
        added.append(item.accession)
    _renumber(exhibit, entries)
    return AddResult(added, already)


def _entry(exhibit: Exhibit, accession: str) -> ExhibitItem:
    wanted = normalise_accession(accession)
    for e in exhibit.entries:
        if e.item.accession == wanted:
            return e
    raise NotFound(f"{wanted} is not in the exhibit {exhibit.slug!r}")


def remove_objects(s: Session, slug: str, accessions: list[str]) -> None:
    exhibit = get_exhibit(s, slug)
    entries = list(exhibit.entries)
    for accession in accessions:
        entries.remove(_entry(exhibit, accession))
    _renumber(exhibit, entries)


def move_object(s: Session, slug: str, accession: str, position: int,
                section: str | None = None) -> None:
    """Put an object at 1-based `position`; every section's objects stay together.

    Without `section` the object stays in its section and `position` counts in the whole
    exhibit, within that section's run. With `section` ("" means none) it moves there and
    `position` counts within that section; a new section is opened before the section that
    holds exhibit position `position` (at the end past the last)."""
    exhibit = get_exhibit(s, slug)
    entry = _entry(exhibit, accession)
    groups = [(name, [e for e in exhibit.entries if e.section == name and e is not entry])
              for name in sections_in_order(list(exhibit.entries))]
    target = entry.section if section is None else (section.strip() or None)
    names = [name for name, _ in groups]
    if target not in names:  # a new section, opened where `position` falls in the exhibit
        if not 1 <= position <= len(exhibit.entries):
            raise UsageError(f"position {position} is outside 1..{len(exhibit.entries)}")
        seen, at = 0, len(groups)
        for n, (_, members) in enumerate(groups):
            if position <= seen + len(members):
                at = n
                break
            seen += len(members)
        groups.insert(at, (target, []))
        local = 1
    else:
        members = groups[names.index(target)][1]
        offset = 0 if section is not None else \
            sum(len(m) for _, m in groups[:names.index(target)])
        local = position - offset
        if not 1 <= local <= len(members) + 1:
            span = f"{offset + 1}..{offset + len(members) + 1}"
            room = f"section {target!r}" if target else "the objects without a section"
            hint = f"positions count within it, 1..{len(members) + 1}" if section is not None \
                else f"positions {span} of the exhibit; give --section to move it to another"
            raise UsageError(f"position {position} is outside {room} ({hint})")
    dict(groups)[target].insert(local - 1, entry)
    entry.section = target
    _renumber(exhibit, [e for _, members in groups for e in members])


def set_caption(s: Session, slug: str, accession: str, caption: str) -> None:
    exhibit = get_exhibit(s, slug)
    _entry(exhibit, accession).caption = caption.strip() or None
    exhibit.updated_at = utcnow()


def sections_in_order(entries: list[ExhibitItem]) -> list[str | None]:
    """Sections in the order their first object stands."""
    seen: list[str | None] = []
    for e in entries:
        if e.section not in seen:
            seen.append(e.section)
    return seen
