"""The query tree (search.query) compiled to an engine's queries by one set of rules: each
engine supplies a Compiler (the building blocks: terms, sets, ranges, boolean combinations)
and this walker decides what they are combined into, so both engines mean the same thing.

    compile_tree(Text("导弹"), c)          -> c.ranked_text("导弹") or c.names(...), either
    compile_tree(Field("type", "信件"), c) -> c.term("type", "letter")
    compile_tree(Range("date", 1950, 1959), c) -> c.year_range(1950, 1959, MAX_YEAR_TERMS)
    compile_tree(And(Text("a"), Not(Text("b"))), c) -> c.combine([a], must_not=[b])
    compile_tree(None, c)                 -> c.match_all()

Filters are query-tree nodes too (option_nodes, public_only): a filter that says who may see
what is written once here and compiled by each engine (restrict()).
"""
from __future__ import annotations

from typing import Any, Protocol

from archive.access import ACCESS_LEVELS, HIDDEN, Viewer
from archive.errors import QueryError
from archive.fields import MATERIAL_TYPES, type_word
from archive.names import has_han, name_keys
from search.keys import PART
from search.query import And, Field, Node, Not, Or, Range, Text, free_word_run

MAX_YEAR_TERMS = 200  # a bounded date range up to this many years is a set of year terms

# Restricted or closed: one term of the index (search.documents), not the two levels' union,
# which Tantivy seeks at every match of a query (a tenth more of Tantivy's time for a common
# word at 500,000 items, docs/PERFORMANCE.md).
HIDDEN_LEVELS: Node = Field("hidden", "yes")


def public_only(day: int) -> Node:
    """What an anonymous reader may see on `day` (yyyymmdd, search.keys.day_number):
    restricted and closed items are left out, but for those whose sealing date (access_until)
    has come: they open by themselves, with no reindex (archive/access.py). Excluding the few
    costs less than intersecting every query with the many open ones.

        public_only(20260101) -> Not(And(hidden:yes, Not(Range("access_until", 1, 20260101))))
    """
    return Not(And((HIDDEN_LEVELS, Not(Range("access_until", 1, day)))))


def visible_to(viewer: Viewer, day: int) -> Node | None:
    """What `viewer` may see on `day`, as a filter both engines compile: archive/access.py's
    `can_see` over the index's access, access_until and item_id. The levels the viewer's role
    does not see are hidden, but for items whose sealing date has come and, for a researcher,
    the restricted items they hold a grant for. None when nothing is hidden (an administrator:
    withdrawn items are never in the index). Anonymous viewers get exactly public_only(day).

        visible_to(ANONYMOUS, d)                    == public_only(d)
        visible_to(Viewer("s", "staff"), d)         -> Not(And(access:closed, Not(unsealed)))
        visible_to(Viewer("r", "researcher", frozenset({7})), d)
            -> Not(And(restricted|closed, Not(unsealed), Not(And(access:restricted, item_id:7))))
        visible_to(Viewer("a", "admin"), d)         -> None
    """
    hidden = [level for level in ACCESS_LEVELS if level not in viewer.levels]
    if not hidden:
        return None
    levels: Node = HIDDEN_LEVELS if set(hidden) == HIDDEN else \
        Or(tuple(Field("access", level) for level in hidden))
    parts: list[Node] = [levels, Not(Range("access_until", 1, day))]
    granted = sorted(viewer.granted)
    if granted and "restricted" in hidden:
        # A grant is for one restricted item: a granted item made closed since stays hidden.
        ids = tuple(Range("item_id", i, i) for i in granted)
        parts.append(Not(And((Field("access", "restricted"),
                              ids[0] if len(ids) == 1 else Or(ids)))))
    return Not(And(tuple(parts)))


class Compiler(Protocol):
    """An engine's query building blocks (search/engines/*: the only code that knows how)."""

    def term(self, field: str, value: str) -> Any: ...
    def any_of(self, field: str, values: list[str]) -> Any: ...
    def all_of(self, parts: list[Any]) -> Any: ...
    def either(self, parts: list[Any]) -> Any: ...
    def match_all(self) -> Any: ...
    def everything_but(self, q: Any) -> Any: ...
    def combine(self, must: list[Any], must_not: list[Any]) -> Any: ...
    def free_text(self, value: str, phrase: bool, field: str) -> Any: ...
    def ranked_text(self, value: str, phrase: bool) -> Any: ...
    def names(self, keys: list[str]) -> Any | None: ...
    def year_range(self, low: int | None, high: int | None, max_terms: int) -> Any: ...
    def int_range(self, field: str, low: int | None, high: int | None) -> Any: ...


def name_keys_of(text: str, parts: bool) -> list[str]:
    """Index keys a written name may match: whole names, and with `parts` a surname or given
    name alone (search.documents marks those with PART)."""
    keys = sorted(name_keys(text))
    return keys + [PART + k for k in keys if k.isascii()] if parts else keys


def _name_match(text: str, c: Compiler) -> Any | None:
    """Free words that are a scientist's name, or (romanised) a surname or given name alone:
    `Tsien`, `Xuesen`. Characters alone are left to the text (学森 is in titles too)."""
    return c.names([k for k in name_keys_of(text, parts=not has_han(text))
                    if len(k.lstrip(PART)) >= 2])


def _field(node: Field, c: Compiler) -> Any:
    if node.field == "scientist":
        keys = name_keys_of(node.value, parts=True)
        if not keys:
            raise QueryError(f"scientist:{node.value!r} has no letters or characters to match")
        return c.any_of("scientist", keys)
    if node.field == "type":
        material = type_word(node.value)
        if material is None:
            raise QueryError(f"unknown type {node.value!r}; use one of "
                             f"{', '.join(MATERIAL_TYPES)}")
        return c.term("type", material)
    if node.field == "accession":
        return c.term("accession", node.value.strip().upper())
    return c.term(node.field, node.value.strip().lower())  # access, format


def compile_tree(node: Node | None, c: Compiler, names: bool = True) -> Any:
    """The tree as the engine's query. Free words are also tried as a scientist's name when
    `names` (not inside a run already tried as one)."""
    if node is None:
        return c.match_all()
    if isinstance(node, Text):
        if node.field in ("title", "collection"):
            return c.free_text(node.value, node.phrase, node.field)
        # Titles and descriptions are inside `content`, so content decides what matches; the
        # title and jieba-word fields only add to the score (Compiler.ranked_text).
        query = c.ranked_text(node.value, node.phrase)
        if node.field is None and names:
            matched = _name_match(node.value, c)
            if matched is not None:
                return c.either([query, matched])
        return query
    if isinstance(node, Field):
        return _field(node, c)
    if isinstance(node, Range):
        low = int(node.low) if node.low is not None else None
        high = int(node.high) if node.high is not None else None
        if node.field == "date":
            return c.year_range(low, high, MAX_YEAR_TERMS)
        return c.int_range(node.field, low, high)  # duration, access_until
    if isinstance(node, Not):
        # Alone (`-火箭`, or one side of an OR) an exclusion means everything but its matches;
        # inside an AND it is subtracted from the rest instead.
        return c.everything_but(compile_tree(node.node, c))
    if isinstance(node, Or):
        return c.either([compile_tree(n, c) for n in node.nodes])
    return _and(node, c)


def _and(node: And, c: Compiler) -> Any:
    """Adjacent free words may be one name ("Qian Xuesen", "Tsien Hsue-shen"): try them
    together as a scientist before taking them one by one."""
    must: list[Any] = []
    must_not: list[Any] = []
    nodes = list(node.nodes)
    i = 0
    while i < len(nodes):
        n = nodes[i]
        if isinstance(n, Not):
            must_not.append(compile_tree(n.node, c))
            i += 1
            continue
        run = free_word_run(nodes, i)
        if len(run) >= 2:
            matched = _name_match(" ".join(t.value for t in run), c)
            if matched is not None:
                words = c.all_of([compile_tree(t, c, names=False) for t in run])
                must.append(c.either([words, matched]))
                i += len(run)
                continue
        must.append(compile_tree(n, c))
        i += 1
    return c.combine(must, must_not)


def option_nodes(scientist: str | None, material: str | None, year_from: int | None,
                 year_to: int | None) -> list[Node]:
    """The --scientist, --type, --from and --to options as the query-tree filters they are."""
    nodes: list[Node] = []
    if scientist:
        nodes.append(Field("scientist", scientist))
    if material:
        nodes.append(Field("type", material))
    if year_from is not None or year_to is not None:
        if year_from is not None and year_to is not None and year_from > year_to:
            raise QueryError(f"--from {year_from} is after --to {year_to}")
        nodes.append(Range("date", year_from, year_to))
    return nodes


def compile_search(node: Node | None, filters: list[Node], c: Compiler) -> Any:
    """A parsed query with its option filters, all required."""
    return c.combine([compile_tree(n, c) for n in ([node] if node is not None else [])
                      + filters], [])


def restrict(query: Any, visible: Node | None, c: Compiler) -> Any:
    """`query` limited to what the `visible` filter admits (None: everything). An exclusion
    (`Not`) is subtracted, so the few hidden items are what the engine looks up."""
    if visible is None:
        return query
    if isinstance(visible, Not):
        return c.combine([query], [compile_tree(visible.node, c, names=False)])
    return c.combine([query, compile_tree(visible, c, names=False)], [])
