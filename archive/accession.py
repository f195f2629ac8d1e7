"""Accession numbers: stable, human-readable, never reused: <scientist code>-<type letter>-<n>.

    accession_prefix("QXS", "letter") -> "QXS-L"
    format_accession("QXS-L", 12)     -> "QXS-L-00012"
    normalise_accession(" qxs-l-00012") -> "QXS-L-00012"  (typed in any case, full-width too)

Every place that takes an accession number from a person (`archive show`, the site's URLs,
exhibits, edits) looks it up through these functions, so none of them is case-sensitive.
"""
from __future__ import annotations

import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.errors import NotFound
from archive.fields import TYPE_CODES
from archive.models import Counter, Item


def accession_prefix(scientist_code: str | None, material_type: str) -> str:
    return f"{scientist_code or 'UNK'}-{TYPE_CODES.get(material_type, 'O')}"


def format_accession(prefix: str, number: int) -> str:
    return f"{prefix}-{number:05d}"


def next_accession(session: Session, scientist_code: str | None, material_type: str) -> str:
    """Hand out the next number for the prefix. Callers hold the writer lock, so the counter row
    is never raced; a rolled-back batch rolls its numbers back too, so none are skipped."""
    prefix = accession_prefix(scientist_code, material_type)
    counter = session.get(Counter, prefix)
    if counter is None:
        counter = Counter(prefix=prefix, last=0)
        session.add(counter)
    counter.last += 1
    return format_accession(prefix, counter.last)


def normalise_accession(text: str) -> str:
    """The form accession numbers are catalogued in (upper-case by construction): full-width
    forms folded (a number typed with a Chinese input method), spaces trimmed, upper-case.

    normalise_accession("qxs-l-00001")  -> "QXS-L-00001"
    normalise_accession("ＱＸＳ－Ｌ－００００１") -> "QXS-L-00001"
    normalise_accession(" UNK-O-00003\n") -> "UNK-O-00003"
    """
    return unicodedata.normalize("NFKC", text).strip().upper()


def item_by_accession(session: Session, text: str) -> Item | None:
    return session.scalars(select(Item).where(Item.accession == normalise_accession(text))).first()


def find_item(session: Session, accession: str) -> Item:
    """The item with this accession number, however it was typed; NotFound otherwise."""
    item = item_by_accession(session, accession)
    if item is None:
        raise NotFound(f"no item with accession number {accession.strip()!r}; "
                       "`archive export` lists them all")
    return item


def find_items(session: Session, accessions: list[str]) -> list[Item]:
    """Items in the order asked for; one NotFound naming every number that is not there."""
    wanted = [normalise_accession(a) for a in accessions if a.strip()]
    found = {i.accession: i for i in session.scalars(
        select(Item).where(Item.accession.in_(set(wanted))))}
    missing = [a for a in wanted if a not in found]
    if missing:
        raise NotFound(f"no item with accession number {', '.join(missing)}")
    return [found[a] for a in wanted]
