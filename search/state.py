"""The index's bookkeeping, readable without importing Whoosh: which catalog state it was
built from, and whether the catalog has moved on since (a no-op ingest asks this).

The index follows the catalog's change log (archive/changes.py): it records the last `seq` it
applied, and an update re-reads the items changed after it. The highest item id and newest
change time are kept too, for items written without a change row (records bulk-loaded by
the benchmarks and by tests)."""
from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.exc import OperationalError

from archive.catalog import Catalog
from archive.changes import latest_seq
from archive.errors import IndexProblem
from archive.models import Change, Item

STATE_FILE = "archive-index.json"
# What a command that changed the catalog reports (and leaves for `archive reindex`) when it
# cannot bring the index up to date: the index's own problems, the disk, a busy catalog. Any
# other exception is a bug and surfaces as one (#13.5), never as "run archive reindex".
INDEX_FAILURES: tuple[type[Exception], ...] = (IndexProblem, OSError, OperationalError)
SCHEMA_VERSION = 9  # bump when the schema or analysis changes: indexes are then rebuilt
# (7: the Whoosh analyzers moved to search/engines/whoosh/, where old schemas cannot find them)
# (8: machine-read pages are indexed with their item)
# (9: Tantivy's text fields take our terms through its whitespace tokenizer, not raw tokens)


@dataclass(frozen=True)
class IndexState:
    schema: int
    items: int  # highest item id indexed
    updated: str | None  # newest Item.updated_at indexed, ISO
    built_at: str
    seq: int = 0  # last change-log seq applied (archive/changes.py)
    engine: str = "whoosh"  # which engine wrote the index (search/engines/)

    def to_json(self) -> dict[str, object]:
        return dict(vars(self))


@dataclass(frozen=True)
class Freshness:
    stale: bool
    reason: str = ""


def catalog_mark(catalog: Catalog) -> tuple[int, dt.datetime | None]:
    """(highest item id, newest change): both read from indexes, so checking is cheap at any
    size (count(*) is a full scan in SQLite). A forgotten item leaves no item row to date its
    going: the change log's last row does."""
    with catalog.session() as s:
        updated = s.scalar(select(func.max(Item.updated_at)))
        last_change = s.scalar(select(Change.at).order_by(Change.seq.desc()).limit(1))
        if last_change is not None and (updated is None or last_change > updated):
            updated = last_change
        return s.scalar(select(func.max(Item.id))) or 0, updated


def read_state(index_dir: Path) -> IndexState | None:
    try:
        data = json.loads((index_dir / STATE_FILE).read_text("utf-8"))
        return IndexState(**data)
    except (OSError, ValueError, TypeError):
        return None


def change_mark(catalog: Catalog) -> int:
    """The catalog's last change-log seq (0 before any change)."""
    with catalog.session() as s:
        return latest_seq(s)


def write_state(index_dir: Path, items: int, updated: dt.datetime | None, seq: int,
                engine: str) -> None:
    state = IndexState(SCHEMA_VERSION, items, updated.isoformat() if updated else None,
                       dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"), seq, engine)
    tmp = index_dir / (STATE_FILE + ".part")
    tmp.write_text(json.dumps(state.to_json()), "utf-8")
    os.replace(tmp, index_dir / STATE_FILE)


def items_behind(catalog: Catalog, state: IndexState) -> int:
    """How many catalog items were added, changed, withdrawn or forgotten after the index last
    caught up: the items of change rows after its seq, with items added or dated after its
    marks. Indexed look-ups only, so the site can ask every few seconds at any size."""
    since = dt.datetime.fromisoformat(state.updated) if state.updated else None
    late = Item.id > state.items
    if since is not None:
        late = late | (Item.updated_at > since)
    ids = select(Change.item_id).where(Change.seq > state.seq).union(
        select(Item.id).where(late)).subquery()
    with catalog.session() as s:
        return s.scalar(select(func.count()).select_from(ids)) or 0


def freshness(catalog: Catalog) -> Freshness:
    state = read_state(catalog.settings.index_dir)
    if state is None:
        return Freshness(True, "no index")
    if state.schema != SCHEMA_VERSION:
        return Freshness(True, "built by another version")
    if state.engine != catalog.settings.search_engine:
        return Freshness(True, f"built by the {state.engine} engine")
    items, updated = catalog_mark(catalog)
    if items < state.items:
        return Freshness(True, "items went away from the catalog")
    if (updated.isoformat() if updated else None) != state.updated or items != state.items:
        return Freshness(True, "items changed since the index was built")
    if change_mark(catalog) > state.seq:
        return Freshness(True, "items changed since the index was built")
    return Freshness(False)
