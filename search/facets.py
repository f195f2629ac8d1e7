"""Facets: the small integer codes written into every document (type, scientist, decade) and
their labels. Each engine counts the codes of a query's matches (search/engines/*); this
module turns the counts into what a reader sees.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from archive.fields import FACETS, MATERIAL_TYPES

# The index field holding each facet's code; 0 means "none" and is never counted.
CODE_FIELDS = {facet: f"{facet}_code" for facet in FACETS}


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
