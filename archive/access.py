"""Who may see an item: the one rule every public surface (search, the site, exhibits, exports,
harvesting) asks, so "public" cannot mean two things in two places.

    is_public("open", None)             -> True
    is_public("restricted", None)       -> False
    is_public("open", <withdrawn time>) -> False   (withdrawn items leave every public surface)
"""
from __future__ import annotations

import datetime as dt

from sqlalchemy import ColumnElement, and_

from archive.models import Item

PUBLIC_ACCESS = "open"


def is_public(access: str | None, withdrawn_at: dt.datetime | None = None) -> bool:
    return access == PUBLIC_ACCESS and withdrawn_at is None


def item_is_public(item: Item) -> bool:
    return is_public(item.access, item.withdrawn_at)


def public_items() -> ColumnElement[bool]:
    """The same rule as a SQL condition on Item, for queries that must never load the rest."""
    return and_(Item.access == PUBLIC_ACCESS, Item.withdrawn_at.is_(None))


def not_withdrawn() -> ColumnElement[bool]:
    """Items still on record for the public surfaces that show restricted material to those
    who ask for it (`--include-restricted`): withdrawn items stay off them all the same."""
    return Item.withdrawn_at.is_(None)
