"""The Tantivy engine (the `tantivy` package, Rust): the same documents, analysis and query
tree as the Whoosh engine, compiled to Tantivy (search.compile). Only this module imports
tantivy. The Engine protocol of search.engines: exists, create, open_index, writer, searcher,
prepare.

Our analysis stays ours: every text field is given to Tantivy as its terms (the folded
bigrams, stems and jieba words of search.analysis) joined by spaces, which Tantivy's
whitespace tokenizer (TERMS) splits at sequential positions, so phrase queries mean what they
mean with Whoosh. Keyword fields use the `raw` tokenizer (one term per value).
Totals come from `search(..., count=True)` (exact), facets from a terms aggregation over the
small integer code fields, filter-only queries in date order from the `date_sort` fast field.
"""
from __future__ import annotations

import contextlib
import functools
import os
import re
import shutil
import time
import weakref
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import tantivy

from archive.errors import IndexBusy, IndexDamaged, QueryError
from search.analysis import (
    index_terms,
    query_terms,
    query_words,
    stem_word,
    word_terms,
    words_imply_terms,
)
from search.compile import restrict
from search.engines import Found
from search.engines.links import private_folder
from search.query import Node

Occur = tantivy.Occur
Query = tantivy.Query
PREPARES = True  # prepare() is our analysis: a rebuild runs it in worker processes
WRITER_HEAP = 128_000_000  # bytes Tantivy buffers before writing a segment
UNDATED = 99_999_999  # date_sort of an undated item: after every dated one

RAW = ("accession", "type", "access", "hidden", "scientist", "format", "years")
POSITIONAL = ("title", "content", "collection", "words")
INTEGERS = ("item_id", "year_start", "year_end", "date_sort", "duration", "access_until")
CODES = ("type_code", "scientist_code", "decade_code")
STORED = ("scientist_name", "date", "path", "title_stored")
MULTI = ("scientist", "format", "years")  # space-separated lists in a document
FACETS = {code: {"terms": {"field": code, "size": 65_000}} for code in CODES}


# The text fields' terms are ours (search.analysis), given as one string of terms separated by
# spaces: Tantivy's whitespace tokenizer splits them again in Rust, each at the next position,
# which is exactly our sequential positions (no term holds a space: they are runs of letters,
# digits and apostrophes). Handing Tantivy a `PreTokenizedString` of a `Token` per term cost a
# third of a rebuild in Python (docs/PERFORMANCE.md); its JSON form (`add_json`) more still.
TERMS = "archive_terms"


def _terms_analyzer() -> tantivy.TextAnalyzer:
    return tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.whitespace()).build()


def _registered(index: tantivy.Index) -> tantivy.Index:
    """The index with our TERMS tokenizer, which every writer needs (Tantivy keeps the name
    in the schema, not the tokenizer)."""
    index.register_tokenizer(TERMS, _terms_analyzer())
    return index


def build_schema() -> tantivy.Schema:
    b = tantivy.SchemaBuilder()
    for name in RAW:
        b.add_text_field(name, stored=name in ("accession", "type"), tokenizer_name="raw",
                         index_option="basic")
    for name in POSITIONAL:
        b.add_text_field(name, stored=False, tokenizer_name=TERMS, index_option="position")
    for name in INTEGERS:
        b.add_integer_field(name, stored=True, indexed=True, fast=True)
    for name in CODES:
        b.add_unsigned_field(name, stored=False, indexed=False, fast=True)
    for name in STORED:
        b.add_text_field(name, stored=True, tokenizer_name="raw", index_option="basic")
    return b.build()


# -- documents --------------------------------------------------------------------------------

def prepare(doc: dict[str, Any]) -> dict[str, Any]:
    """A search document (search.documents) with its text fields analysed: each becomes its
    terms (search.analysis: folded bigrams, trailing unigrams, stems; jieba words for `words`)
    in position order, joined by spaces for the TERMS tokenizer. Pure Python and picklable,
    so worker processes can do it for a rebuild (search.index)."""
    out = dict(doc)
    for name in ("title", "content", "collection"):
        if doc.get(name):
            out[name] = " ".join(index_terms(doc[name]))
    if doc.get("words"):
        out["words"] = " ".join(stem_word(w) if w.isascii() else w
                                for w in word_terms(doc["words"]))
    return out


def to_document(prepared: dict[str, Any]) -> tantivy.Document:
    """A prepared document (`prepare`) as a Tantivy document."""
    d = tantivy.Document()
    for name in RAW:
        value = prepared.get(name)
        if value in (None, ""):
            continue
        for part in (str(value).split() if name in MULTI else [str(value)]):
            d.add_text(name, part)
    for name in POSITIONAL:
        if prepared.get(name):
            d.add_text(name, prepared[name])
    for name in INTEGERS:
        if prepared.get(name) is not None:
            d.add_integer(name, int(prepared[name]))
    if prepared.get("date_sort") is None:
        d.add_integer("date_sort", UNDATED)
    for name in CODES:
        d.add_unsigned(name, int(prepared.get(name) or 0))
    for name in STORED:
        if prepared.get(name):
            d.add_text(name, str(prepared[name]))
    return d


@contextmanager
def damage_guard(folder: Path) -> Iterator[None]:
    """Tantivy reading damaged files: a ValueError or OSError, or a Rust panic, which reaches
    Python as pyo3's PanicException (a BaseException, so Ctrl-C is let through by name)."""
    try:
        yield
    except (ValueError, OSError) as exc:
        raise IndexDamaged(f"the search index at {folder} is damaged ({exc}); rebuild it "
                           "with `archive reindex`") from None
    except BaseException as exc:
        if type(exc).__name__ != "PanicException":
            raise
        raise IndexDamaged(f"the search index at {folder} is damaged (Tantivy: {exc}); "
                           "rebuild it with `archive reindex`") from None


def create(folder: Path) -> tantivy.Index:
    return _registered(tantivy.Index(build_schema(), str(folder)))


def exists(folder: Path) -> bool:
    return folder.is_dir() and tantivy.Index.exists(str(folder))


class Opened:
    """An opened index, and the private folder it is read through when its own folder may not
    be written (a published copy, read-only media).

    Tantivy's reader takes a lock file in the index folder even to read (tantivy issue 557;
    the bindings expose no read-only directory), so it cannot open a folder it may not write.
    Then the index is opened from a private temporary folder of symbolic links to its files:
    Tantivy's lock files go there, nothing is copied and nothing is written beside the index.
    A process killed before removing its folder leaves it to the next one (search.engines.links).
    The links follow the index's files as a writer elsewhere adds and drops segments (sync)."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.private: Path | None = None
        self._cleanup: weakref.finalize | None = None
        if not os.access(folder, os.W_OK):
            self.private = private_folder()  # removed on close or exit; if killed, by the next
            self._cleanup = weakref.finalize(self, shutil.rmtree, self.private, True)
            self.sync()
        self.index = _registered(tantivy.Index.open(str(self.private or folder)))

    def sync(self) -> None:
        """Link every file of the index into the private folder, drop links to files gone."""
        if self.private is None:
            return
        names = {p.name for p in self.folder.iterdir()
                 if p.is_file() and not p.name.startswith(".tantivy-")}  # not its lock files
        linked = {p.name for p in self.private.iterdir() if p.is_symlink()}
        for name in sorted(names - linked):
            (self.private / name).symlink_to(self.folder / name)
        for name in linked - names:
            (self.private / name).unlink(missing_ok=True)

    def reload(self) -> None:
        try:
            self.sync()
            self.index.reload()
        except ValueError:
            if self.private is None:
                raise
            self.sync()  # a writer elsewhere committed between the links and the reload
            self.index.reload()

    def close(self) -> None:
        if self._cleanup is not None:
            self._cleanup()


def open_index(folder: Path) -> Opened:
    """The index, with every segment's files opened and, in each, a first document and its
    postings read, so that damage shows here. A bounded amount of work at any size: reading
    every posting list (a query for any term) took longer the larger the index, and every
    search, catch-up and update opens the index."""
    with damage_guard(folder):
        opened = Opened(folder)
        searcher = opened.index.searcher()  # opens each segment's terms, store, fast fields
        schema = opened.index.schema
        for segment in range(searcher.num_segments):
            stored = searcher.doc(tantivy.DocAddress(segment, 0)).to_dict()
            for accession in stored.get("accession", [])[:1]:
                searcher.search(Query.term_query(schema, "accession", accession), 1, count=True)
        return opened


def _writer(index: tantivy.Index, wait: float, threads: int = 1) -> tantivy.IndexWriter:
    """A writer, waiting up to `wait` seconds for another process's to finish (Tantivy allows
    one per index, with a lock file)."""
    deadline = time.monotonic() + wait
    while True:
        try:
            return index.writer(heap_size=WRITER_HEAP, num_threads=max(1, threads))
        except ValueError as exc:
            if "lock" not in str(exc).lower():
                raise
            if time.monotonic() >= deadline:
                raise IndexBusy(f"the search index is being written by another process and "
                                f"was still busy after {wait:.0f} s; try again later") from None
            time.sleep(0.25)


class Writer:
    """The index's one writer: drop an item's document, add one, commit or cancel."""

    def __init__(self, index: tantivy.Index | Opened, folder: Path, wait: float,
                 procs: int = 1):
        self.folder = folder
        self.writer = _writer(index.index if isinstance(index, Opened) else index, wait, procs)

    def delete(self, item_id: int) -> None:
        with damage_guard(self.folder):
            self.writer.delete_documents_by_term("item_id", item_id)

    def add(self, doc: dict[str, Any]) -> None:
        self.writer.add_document(to_document(prepare(doc)))

    def add_prepared(self, prepared: dict[str, Any]) -> None:
        self.writer.add_document(to_document(prepared))

    def commit(self) -> None:
        with damage_guard(self.folder):
            self.writer.commit()
            self.writer.wait_merging_threads()  # merging reads the old segments

    def cancel(self) -> None:
        # On a damaged index the rollback may fail too; the caller already knows it is
        # damaged (and rebuilds into a new folder, which needs no lock of this one).
        with contextlib.suppress(IndexDamaged), damage_guard(self.folder):
            self.writer.rollback()
            self.writer.wait_merging_threads()  # drops the writer: its lock goes with it


def writer(index: tantivy.Index | Opened, folder: Path, wait: float, procs: int = 1) -> Writer:
    return Writer(index, folder, wait, procs)


def searcher(index: Opened, folder: Path) -> TantivySearch:
    return TantivySearch(index, folder)


# -- queries ----------------------------------------------------------------------------------

class Compiler:
    """Tantivy queries for search.compile.compile_tree (which decides how they combine).

    An exclusion that matches no document is left out (`combine`, `everything_but`): the same
    matches, and Tantivy does not seek it at every match. The public-only filter excludes
    hidden items whose sealing date has not come (`Not(Range("access_until", 1, today))`), a
    range no document is in while no sealing date has passed; nested in the exclusion, it cost
    8-10% of every query at 500,000 items (docs/PERFORMANCE.md). Only numeric ranges are asked
    whether they match anything (`matches_any`: a look-up of the index's fast field at the
    query's searcher), and only when they are excluded."""

    def __init__(self, schema: tantivy.Schema, is_key: Callable[[str], bool],
                 matches_any: Callable[[tantivy.Query], bool] | None = None):
        self.schema = schema
        self.is_key = is_key  # is this term in the scientist field?
        self.matches_any = matches_any
        self._ranges: list[tantivy.Query] = []  # int_range's, which may match nothing

    def _matches_nothing(self, q: tantivy.Query) -> bool:
        return self.matches_any is not None and any(q is r for r in self._ranges) \
            and not self.matches_any(q)

    def term(self, field: str, value: str) -> tantivy.Query:
        return Query.term_query(self.schema, field, value)

    def any_of(self, field: str, values: list[str]) -> tantivy.Query:
        return Query.term_set_query(self.schema, field, values) if len(values) > 1 \
            else self.term(field, values[0])

    def all_of(self, parts: list[tantivy.Query]) -> tantivy.Query:
        return parts[0] if len(parts) == 1 else \
            Query.boolean_query([(Occur.Must, p) for p in parts])

    def either(self, parts: list[tantivy.Query]) -> tantivy.Query:
        return parts[0] if len(parts) == 1 else \
            Query.boolean_query([(Occur.Should, p) for p in parts])

    def text(self, field: str, value: str, phrase: bool) -> tantivy.Query | None:
        terms = query_terms(value)
        if not terms:
            return None
        if len(terms) == 1:
            t = terms[0]
            if len(t) == 1 and not t.isascii():  # one Han character: any bigram it starts
                return Query.regex_query(self.schema, field, re.escape(t) + ".*")
            return self.term(field, t)
        if phrase:
            words: list[str | tuple[int, str]] = list(terms)
            return Query.phrase_query(self.schema, field, words)
        return self.all_of([self.term(field, t) for t in terms])

    def words(self, value: str) -> tantivy.Query | None:
        terms = query_words(value)
        return self.all_of([self.term("words", t) for t in terms]) if terms else None

    def free_text(self, value: str, phrase: bool, field: str) -> tantivy.Query:
        required = self.text(field, value, phrase)
        if required is None:
            raise QueryError(f"nothing searchable in {value!r}: use letters, numbers or "
                             "characters")
        return required

    def names(self, keys: list[str]) -> tantivy.Query | None:
        found = [k for k in keys if self.is_key(k)]
        return self.any_of("scientist", found) if found else None

    def match_all(self) -> tantivy.Query:
        return Query.all_query()

    def combine(self, must: list[tantivy.Query], must_not: list[tantivy.Query]) -> tantivy.Query:
        """Every `must` query, none of the `must_not` ones (everything when `must` is empty)."""
        must_not = [q for q in must_not if not self._matches_nothing(q)]
        if not must_not:
            return self.all_of(must) if must else Query.all_query()
        clauses = [(Occur.Must, q) for q in (must or [Query.all_query()])]
        return Query.boolean_query([*clauses, *[(Occur.MustNot, q) for q in must_not]])

    def everything_but(self, q: tantivy.Query) -> tantivy.Query:
        if self._matches_nothing(q):
            return Query.all_query()
        return Query.boolean_query([(Occur.Must, Query.all_query()), (Occur.MustNot, q)])

    def year_range(self, low: int | None, high: int | None,
                   max_terms: int) -> tantivy.Query:
        if low is not None and high is not None and high - low < max_terms:
            return self.any_of("years", [str(y) for y in range(low, high + 1)])
        parts = []
        if high is not None:
            parts.append(Query.range_query(self.schema, "year_start", tantivy.FieldType.Integer,
                                           None, high))
        if low is not None:
            parts.append(Query.range_query(self.schema, "year_end", tantivy.FieldType.Integer,
                                           low, None))
        return self.all_of(parts)

    def int_range(self, field: str, low: int | None, high: int | None) -> tantivy.Query:
        q = Query.range_query(self.schema, field, tantivy.FieldType.Integer, low, high)
        self._ranges.append(q)
        return q

    def ranked_text(self, value: str, phrase: bool) -> tantivy.Query:
        """Content decides what matches; title and jieba words only add to the score.

        Asked as one union of the three clauses wherever the union matches exactly what
        content does: a title's terms are its content's first terms (search.documents), so
        the title clause never matches beyond content, and the words clause does not when
        the query's words imply its terms (`words_imply_terms`). Tantivy scores a union
        block by block; a required clause with optional ones document by document, which
        cost nearly a third of a common word's time at 500,000 items (docs/PERFORMANCE.md).
        Where the words do not imply the terms, content is required and the rest optional."""
        required = self.free_text(value, phrase, "content")
        title = self.text("title", value, phrase)  # the same terms: None only with required
        words = None if phrase else self.words(value)
        boosts = [Query.boost_query(b, weight) for b, weight in ((title, 3.0), (words, 1.0))
                  if b is not None]
        if not boosts:
            return required
        if words is None or words_imply_terms(value):
            return Query.boolean_query([(Occur.Should, q) for q in (required, *boosts)])
        return Query.boolean_query([(Occur.Must, required),
                                    *[(Occur.Should, b) for b in boosts]])


# -- searching --------------------------------------------------------------------------------

@functools.lru_cache(maxsize=1)
def _beside() -> ThreadPoolExecutor | None:
    """Threads for a query's facets, counted beside its search on another core: Tantivy's
    calls let go of Python's lock, and each walks every match alone (the bindings search a
    query on one thread), so on two cores a query with facets takes the longer of the two,
    not their sum (docs/PERFORMANCE.md). None on one core, where they would only take turns."""
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else \
        os.cpu_count() or 1
    return ThreadPoolExecutor(cores, thread_name_prefix="facets") if cores > 1 else None


# A forked child (a rebuild's workers) has none of its parent's threads: a pool of its own.
os.register_at_fork(after_in_child=_beside.cache_clear)


class TantivySearch:
    """One opened index: a searcher reloaded when the index changes."""

    def __init__(self, opened: Opened, folder: Path):
        self.opened = opened
        self.index = opened.index
        self.folder = folder
        self.schema = self.index.schema
        self.searcher = self.index.searcher()

    def refresh(self) -> None:
        with damage_guard(self.folder):
            self.opened.reload()
            self.searcher = self.index.searcher()

    def is_key(self, key: str) -> bool:
        return self.searcher.doc_freq("scientist", key) > 0

    def matches_any(self, query: tantivy.Query) -> bool:
        with damage_guard(self.folder):
            return bool(self.searcher.search(query, 1, count=True).count)  # type: ignore[attr-defined]

    def compiler(self) -> Compiler:
        return Compiler(self.schema, self.is_key, self.matches_any)

    def run(self, query: tantivy.Query, visible: Node | None, ranked: bool, limit: int,
            offset: int, facets: bool) -> Found:
        """The exact total, the page as (score, stored fields), facet code counts."""
        with damage_guard(self.folder):
            return self._run(restrict(query, visible, self.compiler()), ranked, limit, offset,
                             facets)

    def _run(self, query: tantivy.Query, ranked: bool, limit: int, offset: int,
             facets: bool) -> Found:
        searcher = self.searcher  # the same one for the page and its facets
        pool = _beside() if facets else None
        aggregation: Future[dict[str, Any]] | None = \
            pool.submit(searcher.aggregate, query, FACETS) if pool is not None else None
        if ranked:
            result = searcher.search(query, limit, count=True, offset=offset)
        else:
            result = searcher.search(query, limit, count=True, offset=offset,
                                     order_by_field="date_sort", order=tantivy.Order.Asc)
        page = []
        for score, address in result.hits:
            stored = searcher.doc(address).to_dict()
            fields = {k: v[0] for k, v in stored.items() if v}
            page.append((float(score) if ranked else None, fields))
        counts = None
        if facets:
            answer = aggregation.result() if aggregation is not None else \
                searcher.aggregate(query, FACETS)
            counts = {code: Counter({int(b["key"]): int(b["doc_count"])
                                     for b in answer[code]["buckets"]}) for code in CODES}
        total: Any = result.count  # type: ignore[attr-defined]  # count=True gives it
        return Found(int(total or 0), page, counts)

    def close(self) -> None:
        self.searcher = None  # type: ignore[assignment]
        self.opened.close()
