"""Facet counts for a query: the matching documents' numbers are recorded during the one pass
that ranks and counts them, then looked up in arrays of small integer codes, one per facet,
loaded once per searcher.

Whoosh's own grouping (`groupedby`) ranked every match instead of the top page and read each
match's facet value through several Python calls per facet: 3.1 s of a 3.3 s facet query at
500,000 items (docs/PERFORMANCE.md). Here counting is a C-speed map over an array.
"""
from __future__ import annotations

from array import array
from collections import Counter
from collections.abc import Callable

from whoosh import collectors

from archive.fields import MATERIAL_TYPES

FACETS = ("type", "scientist", "decade")
# The index field holding each facet's code; 0 means "none" and is never counted.
CODE_FIELDS = {"type": "type_code", "scientist": "scientist_code", "decade": "decade_code"}


# -- codes, written at indexing time (search.documents) and read back here ---------------------

def type_code(material: str) -> int:
    """1-based position in MATERIAL_TYPES. Reordering that tuple needs a new SCHEMA_VERSION."""
    return MATERIAL_TYPES.index(material) + 1 if material in MATERIAL_TYPES else 0


def decade_code(year: int) -> int:
    return year // 10 + 1


def type_label(code: int) -> str:
    return MATERIAL_TYPES[code - 1]


def decade_label(code: int) -> str:
    return f"{(code - 1) * 10}s"


# -- collecting ---------------------------------------------------------------------------------

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
    document number: sortable numeric columns load with a single read per segment."""

    def __init__(self, searcher) -> None:  # type: ignore[no-untyped-def]
        self.searcher = searcher
        self.codes: dict[str, array] = {}
        for facet, field_name in CODE_FIELDS.items():
            table = array("I")
            for sub, _ in searcher.leaf_searchers():
                reader = sub.reader()
                values = reader.column_reader(field_name, translate=False).load()
                table.extend(values)
                # A column stops at its last value: pad to the segment's size, so the next
                # segment's documents start at their own global numbers.
                table.extend([0] * (reader.doc_count_all() - len(values)))
            self.codes[facet] = table

    def count(self, docnums: array,
              scientist_names: Callable[[list[int]], dict[int, str]]) -> dict[str, dict[str, int]]:
        """facet -> {label: count} for these documents (see label_counts)."""
        return label_counts({facet: Counter(map(table.__getitem__, docnums))
                             for facet, table in self.codes.items()}, scientist_names)


def label_counts(counts: dict[str, Counter[int]],
                 scientist_names: Callable[[list[int]], dict[int, str]]
                 ) -> dict[str, dict[str, int]]:
    """facet -> {label: count} from facet -> {code: count}, most frequent first, then by label
    (either engine's counts). Scientists' names come from the catalog (the codes are their ids);
    the other labels are fixed; code 0 ("none") is never counted."""
    labels: dict[str, Callable[[list[int]], dict[int, str]]] = {
        "type": lambda codes: {c: type_label(c) for c in codes},
        "scientist": scientist_names,
        "decade": lambda codes: {c: decade_label(c) for c in codes}}
    out: dict[str, dict[str, int]] = {}
    for facet in FACETS:
        found = Counter(counts.get(facet, {}))
        found.pop(0, None)
        names = labels[facet](sorted(found))
        merged: Counter[str] = Counter()
        for code, n in found.items():
            if code in names:
                merged[names[code]] += n
        out[facet] = dict(sorted(merged.items(), key=lambda kv: (-kv[1], kv[0])))
    return out
