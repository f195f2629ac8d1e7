"""Accession numbers: stable, human-readable, never reused: <scientist code>-<type letter>-<n>.

    accession_prefix("QXS", "letter") -> "QXS-L"
    format_accession("QXS-L", 12)     -> "QXS-L-00012"
    normalise_accession(" qxs-l-00012") -> "QXS-L-00012"  (typed in any case, full-width too)

Every place that takes an accession number from a person (`archive show`, the site's URLs,
exhibits, edits) looks it up through these functions, so none of them is case-sensitive.
"""
from __future__ import annotations

import unicodedata
from collections import Counter as Counter_
from collections.abc import Sequence

from sqlalchemy import insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from archive.errors import NotFound
from archive.fields import TYPE_CODES
from archive.models import Counter, Item


def accession_prefix(scientist_code: str | None, material_type: str) -> str:
    return f"{scientist_code or 'UNK'}-{TYPE_CODES.get(material_type, 'O')}"


def format_accession(prefix: str, number: int) -> str:
    return f"{prefix}-{number:05d}"


def take_accessions(session: Session, prefixes: Sequence[str]) -> list[str]:
    """The next numbers for these prefixes, one per entry, in order:

        take_accessions(s, ["QXS-L", "QXS-P", "QXS-L"]) -> ["QXS-L-00013", "QXS-P-00004",
                                                            "QXS-L-00014"]

    Each counter row is moved on by one atomic UPDATE ... RETURNING, which locks it until the
    transaction ends: a concurrent ingest of the same prefix waits, so numbers are unique, and
    a rolled-back batch rolls its numbers back too, so none are skipped. Counters are taken in
    sorted order, so two writers taking the same two prefixes cannot deadlock."""
    wanted = Counter_(prefixes)
    first: dict[str, int] = {}
    for prefix in sorted(wanted):
        first[prefix] = _take(session, prefix, wanted[prefix])
    out = []
    for prefix in prefixes:
        out.append(format_accession(prefix, first[prefix]))
        first[prefix] += 1
    return out


def _take(session: Session, prefix: str, n: int) -> int:
    """Move the prefix's counter on by n; the first of the n numbers taken."""
    bump = (update(Counter).where(Counter.prefix == prefix)
            .values(last=Counter.last + n).returning(Counter.last))
    last = session.execute(bump).scalar()
    if last is None:
        try:
            with session.begin_nested():  # a new prefix: another writer may make it first
                session.execute(insert(Counter).values(prefix=prefix, last=n))
            return 1
        except IntegrityError:
            last = session.execute(bump).scalar_one()
    return int(last) - n + 1


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
