"""Accession numbers: stable, human-readable, never reused: <scientist code>-<type letter>-<n>.

    accession_prefix("QXS", "letter") -> "QXS-L"
    format_accession("QXS-L", 12)     -> "QXS-L-00012"
    normalise_accession(" qxs-l-00012") -> "QXS-L-00012"  (typed in any case, full-width too)
"""
from __future__ import annotations

import unicodedata

from sqlalchemy import select
from sqlalchemy.orm import Session

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
    """Accession numbers are upper-case by construction: a typed one is matched in any case."""
    return unicodedata.normalize("NFKC", text).strip().upper()


def item_by_accession(session: Session, text: str) -> Item | None:
    return session.scalars(select(Item).where(Item.accession == normalise_accession(text))).first()
