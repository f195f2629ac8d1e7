"""The one access rule (archive/access.py): roles, grants, sealing, withdrawal, in Python and
as SQL, which must always agree."""
from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.access import (
    ANONYMOUS, Viewer, can_see, effective_access, is_public, public_items, visible_items,
)
from archive.models import Item

DAY = dt.date(2026, 6, 1)


@pytest.mark.parametrize(("access", "until", "expected"), [
    ("open", None, "open"),
    ("restricted", None, "restricted"),
    ("closed", dt.date(2051, 1, 1), "closed"),
    ("closed", dt.date(2026, 6, 1), "open"),  # opens on the day itself
    ("restricted", dt.date(2020, 1, 1), "open"),
    (None, None, "open"),
])
def test_effective_access(access: str | None, until: dt.date | None, expected: str) -> None:
    assert effective_access(access, until, on=DAY) == expected


def test_withdrawn_is_never_public() -> None:
    assert is_public("open", None, on=DAY)
    assert not is_public("open", dt.datetime(2026, 1, 1), on=DAY)


def _items(session: Session) -> dict[str, Item]:
    rows = {
        "open": Item(accession="A-1", title="t", type="letter", access="open"),
        "restricted": Item(accession="A-2", title="t", type="letter", access="restricted"),
        "closed": Item(accession="A-3", title="t", type="letter", access="closed"),
        "sealed": Item(accession="A-4", title="t", type="letter", access="closed",
                       access_until=dt.date(2051, 1, 1)),
        "unsealed": Item(accession="A-5", title="t", type="letter", access="closed",
                         access_until=dt.date(2020, 1, 1)),
        "withdrawn": Item(accession="A-6", title="t", type="letter", access="open",
                          withdrawn_at=dt.datetime(2026, 1, 1)),
    }
    session.add_all(rows.values())
    session.flush()
    return rows


def test_roles_grants_and_sql_agree(catalog) -> None:
    with Session(catalog.engine) as session:  # the SQL on the engine the suite runs on
        items = _items(session)
        viewers = {
            "anonymous": ANONYMOUS,
            "researcher": Viewer("ren", "researcher"),
            "granted": Viewer("ren", "researcher",
                              frozenset({items["restricted"].id, items["closed"].id})),
            "staff": Viewer("sue", "staff"),
            "admin": Viewer("ada", "admin"),
        }
        expected = {
            "anonymous": {"open", "unsealed"},
            "researcher": {"open", "unsealed"},
            # a grant opens a restricted item, never a closed one
            "granted": {"open", "unsealed", "restricted"},
            "staff": {"open", "unsealed", "restricted"},
            "admin": {"open", "unsealed", "restricted", "closed", "sealed"},
        }
        for who, viewer in viewers.items():
            in_python = {k for k, item in items.items() if can_see(viewer, item, on=DAY)}
            in_sql_ids = set(session.scalars(
                select(Item.id).where(visible_items(viewer, on=DAY))))
            in_sql = {k for k, item in items.items() if item.id in in_sql_ids}
            assert in_python == expected[who], who
            assert in_sql == expected[who], who
        public = set(session.scalars(select(Item.accession).where(public_items(on=DAY))))
        assert public == {"A-1", "A-5"}
