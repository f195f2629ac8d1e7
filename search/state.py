"""The index's bookkeeping, readable without importing Whoosh: which catalog state it was
built from, and whether the catalog has moved on since (a no-op ingest asks this).

The index follows the catalog's change log (archive/changes.py): it records the last `seq` it
applied, and an update re-reads the items changed after it. The highest item id and newest
change time are kept too, for items written without a change row (records bulk-loaded by
the benchmarks and by tests).

The catalog is read through archive.catalog_reader (plain SQL): a command-line search asks
whether its index is current without importing SQLAlchemy or the models, and neither does
importing this module."""
from __future__ import annotations

import datetime as dt
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from archive.catalog_reader import CatalogReader
from archive.errors import IndexMissing, IndexProblem

if TYPE_CHECKING:
    from archive.catalog import Catalog
    from archive.settings import Settings

STATE_FILE = "archive-index.json"


def __getattr__(name: str) -> Any:
    """INDEX_FAILURES: what a command that changed the catalog reports (and leaves for
    `archive reindex`) when it cannot bring the index up to date: the index's own problems,
    the disk, a busy catalog. Any other exception is a bug and surfaces as one (#13.5), never
    as "run archive reindex". Made when asked for: a busy catalog is SQLAlchemy's error, which
    only the writers (who have SQLAlchemy loaded) catch, not a search that imports this."""
    if name == "INDEX_FAILURES":
        from sqlalchemy.exc import OperationalError
        failures: tuple[type[Exception], ...] = (IndexProblem, OSError, OperationalError)
        return failures
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

SCHEMA_VERSION = 10  # bump when the schema or analysis changes: indexes are then rebuilt
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
    """(highest item id, newest change): see CatalogReader.mark."""
    return CatalogReader.of(catalog).mark()


def read_state(index_dir: Path) -> IndexState | None:
    try:
        data = json.loads((index_dir / STATE_FILE).read_text("utf-8"))
        return IndexState(**data)
    except (OSError, ValueError, TypeError):
        return None


def change_mark(catalog: Catalog) -> int:
    """The catalog's last change-log seq (0 before any change)."""
    return CatalogReader.of(catalog).latest_seq()


def write_state(index_dir: Path, items: int, updated: dt.datetime | None, seq: int,
                engine: str) -> None:
    state = IndexState(SCHEMA_VERSION, items, updated.isoformat() if updated else None,
                       dt.datetime.now(dt.UTC).isoformat(timespec="microseconds"), seq, engine)
    tmp = index_dir / (STATE_FILE + ".part")
    tmp.write_text(json.dumps(state.to_json()), "utf-8")
    os.replace(tmp, index_dir / STATE_FILE)


def items_behind(reads: CatalogReader, state: IndexState) -> int:
    """How many catalog items were added, changed, withdrawn or forgotten after the index last
    caught up: the items of change rows after its seq, with items added or dated after its
    marks. Indexed look-ups only, so the site can ask every few seconds at any size."""
    since = dt.datetime.fromisoformat(state.updated) if state.updated else None
    return reads.items_behind(state.items, since, state.seq)


def freshness(catalog: Catalog) -> Freshness:
    """Whether the index is behind the catalog (a writer asks before bringing it up to date)."""
    return freshness_of(CatalogReader.of(catalog))


def freshness_of(reads: CatalogReader) -> Freshness:
    state = read_state(reads.settings.index_dir)
    if state is None:
        return Freshness(True, "no index")
    if state.schema != SCHEMA_VERSION:
        return Freshness(True, "built by another version")
    if state.engine != reads.settings.search_engine:
        return Freshness(True, f"built by the {state.engine} engine")
    items, updated = reads.mark()
    if items < state.items:
        return Freshness(True, "items went away from the catalog")
    if (updated.isoformat() if updated else None) != state.updated or items != state.items:
        return Freshness(True, "items changed since the index was built")
    if reads.latest_seq() > state.seq:
        return Freshness(True, "items changed since the index was built")
    return Freshness(False)


def open_index(settings: Settings) -> Any:
    """The index of the engine `settings` choose, or IndexMissing / IndexDamaged saying how to
    get one. Opens for reading: nothing is written."""
    from search.engines import ENGINES, load
    index_dir = settings.index_dir
    state = read_state(index_dir)
    engine = settings.search_engine
    if state is None or state.engine not in ENGINES or not load(state.engine).exists(index_dir):
        raise IndexMissing(f"there is no search index at {index_dir}; "
                           "build it with `archive reindex`")
    if state.schema != SCHEMA_VERSION:
        raise IndexMissing("the search index was built by another version of the archive; "
                           "rebuild it with `archive reindex`")
    if state.engine != engine:
        raise IndexMissing(f"the search index was built by the {state.engine} engine and the "
                           f"setting search_engine is {engine}; rebuild it with "
                           "`archive reindex`")
    return load(engine).open_index(index_dir)
