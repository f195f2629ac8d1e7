"""The change log: every write to an item records it here, so whatever follows the catalog (the
search index, a harvester) can catch up by reading only what changed since its last sequence.

    record_changes(s, {3, 7})           -> two rows; items 3 and 7 get a new updated_at
    record_changes(s, {9}, "delete")    -> item 9 is gone (forgotten): followers drop it
    latest_seq(s)                       -> the highest seq, 0 for a new catalog
    changed_since(s, 41)                -> {item_id: kind} of every change after seq 41

On PostgreSQL a sequence value is taken at insert but becomes visible at commit, so a follower
could see seq 12 before a slower transaction's seq 11 commits, and never go back for 11. So
the rows are written at commit, not when recorded: a transaction inserts its change rows just
before it commits, holding the change log's table lock from that insert to the commit, so
concurrent writers (two ingests) commit their seqs in order, and a follower's mark is exact:
no window behind it to re-read (which made every index update on a server re-index the last
thousand changed items, a full re-index of a small catalog, twice when two ingests ended).
"""
from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import event, func, insert, select, text, update
from sqlalchemy.orm import Session

from archive.models import Change, Item, utcnow

# How far behind its mark a follower re-reads: none, as seqs commit in order (the docstring).
CHANGE_WINDOW = 0


def record_changes(s: Session, item_ids: Iterable[int], kind: str = "update") -> None:
    """Note that these items changed (or, with kind="delete", went away) in this transaction."""
    ids = sorted(set(item_ids))
    if not ids:
        return
    now = utcnow()
    if kind != "delete":
        s.execute(update(Item).where(Item.id.in_(ids)).values(updated_at=now)
                  .execution_options(synchronize_session=False))
    pending = s.info.setdefault(_PENDING, [])
    pending += [{"item_id": i, "kind": kind, "at": now} for i in ids]
    if not event.contains(s, "before_commit", _write_pending):
        event.listen(s, "before_commit", _write_pending)
        event.listen(s, "after_rollback", _drop_pending)


_PENDING = "archive.changes.pending"


def _write_pending(s: Session) -> None:
    """The transaction's change rows, last thing before it commits. On a database server the
    table lock (which conflicts with itself, not with readers) makes seqs commit in order: the
    writer holding it takes no other lock before committing, so it cannot deadlock."""
    rows: list[dict[str, Any]] = s.info.pop(_PENDING, [])
    if not rows:
        return
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("LOCK TABLE changes IN SHARE ROW EXCLUSIVE MODE"))
    s.execute(insert(Change), rows)


def _drop_pending(s: Session) -> None:
    s.info.pop(_PENDING, None)


def latest_seq(s: Session) -> int:
    return int(s.scalar(select(func.max(Change.seq))) or 0)


def changed_since(s: Session, seq: int, limit: int | None = None) -> dict[int, str]:
    """item id -> "update" or "delete" for every change after `seq`, the latest kind winning."""
    query = select(Change.item_id, Change.kind).where(Change.seq > seq).order_by(Change.seq)
    if limit is not None:
        query = query.limit(limit)
    out: dict[int, str] = {}
    for item_id, kind in s.execute(query):
        out[item_id] = kind
    return out
