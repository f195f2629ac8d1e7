"""Running a query, engine-free: the parsed tree is compiled to the engine's query
(search.compile), limited to what the searching viewer may see (public only unless signed in
or asked), with facets, snippets cut from the catalog's text and, for transcripts, the time of
the match.

The search service, for callers that keep one open (the site, exhibits, benchmarks):

    service = SearchService(catalog)                 # read-only: never writes the index
    service = SearchService(catalog, writable=True)  # may bring a stale index up to date first
    service = SearchService(reads)   # read-only, over archive.catalog_reader without the ORM
    result = service.search(SearchOptions(query="导弹", facets=True))
    result.total, result.hits, result.facets         # what `archive search --json` prints
    result.behind        # items changed in the catalog since the index was last brought up
                         # to date (0 when current); result.index_note says it in words
    service.close()                                  # or use it as a context manager

A read-only service answers from the index it has: the site uses it, so that a request never
writes (keeping the index current is the writers' job: ingest, reindex, the CLI search). It
notices a newer index (after `archive reindex` or an update) within FRESHNESS_EVERY seconds.
Missing, busy and damaged indexes raise IndexMissing, IndexBusy and IndexDamaged (all
IndexProblem). Totals are exact: the same at every page and limit and after every rebuild
(search/engines/whoosh/searching.py says why Whoosh's own ranking collector is not).

What a search reads from the catalog (whether the index is current, the rows its hits show)
it reads through archive.catalog_reader's plain SQL. One search from the command line
(`search_catalog`) opens nothing more when its index is current: not SQLAlchemy, not the
models (a third of a second), only the catalog file through sqlite3; the full catalog only
when the index must catch up first, or the catalog is not a current SQLite file.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from archive.access import ANONYMOUS, Viewer, today
from archive.catalog_reader import CatalogReader
from archive.errors import QueryError
from archive.names import name_keys
from search.analysis import quiet_jieba
from search.compile import compile_search, option_nodes, visible_to
from search.engines import EngineSearcher, Found, load
from search.facets import CODE_FIELDS, label_counts
from search.keys import day_number
from search.query import (
    MAX_LIMIT,
    Node,
    complete_names,
    filters_only,
    loose_name_words,
    parse_query,
)
from search.machine_read import hit_text
from search.snippets import best_cue, match_patterns
from search.state import IndexState, freshness_of, items_behind, open_index, read_state

if TYPE_CHECKING:
    from archive.catalog import Catalog
    from archive.settings import Settings


@dataclass(frozen=True)
class SearchOptions:
    query: str = ""
    scientist: str | None = None
    type: str | None = None
    year_from: int | None = None
    year_to: int | None = None
    limit: int = 20
    offset: int = 0
    facets: bool = False
    include_restricted: bool = False  # the CLI's: everything on record, whoever runs it
    # Who is searching (the site's signed-in reader): totals, facets and snippets are of what
    # they may see, found by the engine's filter, never of everything and trimmed afterwards.
    viewer: Viewer = ANONYMOUS


@dataclass
class SearchResult:
    total: int
    hits: list[dict[str, Any]]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    index_note: str = ""
    behind: int = 0  # catalog items the index has not caught up with (read-only services)

    def to_json(self) -> dict[str, Any]:
        return {"total": self.total, "hits": self.hits, "facets": self.facets}


# -- the search ------------------------------------------------------------------------------

class SearchService:
    """A searcher kept open across queries (opening an index costs more than most queries),
    checking now and then whether the index or the catalog moved on (see the module docstring:
    read-only unless `writable`)."""

    FRESHNESS_EVERY = 5.0  # seconds between checks of the catalog's mark

    def __init__(self, catalog: Catalog | CatalogReader, writable: bool = False):
        quiet_jieba()
        if isinstance(catalog, CatalogReader):  # reads alone: no catalog to bring it up to
            self.catalog: Catalog | None = None  # date with
            self.reads = catalog
            self.writable = False
        else:
            self.catalog = catalog
            self.reads = CatalogReader.of(catalog)
            self.writable = writable and not catalog.immutable  # a published copy's index stays
        self.settings = self.reads.settings
        self.note = ""
        self.behind = 0
        self._searcher: EngineSearcher | None = None
        self._state: IndexState | None = None
        self._identity: tuple[int, str] | None = None
        self._checked = 0.0
        self._names: dict[int, str] = {}

    def _current(self) -> EngineSearcher:
        now = time.monotonic()
        if self._searcher is not None and now - self._checked <= self.FRESHNESS_EVERY:
            return self._searcher
        self._checked = now
        index_dir = self.settings.index_dir
        opened = None  # the index as first opened, kept for the searcher unless changed since
        opened_identity = None
        if self.writable and self.catalog is not None:
            if self._searcher is None:
                opened_identity = _index_identity(index_dir)
                opened = open_index(self.settings)  # missing, damaged, another version: say so
            stale = freshness_of(self.reads)
            if stale.stale:
                from search.index import update  # the writers' code: only to write
                n = update(self.catalog)
                opened = None  # the update may have rebuilt it into a new folder
                self.note = f"the index was behind the catalog ({stale.reason}); " \
                            f"updated {n} item(s)"
        identity = _index_identity(index_dir)
        if identity != opened_identity:
            opened = None  # a rebuild swapped in a new folder meanwhile
        if self._searcher is None or identity != self._identity:
            # First use, or a rebuild swapped in a new folder: open it afresh (refreshing
            # compares generations, and a new index may start at the old one's number). Opening
            # reads the index through to find damage: once per start is enough.
            self.close()
            self._searcher = load(self.settings.search_engine).searcher(
                opened if opened is not None else open_index(self.settings), index_dir)
        else:
            self._searcher.refresh()
        self._identity = identity
        self._state = read_state(index_dir)
        if not self.writable:
            self.behind = items_behind(self.reads, self._state) if self._state else 0
            self.note = (f"the index is behind the catalog by {self.behind} item(s); "
                         "results are from the index as it is") if self.behind else ""
        return self._searcher

    def _scientist_names(self, codes: list[int]) -> dict[int, str]:
        """Scientist ids to preferred names, asking the catalog only for ids not seen yet."""
        missing = [c for c in codes if c not in self._names]
        if missing:
            self._names.update(self.reads.scientist_names(missing))
        return {c: self._names[c] for c in codes if c in self._names}

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def search(self, options: SearchOptions) -> SearchResult:
        if not 1 <= options.limit <= MAX_LIMIT:
            raise QueryError(f"--limit must be between 1 and {MAX_LIMIT}")
        if options.offset < 0:
            raise QueryError("--offset must be 0 or more")
        node = parse_query(options.query)
        searcher = self._current()
        node = complete_names(node, _whole_name(searcher.is_key))
        ranked = not filters_only(node)
        c = searcher.compiler()
        query = compile_search(node, option_nodes(options.scientist, options.type,
                                                  options.year_from, options.year_to), c)
        visible = None if options.include_restricted else \
            visible_to(options.viewer, day_number(today()))
        found = searcher.run(query, visible, ranked, options.limit, options.offset,
                             options.facets)
        return self._result(found, node, ranked, options)

    def _result(self, found: Found, node: Node | None, ranked: bool,
                options: SearchOptions) -> SearchResult:
        patterns = match_patterns(node)
        ids = [fields["item_id"] for _, fields in found.page]
        texts = self.reads.texts(ids) if patterns else {}
        pages = self.reads.pages(ids) if patterns else {}
        # Files found missing (ingest or `archive verify`): the item is still found, its
        # description still true, and the hit says the file is gone (#11).
        missing = self.reads.missing(ids)
        hits = []
        for score, fields in found.page:
            item_texts, cue_lists = texts.get(fields["item_id"], ([], []))
            at = next((t for cues in cue_lists if (t := best_cue(cues, node)) is not None),
                      None)
            duration = fields.get("duration")
            snippet, source, page = hit_text(item_texts, pages.get(fields["item_id"], []),
                                             patterns)
            hits.append({
                "accession": fields["accession"], "title": fields.get("title_stored", ""),
                "scientist": fields.get("scientist_name") or None, "type": fields["type"],
                "date": fields.get("date") or None,
                "duration": duration if duration is not None and duration >= 0 else None,
                "path": fields.get("path") or None,
                "score": round(float(score), 4) if ranked and score is not None else None,
                "snippet": snippet, "text_source": source, "page": page,
                "at_seconds": at,
                "missing": missing.get(fields["item_id"], []),
            })
        facets = {}
        if found.codes is not None:
            facets = label_counts({facet: found.codes[code]
                                   for facet, code in CODE_FIELDS.items()},
                                  self._scientist_names)
        note = self.note
        if found.total == 0 and (loose := loose_name_words(node)) is not None:
            hint = f'to search for the scientist "{loose[0]} {loose[1]}", quote the name: ' \
                   f'scientist:"{loose[0]} {loose[1]}"'
            note = f"{note}; {hint}" if note else hint
        return SearchResult(found.total, hits, facets, note, self.behind)


def _whole_name(is_key: Callable[[str], bool]) -> Callable[[str], bool]:
    """Whether a written form of a name is some indexed scientist's whole name."""
    return lambda text: any(len(k) >= 2 and is_key(k) for k in name_keys(text))


def _index_identity(index_dir: Path) -> tuple[int, str] | None:
    """Which build of the index is in the folder: a rebuild swaps in a new folder."""
    state = read_state(index_dir)
    try:
        return (index_dir.stat().st_ino, state.built_at) if state else None
    except OSError:
        return None


def search(catalog: Catalog, options: SearchOptions, writable: bool = True) -> SearchResult:
    """One search. A writable search brings an index behind the catalog up to date first; a
    missing, busy or damaged index raises IndexProblem."""
    with SearchService(catalog, writable) as service:
        return service.search(options)


def search_catalog(settings: Settings, options: SearchOptions) -> SearchResult:
    """One search of the catalog `settings` name (the CLI's): as `search` on the catalog opened
    read-only, but while the index is current it reads the catalog file through plain SQL
    alone (see the module docstring). The same answers either way (tests/test_catalog_reader.py)."""
    reads = CatalogReader.open(settings)
    if reads is not None:
        with reads:
            if not freshness_of(reads).stale:
                with SearchService(reads) as service:
                    return service.search(options)
    from archive.catalog import Catalog  # to catch up first, or to say what is wrong
    catalog = Catalog.open(settings, create=False, read_only=True)
    try:
        return search(catalog, options)
    finally:
        catalog.close()
