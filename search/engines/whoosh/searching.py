"""Running a compiled query on a Whoosh index: one pass that ranks (or sorts by date) and
counts every match exactly, records the matches' document numbers for the facets, and leaves
out what the visibility filter hides."""
from __future__ import annotations

from array import array
from collections import Counter, OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from whoosh import collectors, sorting
from whoosh import query as wq

from search.compile import compile_tree
from search.engines import Found
from search.engines.whoosh.compiler import Compiler
from search.engines.whoosh.store import damage_guard
from search.facets import CODE_FIELDS
from search.query import Node, Not

FILTERS_KEPT = 16  # visibility filters' document sets kept per searcher (one per kind of viewer)


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


class RecordingCollector(collectors.WrappingCollector):
    """Passes every match on to the ranking collector, keeping its global document number."""

    def __init__(self, child: collectors.Collector):
        super().__init__(child)
        self.docnums = array("I")

    def collect(self, sub_docnum: int):  # type: ignore[no-untyped-def]
        self.docnums.append(self.offset + sub_docnum)
        return self.child.collect(sub_docnum)


class CodeTables:
    """Each facet's codes for every document of one searcher, as one array indexed by global
    document number: sortable numeric columns load with a single read per segment. Whoosh's
    own grouping (`groupedby`) ranked every match and read each value through several Python
    calls: 3.1 s of a 3.3 s facet query at 500,000 items (docs/PERFORMANCE.md)."""

    def __init__(self, searcher: Any) -> None:
        self.codes: dict[str, array] = {}
        for field_name in CODE_FIELDS.values():
            table = array("I")
            for sub, _ in searcher.leaf_searchers():
                reader = sub.reader()
                values = reader.column_reader(field_name, translate=False).load()
                table.extend(values)
                # A column stops at its last value: pad to the segment's size, so the next
                # segment's documents start at their own global numbers.
                table.extend([0] * (reader.doc_count_all() - len(values)))
            self.codes[field_name] = table

    def count(self, docnums: array) -> dict[str, Counter[int]]:
        """code field -> {code: matches} for these documents: a C-speed map over an array."""
        return {name: Counter(map(table.__getitem__, docnums))
                for name, table in self.codes.items()}


class WhooshSearch:
    """A Whoosh searcher kept open across queries, with what it worked out once (facet code
    tables, the documents each visibility filter hides) until the index changes."""

    def __init__(self, index: Any, folder: Path):
        self.folder = folder
        self.searcher: Any = index.searcher()
        self._codes: CodeTables | None = None
        self._filters: OrderedDict[Node, set[int]] = OrderedDict()

    def refresh(self) -> None:
        with damage_guard(self.folder):
            fresh = self.searcher.refresh()
        if fresh is not self.searcher:
            self.searcher = fresh
            self._codes = None
            self._filters.clear()

    def is_key(self, key: str) -> bool:
        return bool(self.searcher.reader().doc_frequency("scientist", key))

    def compiler(self) -> Compiler:
        return Compiler(self.is_key)

    def _docs(self, node: Node) -> set[int]:
        """The documents a filter node matches, found once per searcher: given as a query,
        Whoosh ran it again for every search (16 ms a query at 20,000 items)."""
        if node not in self._filters:
            query = compile_tree(node, self.compiler(), names=False)
            self._filters[node] = set(self.searcher.docs_for_query(query))
            while len(self._filters) > FILTERS_KEPT:
                self._filters.popitem(last=False)
        self._filters.move_to_end(node)
        return self._filters[node]

    def run(self, query: wq.Query, visible: Node | None, ranked: bool, limit: int,
            offset: int, facets: bool) -> Found:
        with damage_guard(self.folder):
            return self._run(query, visible, ranked, limit, offset, facets)

    def _run(self, query: wq.Query, visible: Node | None, ranked: bool, limit: int,
             offset: int, facets: bool) -> Found:
        searcher = self.searcher
        collector: collectors.Collector
        if ranked:
            collector = ExactTopCollector(offset + limit)
        else:
            # Nothing ranks: hits in date order (undated last), accession breaking ties.
            collector = searcher.collector(limit=offset + limit, sortedby=[
                sorting.FieldFacet("date_sort"), sorting.FieldFacet("accession")])
        recorder = RecordingCollector(collector) if facets else None
        top: collectors.Collector = recorder or collector
        if isinstance(visible, Not):  # the few hidden documents are masked out
            top = collectors.FilterCollector(top, restrict=self._docs(visible.node))
        elif visible is not None:
            top = collectors.FilterCollector(top, allow=self._docs(visible))
        searcher.search_with_collector(query, top)
        results = top.results()
        page = [(hit.score, dict(hit.fields())) for hit in results[offset:offset + limit]]
        codes = None
        if recorder is not None:
            if self._codes is None:
                self._codes = CodeTables(searcher)
            codes = self._codes.count(recorder.docnums)
        return Found(len(results), page, codes)

    def close(self) -> None:
        self.searcher.close()
