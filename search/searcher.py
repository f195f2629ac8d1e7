"""Running a query: the parsed tree becomes Whoosh queries, public-only unless asked, with
facets, snippets cut from the catalog's text and, for transcripts, the time of the match.

The search service, for callers that keep one open (the site, exhibits, benchmarks):

    service = SearchService(catalog)                 # read-only: never writes the index
    service = SearchService(catalog, writable=True)  # may bring a stale index up to date first
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
(ExactTopCollector says why Whoosh's own ranking collector is not).
"""
from __future__ import annotations

import datetime as dt
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from sqlalchemy import select
from whoosh import collectors, sorting
from whoosh import query as wq
from whoosh.searching import Searcher

from archive.access import today
from archive.catalog import Catalog
from archive.errors import QueryError
from archive.fields import MATERIAL_TYPES, type_word
from archive.models import File, FileText, Item, Scientist
from archive.names import has_han, name_keys
from search.analysis import cjk_terms, quiet_jieba, stem_word, word_analyzer
from search.documents import PART, day_number
from search.facets import CODE_FIELDS, CodeTables, RecordingCollector, label_counts
from search.index import damage_guard, open_index, update
from search.query import (
    MAX_LIMIT,
    And,
    Field,
    Node,
    Not,
    Or,
    Range,
    Text,
    complete_names,
    filters_only,
    free_word_run,
    loose_name_words,
    parse_query,
)
from search.snippets import best_cue, make_snippet, match_patterns
from search.state import IndexState, freshness, items_behind, read_state


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
    include_restricted: bool = False


@dataclass
class SearchResult:
    total: int
    hits: list[dict[str, Any]]
    facets: dict[str, dict[str, int]] = field(default_factory=dict)
    index_note: str = ""
    behind: int = 0  # catalog items the index has not caught up with (read-only services)

    def to_json(self) -> dict[str, Any]:
        return {"total": self.total, "hits": self.hits, "facets": self.facets}


# -- compiling the query tree ------------------------------------------------------------------

def _text_query(field_name: str, value: str, phrase: bool) -> wq.Query | None:
    """Bigram/word terms of `value` in one field: a phrase keeps them in order, free words only
    need all of them. A single Han character is found by prefix (see search.analysis)."""
    terms = [t for t, _, _ in cjk_terms(value, trailing_unigram=False)]
    if not terms:
        return None
    terms = [stem_word(t) if t.isascii() else t for t in terms]
    if len(terms) == 1:
        t = terms[0]
        if len(t) == 1 and not t.isascii():
            return wq.Prefix(field_name, t)
        return wq.Term(field_name, t)
    if phrase:
        return wq.Phrase(field_name, terms)
    # Unquoted Chinese needs every overlapping bigram (导弹研究: 导弹 弹研 研究), which pins
    # the characters together in practice at a fraction of a phrase query's cost; quotes
    # make it exact.
    return wq.And([wq.Term(field_name, t) for t in terms])


def _words_query(value: str) -> wq.Query | None:
    """jieba's words of the value, all required: a second way in beside the bigrams."""
    terms = list(dict.fromkeys(t.text for t in word_analyzer()(value)))
    if not terms:
        return None
    return wq.Term("words", terms[0]) if len(terms) == 1 else \
        wq.And([wq.Term("words", t) for t in terms])


def _free_text(value: str, phrase: bool, fields: tuple[str, ...]) -> wq.Query:
    parts = [q for f in fields if (q := (_words_query(value) if f == "words" else
                                         _text_query(f, value, phrase))) is not None]
    if not parts:
        raise QueryError(f"nothing searchable in {value!r}: use letters, numbers or characters")
    return parts[0] if len(parts) == 1 else wq.Or(parts)


def _name_keys(text: str, parts: bool) -> list[str]:
    """Index keys a written name may match: whole names, and with `parts` a surname or given
    name alone (search.documents marks those with PART)."""
    keys = sorted(name_keys(text))
    return keys + [PART + k for k in keys if k.isascii()] if parts else keys


def _scientist_filter(name: str) -> wq.Query:
    keys = _name_keys(name, parts=True)
    if not keys:
        raise QueryError(f"scientist:{name!r} has no letters or characters to match")
    return wq.Or([wq.Term("scientist", k) for k in keys])


def _type_filter(value: str) -> wq.Query:
    material = type_word(value)
    if material is None:
        raise QueryError(f"unknown type {value!r}; use one of {', '.join(MATERIAL_TYPES)}")
    return wq.Term("type", material)


MAX_YEAR_TERMS = 200


def _range(node: Range) -> wq.Query:
    if node.field == "date" and node.low is not None and node.high is not None and \
            node.high - node.low < MAX_YEAR_TERMS:
        # A bounded range is the years it names: a small union of selective terms, where two
        # numeric ranges (start before the end, end after the start) each match most of the
        # index before they are intersected (72 ms → see docs/PERFORMANCE.md).
        return wq.Or([wq.Term("years", str(y)) for y in range(int(node.low),
                                                               int(node.high) + 1)])
    if node.field == "date":
        parts = []
        if node.high is not None:
            parts.append(wq.NumericRange("year_start", None, int(node.high)))
        if node.low is not None:
            parts.append(wq.NumericRange("year_end", int(node.low), None))
        return wq.And(parts) if len(parts) > 1 else parts[0]
    low = int(node.low) if node.low is not None else None
    high = int(node.high) if node.high is not None else None
    return wq.NumericRange("duration", low, high)


def compile_query(node: Node | None, reader=None) -> wq.Query:  # type: ignore[no-untyped-def]
    if node is None:
        return wq.Every()
    if isinstance(node, Text):
        if node.field == "title":
            return _free_text(node.value, node.phrase, ("title",))
        if node.field == "collection":
            return _free_text(node.value, node.phrase, ("collection",))
        # Titles and descriptions are inside `content`, so content decides what matches; the
        # title and jieba-word fields only add to the score. An Or over the three made Whoosh
        # preload every posting list into union arrays (half a query's time in profiles).
        required = _free_text(node.value, node.phrase, ("content",))
        boosts = [q for f in (("title", "words") if not node.phrase else ("title",))
                  if (q := (_words_query(node.value) if f == "words" else
                            _text_query(f, node.value, node.phrase))) is not None]
        query = wq.AndMaybe(required, wq.Or(boosts)) if boosts else required
        if node.field is None and reader is not None:
            names = _name_match(node.value, reader)
            if names is not None:
                return wq.Or([query, names])
        return query
    if isinstance(node, Field):
        if node.field == "scientist":
            return _scientist_filter(node.value)
        if node.field == "type":
            return _type_filter(node.value)
        if node.field == "access":
            return wq.Term("access", node.value.strip().lower())
        if node.field == "accession":
            return wq.Term("accession", node.value.strip().upper())
        return wq.Term("format", node.value.strip().lower())
    if isinstance(node, Range):
        return _range(node)
    if isinstance(node, Not):
        # Alone (`-火箭`, or one side of an OR) an exclusion means everything but its matches;
        # inside an AND with something positive, _and_parts subtracts it instead.
        return wq.AndNot(wq.Every(), compile_query(node.node, reader))
    if isinstance(node, Or):
        return wq.Or([compile_query(n, reader) for n in node.nodes])
    return wq.And(_and_parts(node, reader))


def _and_parts(node: And, reader) -> list[wq.Query]:  # type: ignore[no-untyped-def]
    """Adjacent free words may be one name ("Qian Xuesen", "Tsien Hsue-shen"): try them
    together as a scientist before taking them one by one."""
    parts: list[wq.Query] = []
    nodes = list(node.nodes)
    positive = any(not isinstance(n, Not) for n in nodes)
    i = 0
    while i < len(nodes):
        n = nodes[i]
        if isinstance(n, Not) and positive:
            parts.append(wq.Not(compile_query(n.node, reader)))
            i += 1
            continue
        run = free_word_run(nodes, i)
        if len(run) >= 2 and reader is not None:
            names = _name_match(" ".join(t.value for t in run), reader)
            if names is not None:
                words = wq.And([compile_query(t, None) for t in run])
                parts.append(wq.Or([words, names]))
                i += len(run)
                continue
        parts.append(compile_query(n, reader))
        i += 1
    return parts


def _name_match(text: str, reader) -> wq.Query | None:  # type: ignore[no-untyped-def]
    """Free words that are a scientist's name, or (romanised) a surname or given name alone:
    `Tsien`, `Xuesen`. Characters alone are left to the text (学森 is in titles too)."""
    keys = [k for k in _name_keys(text, parts=not has_han(text))
            if len(k.lstrip(PART)) >= 2 and reader.doc_frequency("scientist", k)]
    return wq.Or([wq.Term("scientist", k) for k in keys]) if keys else None


# -- the same tree for the Tantivy engine (search/engines/tantivy.py builds the queries) ------

def _option_nodes(options: SearchOptions) -> list[Node]:
    """The --scientist, --type, --from and --to options as the query-tree filters they are."""
    nodes: list[Node] = []
    if options.scientist:
        nodes.append(Field("scientist", options.scientist))
    if options.type:
        nodes.append(Field("type", options.type))
    if options.year_from is not None or options.year_to is not None:
        if options.year_from is not None and options.year_to is not None and \
                options.year_from > options.year_to:
            raise QueryError(f"--from {options.year_from} is after --to {options.year_to}")
        nodes.append(Range("date", options.year_from, options.year_to))
    return nodes


def _tantivy_query(node: Node | None, c: Any, names: bool = True) -> Any:
    """The tree as a Tantivy query, by the rules of compile_query (`c` is the engine's
    Compiler: only search/engines/tantivy.py imports tantivy)."""
    if node is None:
        return c.match_all()
    if isinstance(node, Text):
        if node.field in ("title", "collection"):
            return c.free_text(node.value, node.phrase, node.field)
        query = c.ranked_text(node.value, node.phrase)
        if node.field is None and names:
            keys = [k for k in _name_keys(node.value, parts=not has_han(node.value))
                    if len(k.lstrip(PART)) >= 2]
            matched = c.names(keys)
            if matched is not None:
                return c.either([query, matched])
        return query
    if isinstance(node, Field):
        if node.field == "scientist":
            keys = _name_keys(node.value, parts=True)
            if not keys:
                raise QueryError(f"scientist:{node.value!r} has no letters or characters to "
                                 "match")
            return c.any_of("scientist", keys)
        if node.field == "type":
            material = type_word(node.value)
            if material is None:
                raise QueryError(f"unknown type {node.value!r}; use one of "
                                 f"{', '.join(MATERIAL_TYPES)}")
            return c.term("type", material)
        if node.field == "accession":
            return c.term("accession", node.value.strip().upper())
        return c.term(node.field, node.value.strip().lower())
    if isinstance(node, Range):
        low = int(node.low) if node.low is not None else None
        high = int(node.high) if node.high is not None else None
        if node.field == "date":
            return c.year_range(low, high, MAX_YEAR_TERMS)
        return c.duration_range(low, high)
    if isinstance(node, Not):
        return c.everything_but(_tantivy_query(node.node, c))
    if isinstance(node, Or):
        return c.either([_tantivy_query(n, c) for n in node.nodes])
    must: list[Any] = []
    must_not: list[Any] = []
    nodes = list(node.nodes)
    i = 0
    while i < len(nodes):
        n = nodes[i]
        if isinstance(n, Not):
            must_not.append(_tantivy_query(n.node, c))
            i += 1
            continue
        run = free_word_run(nodes, i)
        if len(run) >= 2:
            matched = c.names([k for k in _name_keys(" ".join(t.value for t in run), True)
                               if len(k.lstrip(PART)) >= 2])
            if matched is not None:
                words = c.all_of([_tantivy_query(t, c, names=False) for t in run])
                must.append(c.either([words, matched]))
                i += len(run)
                continue
        must.append(_tantivy_query(n, c))
        i += 1
    return c.combine(must, must_not)


# -- snippets and timecodes --------------------------------------------------------------------

def _texts(catalog: Catalog, item_ids: list[int]) -> dict[int, tuple[list[str], list[Any]]]:
    """item id -> (texts to cut snippets from, transcript cue lists), in one round trip."""
    out: dict[int, tuple[list[str], list[Any]]] = {i: ([], []) for i in item_ids}
    if not item_ids:
        return out
    with catalog.session() as s:
        for item_id, title, description in s.execute(
                select(Item.id, Item.title, Item.description).where(Item.id.in_(item_ids))):
            out[item_id][0].extend(t for t in (title, description) if t)
        for item_id, text, cues in s.execute(
                select(File.item_id, FileText.text, FileText.cues)
                .join(FileText, FileText.file_id == File.id)
                .where(File.item_id.in_(item_ids)).order_by(File.path)):
            out[item_id][0].append(text)
            if cues:
                out[item_id][1].append(cues)
    return out


def _missing(catalog: Catalog, item_ids: list[int]) -> dict[int, list[str]]:
    """item id -> paths of its files found missing (ingest or `archive verify`): the item is
    still found, its description still true, and the hit says the file is gone (#11)."""
    out: dict[int, list[str]] = {}
    if item_ids:
        with catalog.session() as s:
            for item_id, path in s.execute(
                    select(File.item_id, File.path).where(File.item_id.in_(item_ids),
                                                          File.status == "missing")
                    .order_by(File.path)):
                out.setdefault(item_id, []).append(path)
    return out


# -- the search ------------------------------------------------------------------------------

def _filters(options: SearchOptions) -> list[wq.Query]:
    filters: list[wq.Query] = []
    if options.scientist:
        filters.append(_scientist_filter(options.scientist))
    if options.type:
        filters.append(_type_filter(options.type))
    if options.year_from is not None or options.year_to is not None:
        if options.year_from is not None and options.year_to is not None and \
                options.year_from > options.year_to:
            raise QueryError(f"--from {options.year_from} is after --to {options.year_to}")
        filters.append(_range(Range("date", options.year_from, options.year_to)))
    return filters


# Restricted and closed items are masked out: the few are excluded, rather than the many
# open ones intersected with every query. A sealed item whose day has come is open
# (archive/access.py): its sealing date is in the index, so it opens with no reindex.
_NOT_PUBLIC = wq.Or([wq.Term("access", "restricted"), wq.Term("access", "closed")])


def not_public_query(day: dt.date) -> wq.Query:
    """The documents hidden from the public on `day`: restricted or closed, not yet unsealed."""
    return wq.AndNot(_NOT_PUBLIC, wq.NumericRange("access_until", 1, day_number(day)))


class ExactTopCollector(collectors.TopCollector):
    """Whoosh's TopCollector, counting every match. Every few matches Whoosh replaces the
    matcher with one tuned for the lowest score still in the top N, and that replacement drops
    branches (or the whole query: AndMaybe, Intersection) that cannot beat it: the rest of the
    matches are never visited, so the total, and the facets recorded from the same matches,
    depended on the limit, the page and how the build spread documents over segments (`究所`:
    639 at --limit 1, 14,713 at --offset 990, on one index). Replacing with no minimum keeps
    the cheap part, dropping exhausted branches, and never skips a match."""

    matcher: Any  # set by Whoosh for each segment

    def __init__(self, limit: int):
        super().__init__(limit, usequality=False)

    def matches(self) -> Iterator[int]:
        matcher: Any = self.matcher
        countdown: int = self.replace
        while matcher.is_active():
            yield matcher.id()
            matcher.next()
            countdown -= 1
            if countdown <= 0:
                self.matcher = matcher = matcher.replace(0)
                countdown = self.replace


@dataclass(frozen=True)
class _Collected:
    """What one pass over the index found, read out of Whoosh (no lazy segment reads left)."""
    total: int
    page: list[tuple[float, dict[str, Any]]]  # (score, stored fields) of the requested page
    docnums: Any  # array of every match's global document number (with facets, Whoosh)
    codes: dict[str, Counter[int]] | None = None  # facet code counts (with facets, Tantivy)


class SearchService:
    """A searcher kept open across queries (opening an index costs more than most queries),
    checking now and then whether the index or the catalog moved on (see the module docstring:
    read-only unless `writable`)."""

    FRESHNESS_EVERY = 5.0  # seconds between checks of the catalog's mark

    def __init__(self, catalog: Catalog, writable: bool = False):
        quiet_jieba()
        self.catalog = catalog
        self.writable = writable and not catalog.immutable  # a published copy's index stays
        self.note = ""
        self.behind = 0
        self._searcher: Any = None  # a Whoosh Searcher, or a TantivySearch
        self._state: IndexState | None = None
        self._identity: tuple[int, str] | None = None
        self._checked = 0.0
        self._codes: CodeTables | None = None
        self._hidden: tuple[Any, dt.date, set[int]] | None = None
        self._names: dict[int, str] = {}

    def _current(self) -> Any:
        now = time.monotonic()
        if self._searcher is not None and now - self._checked <= self.FRESHNESS_EVERY:
            return self._searcher
        self._checked = now
        if self.writable:
            if self._searcher is None:
                open_index(self.catalog)  # missing, damaged or another version: say so now
            stale = freshness(self.catalog)
            if stale.stale:
                n = update(self.catalog)
                self.note = f"the index was behind the catalog ({stale.reason}); " \
                            f"updated {n} item(s)"
        identity = _index_identity(self.catalog.settings.index_dir)
        tantivy = self.catalog.settings.search_engine == "tantivy"
        if self._searcher is None or identity != self._identity:
            # First use, or a rebuild swapped in a new folder: open it afresh (refresh()
            # compares generations, and a new index may start at the old one's number).
            self.close()
            ix = open_index(self.catalog)
            if tantivy:
                from search.engines.tantivy import TantivySearch
                self._searcher = TantivySearch(ix, self.catalog.settings.index_dir)
            else:
                self._searcher = ix.searcher()
        elif tantivy:
            self._searcher.refresh()
        else:
            with damage_guard(self.catalog.settings.index_dir):
                self._searcher = self._searcher.refresh()
        self._identity = identity
        self._state = read_state(self.catalog.settings.index_dir)
        if not self.writable:
            self.behind = items_behind(self.catalog, self._state) if self._state else 0
            self.note = (f"the index is behind the catalog by {self.behind} item(s); "
                         "results are from the index as it is") if self.behind else ""
        return self._searcher

    def _code_tables(self, searcher: Searcher) -> CodeTables:
        if self._codes is None or self._codes.searcher is not searcher:
            self._codes = CodeTables(searcher)
        return self._codes

    def _not_public(self, searcher: Searcher) -> set[int]:
        """The restricted and closed documents, found once per searcher: given as a query,
        Whoosh ran it again for every search (16 ms a query at 20,000 items)."""
        day = today()
        if self._hidden is None or self._hidden[0] is not searcher or self._hidden[1] != day:
            self._hidden = (searcher, day, set(searcher.docs_for_query(not_public_query(day))))
        return self._hidden[2]

    def _scientist_names(self, codes: list[int]) -> dict[int, str]:
        """Scientist ids to preferred names, asking the catalog only for ids not seen yet."""
        missing = [c for c in codes if c not in self._names]
        if missing:
            with self.catalog.session() as s:
                self._names.update(s.execute(select(Scientist.id, Scientist.name)
                                             .where(Scientist.id.in_(missing))).all())
        return {c: self._names[c] for c in codes if c in self._names}

    def close(self) -> None:
        if self._searcher is not None:
            self._searcher.close()
            self._searcher = None
            self._codes = None
            self._hidden = None

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
        if self.catalog.settings.search_engine == "tantivy":
            return self._search_tantivy(searcher, node, options)
        reader = searcher.reader()
        node = complete_names(node, lambda text: _is_whole_name(text, reader))
        main = compile_query(node, reader)
        filters = _filters(options)
        query = wq.And([main, *filters]) if filters else main
        ranked = not filters_only(node)
        with damage_guard(self.catalog.settings.index_dir):
            found = self._collect(searcher, query, ranked, options)
        return self._result(found, node, ranked, options)

    def _search_tantivy(self, searcher: Any, node: Node | None,
                        options: SearchOptions) -> SearchResult:
        c = searcher.compiler()
        node = complete_names(node, lambda text: any(
            len(k) >= 2 and c.is_key(k) for k in name_keys(text)))
        ranked = not filters_only(node)
        query = c.combine([_tantivy_query(n, c) for n in
                           ([node] if node is not None else []) + _option_nodes(options)], [])
        if not options.include_restricted:
            query = c.public_only(query, day_number(today()))
        total, page, codes = searcher.run(query, ranked, options.limit, options.offset,
                                          options.facets)
        return self._result(_Collected(total, page, None, codes), node, ranked, options)

    def _collect(self, searcher: Searcher, query: wq.Query, ranked: bool,
                 options: SearchOptions) -> _Collected:
        """The one pass over the index that ranks (or sorts by date) and counts every match,
        recording each match's document number for the facets."""
        limit = options.offset + options.limit
        collector: collectors.Collector
        if ranked:
            collector = ExactTopCollector(limit)
        else:
            # Nothing ranks: hits in date order (undated last), accession breaking ties.
            collector = searcher.collector(limit=limit, sortedby=[
                sorting.FieldFacet("date_sort"), sorting.FieldFacet("accession")])
        recorder = RecordingCollector(collector) if options.facets else None
        top: collectors.Collector = recorder or collector
        if not options.include_restricted:
            top = collectors.FilterCollector(top, restrict=self._not_public(searcher))
        searcher.search_with_collector(query, top)
        results = top.results()
        page = [(hit.score, dict(hit.fields()))
                for hit in results[options.offset:options.offset + options.limit]]
        return _Collected(len(results), page, recorder.docnums if recorder else None)

    def _result(self, found: _Collected, node: Node | None, ranked: bool,
                options: SearchOptions) -> SearchResult:
        patterns = match_patterns(node)
        texts = _texts(self.catalog, [fields["item_id"] for _, fields in found.page]) \
            if patterns else {}
        missing = _missing(self.catalog, [fields["item_id"] for _, fields in found.page])
        hits = []
        for score, fields in found.page:
            item_texts, cue_lists = texts.get(fields["item_id"], ([], []))
            at = next((t for cues in cue_lists if (t := best_cue(cues, node)) is not None),
                      None)
            duration = fields.get("duration")
            hits.append({
                "accession": fields["accession"], "title": fields.get("title_stored", ""),
                "scientist": fields.get("scientist_name") or None, "type": fields["type"],
                "date": fields.get("date") or None,
                "duration": duration if duration is not None and duration >= 0 else None,
                "path": fields.get("path") or None,
                "score": round(float(score), 4) if ranked and score is not None else None,
                "snippet": make_snippet("\n".join(item_texts), patterns) if patterns else "",
                "at_seconds": at,
                "missing": missing.get(fields["item_id"], []),
            })
        facets = {}
        if found.codes is not None:
            facets = label_counts({facet: found.codes[field]
                                   for facet, field in CODE_FIELDS.items()},
                                  self._scientist_names)
        elif found.docnums is not None:
            assert self._searcher is not None
            with damage_guard(self.catalog.settings.index_dir):
                codes = self._code_tables(self._searcher)
            facets = codes.count(found.docnums, self._scientist_names)
        note = self.note
        if found.total == 0 and (loose := loose_name_words(node)) is not None:
            hint = f'to search for the scientist "{loose[0]} {loose[1]}", quote the name: ' \
                   f'scientist:"{loose[0]} {loose[1]}"'
            note = f"{note}; {hint}" if note else hint
        return SearchResult(found.total, hits, facets, note, self.behind)


def _index_identity(index_dir: Path) -> tuple[int, str] | None:
    """Which build of the index is in the folder: a rebuild swaps in a new folder."""
    state = read_state(index_dir)
    try:
        return (index_dir.stat().st_ino, state.built_at) if state else None
    except OSError:
        return None


def _is_whole_name(text: str, reader) -> bool:  # type: ignore[no-untyped-def]
    """Whether a written form of a name is some indexed scientist's whole name."""
    return any(len(k) >= 2 and reader.doc_frequency("scientist", k) for k in name_keys(text))


def search(catalog: Catalog, options: SearchOptions, writable: bool = True) -> SearchResult:
    """One search (the CLI's). A writable search brings an index behind the catalog up to date
    first; a missing, busy or damaged index raises IndexProblem."""
    with SearchService(catalog, writable) as service:
        return service.search(options)
