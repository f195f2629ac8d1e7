"""Running a query: the parsed tree becomes Whoosh queries, public-only unless asked, with
facets, snippets cut from the catalog's text and, for transcripts, the time of the match."""
from __future__ import annotations

import html
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from whoosh import query as wq
from whoosh import sorting
from whoosh.highlight import ContextFragmenter, Formatter, get_text

from archive.catalog import Catalog
from archive.errors import QueryError
from archive.fields import MATERIAL_TYPES, type_word
from archive.models import File, FileText, Item
from archive.names import name_keys
from search.analysis import cjk_terms, quiet_jieba, word_analyzer
from search.index import Freshness, damage_guard, freshness, open_index, update
from search.query import And, Field, Node, Not, Or, Range, Text, parse_query

FACETS = ("type", "scientist", "decade")
_FACET_FIELDS = {"type": "type", "scientist": "scientist_name", "decade": "decade"}
MAX_LIMIT = 1000


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

    def to_json(self) -> dict[str, Any]:
        return {"total": self.total, "hits": self.hits, "facets": self.facets}


# -- compiling the query tree ------------------------------------------------------------------

def _text_query(field_name: str, value: str, phrase: bool) -> wq.Query | None:
    """Bigram/word terms of `value` in one field: a phrase keeps them in order, free words only
    need all of them. A single Han character is found by prefix (see search.analysis)."""
    terms = [t for t, _, _ in cjk_terms(value, trailing_unigram=False)]
    if not terms:
        return None
    from whoosh.lang.porter import stem
    terms = [stem(t) if t.isascii() else t for t in terms]
    if len(terms) == 1:
        t = terms[0]
        if len(t) == 1 and not t.isascii():
            return wq.Prefix(field_name, t)
        return wq.Term(field_name, t)
    if phrase or any(not t.isascii() for t in terms):
        # Han text is always matched as written: 导弹研究 must not match 研究 … 导弹.
        return wq.Phrase(field_name, terms)
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


def _scientist_filter(name: str) -> wq.Query:
    keys = sorted(name_keys(name))
    if not keys:
        raise QueryError(f"scientist:{name!r} has no letters or characters to match")
    return wq.Or([wq.Term("scientist", k) for k in keys])


def _type_filter(value: str) -> wq.Query:
    material = type_word(value)
    if material is None:
        raise QueryError(f"unknown type {value!r}; use one of {', '.join(MATERIAL_TYPES)}")
    return wq.Term("type", material)


def _range(node: Range) -> wq.Query:
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
        query = _free_text(node.value, node.phrase, ("title", "content", "words")
                           if not node.phrase else ("title", "content"))
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
        return wq.Not(compile_query(node.node, reader))
    if isinstance(node, Or):
        return wq.Or([compile_query(n, reader) for n in node.nodes])
    return wq.And(_and_parts(node, reader))


def _and_parts(node: And, reader) -> list[wq.Query]:  # type: ignore[no-untyped-def]
    """Adjacent free words may be one name ("Qian Xuesen", "Tsien Hsue-shen"): try them
    together as a scientist before taking them one by one."""
    parts: list[wq.Query] = []
    nodes = list(node.nodes)
    i = 0
    while i < len(nodes):
        n = nodes[i]
        run = []
        while i + len(run) < len(nodes) and isinstance(nodes[i + len(run)], Text) and \
                nodes[i + len(run)].field is None and not nodes[i + len(run)].phrase:  # type: ignore[union-attr]
            run.append(nodes[i + len(run)])
        if len(run) >= 2 and reader is not None:
            names = _name_match(" ".join(t.value for t in run), reader)  # type: ignore[union-attr]
            if names is not None:
                words = wq.And([compile_query(t, None) for t in run])
                parts.append(wq.Or([words, names]))
                i += len(run)
                continue
        parts.append(compile_query(n, reader))
        i += 1
    return parts


def _name_match(text: str, reader) -> wq.Query | None:  # type: ignore[no-untyped-def]
    keys = [k for k in name_keys(text) if len(k) >= 2 and reader.doc_frequency("scientist", k)]
    return wq.Or([wq.Term("scientist", k) for k in keys]) if keys else None


# -- snippets and timecodes --------------------------------------------------------------------

class _MarkFormatter(Formatter):
    """Matches in <mark>, the rest HTML-escaped: safe to put in a page as it is."""

    between = " … "

    def format_token(self, text, token, replace=False):  # type: ignore[no-untyped-def]
        return "<mark>" + html.escape(get_text(text, token, replace)) + "</mark>"

    def format_fragment(self, fragment, replace=False):  # type: ignore[no-untyped-def]
        out, index = [], fragment.startchar
        text = fragment.text
        for t in fragment.matches:
            if t.startchar < index:
                continue
            out.append(html.escape(text[index:t.startchar]))
            out.append(self.format_token(text, t, replace))
            index = t.endchar
        out.append(html.escape(text[index:fragment.endchar]))
        return "".join(out)


def _query_terms(node: Node | None) -> set[str]:
    """The folded terms a reader would see highlighted: free text and title words."""
    if node is None or isinstance(node, (Field, Range, Not)):
        return set()
    if isinstance(node, Text):
        from whoosh.lang.porter import stem
        return {stem(t) if t.isascii() else t
                for t, _, _ in cjk_terms(node.value, trailing_unigram=False)}
    out: set[str] = set()
    for n in node.nodes:
        out |= _query_terms(n)
    return out


def _best_cue(cues: list[list[Any]], terms: set[str]) -> float | None:
    """Start (s) of the cue holding most of the query's terms: where the words are said."""
    best, best_score = None, 0
    for start, _end, text in cues:
        found = {t for t, _, _ in cjk_terms(text)}
        from whoosh.lang.porter import stem
        found |= {stem(t) for t in found if t.isascii()}
        score = len(terms & found)
        if score > best_score:
            best, best_score = float(start), score
    return best


def _snippet_and_time(catalog: Catalog, hit, terms: set[str]) -> tuple[str, float | None]:  # type: ignore[no-untyped-def]
    if not terms:
        return "", None
    with catalog.session() as s:
        item = s.get(Item, hit["item_id"])
        rows = s.execute(select(FileText.text, FileText.cues).join(File, File.id ==
                                                                   FileText.file_id)
                         .where(File.item_id == hit["item_id"])).all()
    at = None
    for _text, cues in rows:
        if cues:
            at = _best_cue(cues, terms)
            if at is not None:
                break
    texts = [item.title or "", item.description or ""] + [t for t, _ in rows]
    source = "\n".join(t for t in texts if t)[:200_000]
    try:
        snippet = hit.highlights("content", text=source, top=2)
    except Exception:  # highlighting is a courtesy: never fail a search over it
        snippet = ""
    return snippet, at


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
    if not options.include_restricted:
        filters.append(wq.Term("access", "open"))
    return filters


def search(catalog: Catalog, options: SearchOptions, refresh: bool = True) -> SearchResult:
    """Search the index. With `refresh`, an index behind the catalog is brought up to date
    first (a quick incremental update); a missing or damaged one raises IndexProblem."""
    quiet_jieba()
    if not 1 <= options.limit <= MAX_LIMIT:
        raise QueryError(f"--limit must be between 1 and {MAX_LIMIT}")
    node = parse_query(options.query)
    note = ""
    state: Freshness = freshness(catalog)
    ix = open_index(catalog)
    if state.stale and refresh:
        n = update(catalog)
        note = f"the index was behind the catalog ({state.reason}); updated {n} item(s)"
        ix = open_index(catalog)
    with damage_guard(catalog.settings.index_dir), ix.searcher() as searcher:
        main = compile_query(node, searcher.reader())
        filters = _filters(options)
        query = wq.And([main, *filters]) if filters else main
        kwargs: dict[str, Any] = {}
        if options.facets:
            kwargs["groupedby"] = {name: sorting.FieldFacet(_FACET_FIELDS[name])
                                   for name in FACETS}
            kwargs["maptype"] = sorting.Count
        if node is None:
            kwargs["sortedby"] = [sorting.FieldFacet("date_sort"),
                                  sorting.FieldFacet("accession")]
        results = searcher.search(query, limit=options.offset + options.limit, terms=True,
                                  **kwargs)
        results.fragmenter = ContextFragmenter(maxchars=120, surround=40)
        results.formatter = _MarkFormatter()
        terms = _query_terms(node)
        hits = []
        for hit in results[options.offset:options.offset + options.limit]:
            snippet, at = _snippet_and_time(catalog, hit, terms)
            duration = hit.get("duration")
            hits.append({
                "accession": hit["accession"], "title": hit.get("title_stored", ""),
                "scientist": hit.get("scientist_name") or None, "type": hit["type"],
                "date": hit.get("date") or None,
                "duration": duration if duration not in (None, -1) else None,
                "path": hit.get("path") or None,
                "score": round(float(hit.score), 4) if node is not None else None,
                "snippet": snippet, "at_seconds": at,
            })
        facets = {}
        if options.facets:
            for name in FACETS:
                groups = results.groups(name)
                facets[name] = dict(sorted(((k, v) for k, v in groups.items() if k),
                                           key=lambda kv: (-kv[1], kv[0])))
        return SearchResult(len(results), hits, facets, note)
