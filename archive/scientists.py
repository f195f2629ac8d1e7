"""Scientists and every name they are known by: adding, importing, listing and matching."""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from archive.csvfiles import read_csv
from archive.errors import ManifestError, RowError, UnknownScientist, UsageError
from archive.models import Item, Scientist, ScientistName
from archive.names import fold_name, name_code, name_keys


@dataclass(frozen=True)
class ScientistRecord:
    name: str
    variants: tuple[str, ...] = ()
    born: int | None = None
    died: int | None = None
    field: str | None = None


def _add_names(session: Session, scientist: Scientist, forms: Iterable[tuple[str, str]]) -> None:
    have = {n.key for n in scientist.names}
    for form, kind in forms:
        for key in sorted(name_keys(form)):
            if key not in have:
                have.add(key)
                scientist.names.append(ScientistName(name=form, key=key, kind=kind))


def upsert_scientist(session: Session, record: ScientistRecord) -> tuple[Scientist, bool]:
    """Create the scientist, or merge new variants and facts into the one with that name.
    Returns (scientist, created)."""
    scientist = session.scalars(select(Scientist).where(Scientist.name == record.name)).first()
    created = scientist is None
    if scientist is None:
        scientist = Scientist(name=record.name, code=name_code(record.name))
        session.add(scientist)
    for attr in ("born", "died", "field"):
        value = getattr(record, attr)
        if value is not None:
            setattr(scientist, attr, value)
    known = list(scientist.variants or [])
    known += [v for v in record.variants if v not in known and v != record.name]
    scientist.variants = known or None
    _add_names(session, scientist, [(record.name, "preferred")]
               + [(v, "variant") for v in record.variants])
    session.flush()
    return scientist, created


def _year(value: str, column: str, errors: list[str]) -> int | None:
    if not value:
        return None
    if value.isdigit() and 1000 <= int(value) <= 2100:
        return int(value)
    errors.append(f"{column} {value!r} is not a year")
    return None


def read_scientists_csv(path: str) -> list[ScientistRecord]:
    """Parse a scientists CSV (name, variants separated by ';', born, died, field); every bad
    row is reported at once in a ManifestError."""
    table = read_csv(path, required=("name",))
    records: list[ScientistRecord] = []
    bad: list[RowError] = []
    for row in table.rows:
        errors: list[str] = []
        name = row.cells.get("name", "")
        if not name:
            errors.append("the name is empty")
        if row.overflow:
            errors.append("more cells than the header has columns")
        variants = tuple(v.strip() for v in row.cells.get("variants", "").split(";") if v.strip())
        born = _year(row.cells.get("born", ""), "born", errors)
        died = _year(row.cells.get("died", ""), "died", errors)
        if errors:
            bad.append(RowError(row.number, "; ".join(errors)))
        else:
            records.append(ScientistRecord(name, variants, born, died,
                                           row.cells.get("field") or None))
    if bad:
        raise ManifestError(path, bad)
    return records


def import_scientists(session: Session, path: str) -> tuple[int, int]:
    """Import a scientists CSV; returns (added, updated)."""
    added = updated = 0
    for record in read_scientists_csv(path):
        _, created = upsert_scientist(session, record)
        added += created
        updated += not created
    return added, updated


class ScientistMatcher:
    """Matches written names (folder names, manifest cells, options) to scientists by any
    normalised variant. Loads the name keys once: the programme has hundreds of scientists,
    not millions, so this stays small."""

    def __init__(self, session: Session):
        self._by_key: dict[str, set[int]] = {}
        for key, sid in session.execute(select(ScientistName.key, ScientistName.scientist_id)):
            self._by_key.setdefault(key, set()).add(sid)

    def match(self, name: str) -> int | None:
        """The scientist id for a name, or None if no scientist (or more than one) matches."""
        # The literal form first: a recorded variant beats a pinyin reading that may collide.
        for candidates in ({fold_name(name)}, name_keys(name)):
            ids: set[int] = set()
            for key in candidates:
                ids |= self._by_key.get(key, set())
            if len(ids) == 1:
                return next(iter(ids))
        return None

    def remember(self, scientist: Scientist) -> None:
        for n in scientist.names:
            self._by_key.setdefault(n.key, set()).add(scientist.id)


def find_scientist(session: Session, name: str) -> Scientist:
    sid = ScientistMatcher(session).match(name)
    if sid is None:
        raise UnknownScientist(name)
    return session.get(Scientist, sid)  # type: ignore[return-value]


def list_scientists(session: Session) -> list[dict[str, Any]]:
    counts = dict(session.execute(
        select(Item.scientist_id, func.count(Item.id)).group_by(Item.scientist_id)).all())
    out = []
    for s in session.scalars(select(Scientist).order_by(Scientist.name)):
        out.append({"name": s.name, "variants": list(s.variants or []), "born": s.born,
                    "died": s.died, "field": s.field, "biography": s.biography, "code": s.code,
                    "items": counts.get(s.id, 0)})
    return out


def require_name(name: str) -> str:
    name = name.strip()
    if not name:
        raise UsageError("a scientist's name cannot be empty")
    return name
