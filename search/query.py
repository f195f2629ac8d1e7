"""The search query language, parsed by a pure function into a small tree.

    parse_query('导弹')                      -> Text('导弹')
    parse_query('"导弹 研究"')                -> Text('导弹 研究', phrase=True)
    parse_query('scientist:钱学森 type:letter') -> And(Field('scientist', '钱学森'),
                                                      Field('type', 'letter'))
    parse_query('date:1950..1960')           -> Range('date', 1950, 1960)
    parse_query('date:1955')                 -> Range('date', 1955, 1955)
    parse_query('date:..1949')               -> Range('date', None, 1949)
    parse_query('年代:1950s')                 -> Range('date', 1950, 1959)  (decade:, 1950年代)
    parse_query('date:1950s..1960s')         -> Range('date', 1950, 1969)
    parse_query('duration:>30m')             -> Range('duration', 1800, None)
    parse_query('duration:10m..1h')          -> Range('duration', 600, 3600)
    parse_query('火箭 -卫星')                  -> And(Text('火箭'), Not(Text('卫星')))
    parse_query('letter OR 信件')             -> Or(Text('letter'), Text('信件'))
    parse_query('(导弹 OR 火箭) type:audio')    -> And(Or(...), Field('type', 'audio'))
    parse_query('title:"工程控制论"')           -> Text('工程控制论', field='title', phrase=True)
    parse_query('科学家：钱学森 类型:信件')       -> Chinese field names and a full-width colon
    parse_query('“导弹研究”')                   -> curly and corner quotes work as quotes
    parse_query('"导弹')        -> QueryError: unbalanced quote
    parse_query('(导弹')        -> QueryError: unbalanced parenthesis
    parse_query('colour:red')   -> QueryError: unknown field 'colour' (known: ...)
    parse_query('duration:>30') -> QueryError: duration needs a unit: 30m, 1h, 90s
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

from archive.errors import QueryError
from archive.fields import QUERY_NAMES

MAX_QUERY_CHARS = 1000
MAX_LIMIT = 1000  # hits per page; here, not in searcher.py, so options can name it cheaply

FIELD_NAMES: dict[str, str] = QUERY_NAMES  # English and Chinese, from the field registry
TEXT_FIELDS = {"title", "text", "collection"}
RANGE_FIELDS = {"date", "duration"}
_QUOTES = str.maketrans({"“": '"', "”": '"', "「": '"', "」": '"', "『": '"', "』": '"',
                         "＂": '"', "‘": "'", "’": "'"})
_UNITS = {"s": 1, "sec": 1, "secs": 1, "second": 1, "seconds": 1, "秒": 1,
          "m": 60, "min": 60, "mins": 60, "minute": 60, "minutes": 60, "分": 60, "分钟": 60,
          "分鐘": 60, "h": 3600, "hr": 3600, "hrs": 3600, "hour": 3600, "hours": 3600,
          "小时": 3600, "小時": 3600}


@dataclass(frozen=True)
class Text:
    value: str
    phrase: bool = False
    field: str | None = None  # None: everywhere a researcher would look


@dataclass(frozen=True)
class Field:
    field: str  # scientist, type, access, accession, format
    value: str


@dataclass(frozen=True)
class Range:
    field: str  # date (years) or duration (seconds)
    low: float | None
    high: float | None


@dataclass(frozen=True)
class Not:
    node: Node


@dataclass(frozen=True)
class And:
    nodes: tuple[Node, ...]


@dataclass(frozen=True)
class Or:
    nodes: tuple[Node, ...]


Node = Text | Field | Range | Not | And | Or


def _tokens(query: str) -> list[tuple[str, str]]:
    """(kind, text): kind is '(' ')' 'OR' '-' 'term' 'phrase' 'field'; a field token's text is
    'name' and the next token is its value."""
    out: list[tuple[str, str]] = []
    i, n = 0, len(query)
    while i < n:
        c = query[i]
        if c.isspace():
            i += 1
        elif c in "()":
            out.append((c, c))
            i += 1
        elif c == '"':
            end = query.find('"', i + 1)
            if end < 0:
                raise QueryError(f"unbalanced quote at character {i + 1}: close the phrase "
                                 "with a second \"")
            out.append(("phrase", query[i + 1:end]))
            i = end + 1
        elif c == "-" and (not out or out[-1][0] in ("(", "OR", "term", "phrase", ")")) \
                and i + 1 < n and not query[i + 1].isspace():
            out.append(("-", "-"))
            i += 1
        else:
            m = re.match(r'[^\s()"]+', query[i:])
            word = m.group(0) if m else c
            fm = re.match(r"^([^\W\d_]\w*):(.*)$", word)
            # name:value is a field when the name is one; an unknown plain word before a colon
            # is a mistyped field (an error that says so), but URLs and 12:30 are just text.
            if fm and (fm.group(1).lower() in FIELD_NAMES or fm.group(1).isascii()
                       and fm.group(1).isalpha() and not fm.group(2).startswith("/")):
                out.append(("field", fm.group(1).lower()))
                rest = fm.group(2)
                i += len(fm.group(1)) + 1
                if not rest:
                    if i < n and query[i] == '"':
                        continue  # the quoted value comes next
                    raise QueryError(f"{fm.group(1)}: needs a value, e.g. {fm.group(1)}:…")
                continue
            out.append(("OR", word) if word == "OR" else ("term", word))
            i += len(word)
    return out


def _duration(text: str) -> float:
    m = re.match(r"^(\d+(?:\.\d+)?)\s*([a-z\u4e00-\u9fff]*)$", text.strip().lower())
    if not m or not m.group(2):
        raise QueryError(f"duration needs a unit: 30m, 1h, 90s (got {text!r})")
    unit = _UNITS.get(m.group(2))
    if unit is None:
        raise QueryError(f"unknown duration unit {m.group(2)!r}: use s, m or h")
    return float(m.group(1)) * unit


def _years(text: str) -> tuple[int, int]:
    """The first and last year a date value names: a year, a day or month in it, or a decade
    (the facets' labels): '1955' -> (1955, 1955), '1956-02-17' -> (1956, 1956),
    '1950s' -> (1950, 1959), '1950年代' -> (1950, 1959)."""
    value = text.strip()
    decade = re.match(r"^(\d{3})0\s*(?:'?s|年代)$", value, re.IGNORECASE)
    if decade:
        start = int(decade.group(1)) * 10
        return start, start + 9
    m = re.match(r"^(\d{4})(?:[-/.年]\d{1,2}(?:[-/.月]\d{1,2}日?)?月?)?年?$", value)
    if not m:
        raise QueryError(f"cannot read {text!r} as a year: use 1955, 1950s, 1950..1960, "
                         "..1949")
    return int(m.group(1)), int(m.group(1))


def _range(field: str, value: str) -> Range:
    """A range from a date or duration value. Each date bound may be a decade: its first year
    where the range starts, its last where it ends ('date:1950s..1960s' is 1950..1969)."""
    def low(text: str) -> float:
        return _years(text)[0] if field == "date" else _duration(text)

    def high(text: str) -> float:
        return _years(text)[1] if field == "date" else _duration(text)

    for op in (">=", "<=", ">", "<"):
        if value.startswith(op):
            rest = value[len(op):]
            if op == ">=":
                return Range(field, low(rest), None)
            if op == "<=":
                return Range(field, None, high(rest))
            if field == "date":  # whole years: after 1960 starts in 1961
                return Range(field, high(rest) + 1, None) if op == ">" else \
                    Range(field, None, low(rest) - 1)
            return Range(field, low(rest), None) if op == ">" else Range(field, None, high(rest))
    if ".." in value:
        lo, hi = value.split("..", 1)
        start = low(lo) if lo.strip() else None
        end = high(hi) if hi.strip() else None
        if start is None and end is None:
            raise QueryError(f"{field}:.. needs at least one end")
        if start is not None and end is not None and start > end:
            raise QueryError(f"{field}:{value}: the range runs backwards")
        return Range(field, start, end)
    return Range(field, low(value), high(value))


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]):
        self.tokens = tokens
        self.i = 0

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.i] if self.i < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        tok = self.tokens[self.i]
        self.i += 1
        return tok

    def or_expr(self) -> Node:
        nodes = [self.and_expr()]
        while self.peek() and self.peek()[0] == "OR":  # type: ignore[index]
            self.take()
            if not self.peek() or self.peek()[0] in (")", "OR"):  # type: ignore[index]
                raise QueryError("OR needs something on both sides")
            nodes.append(self.and_expr())
        return nodes[0] if len(nodes) == 1 else Or(tuple(nodes))

    def and_expr(self) -> Node:
        nodes: list[Node] = []
        while self.peek() and self.peek()[0] not in (")", "OR"):  # type: ignore[index]
            nodes.append(self.unary())
        if not nodes:
            if self.peek() and self.peek()[0] == "OR":  # type: ignore[index]
                raise QueryError("OR needs something on both sides")
            raise QueryError("empty group: put words between the parentheses")
        return nodes[0] if len(nodes) == 1 else And(tuple(nodes))

    def unary(self) -> Node:
        if self.peek()[0] == "-":  # type: ignore[index]
            self.take()
            if not self.peek() or self.peek()[0] in (")", "OR", "-"):  # type: ignore[index]
                raise QueryError("'-' must stand right before the word it excludes")
            return Not(self.atom())
        return self.atom()

    def atom(self) -> Node:
        kind, text = self.take()
        if kind == "(":
            node = self.or_expr()
            if not self.peek() or self.peek()[0] != ")":  # type: ignore[index]
                raise QueryError("unbalanced parenthesis: a '(' is never closed")
            self.take()
            return node
        if kind == ")":
            raise QueryError("unbalanced parenthesis: a ')' has no '('")
        if kind == "field":
            return self.field_value(text)
        return Text(text, phrase=kind == "phrase")

    def field_value(self, name: str) -> Node:
        field = FIELD_NAMES.get(name)
        if field is None:
            known = ", ".join(sorted(k for k in FIELD_NAMES if k.isascii()))
            raise QueryError(f"unknown field {name!r} (known: {known})")
        if not self.peek() or self.peek()[0] not in ("term", "phrase"):  # type: ignore[index]
            raise QueryError(f"{name}: needs a value")
        kind, value = self.take()
        if not value.strip():
            raise QueryError(f"{name}: needs a value")
        if field in RANGE_FIELDS:
            return _range(field, value)
        if field in TEXT_FIELDS:
            return Text(value, phrase=kind == "phrase", field=field)
        return Field(field, value)


def normalise_query(query: str) -> str:
    """Full-width punctuation and Chinese quotes become their ASCII forms."""
    return unicodedata.normalize("NFKC", query.translate(_QUOTES))


def parse_query(query: str) -> Node | None:
    """Parse a query (see the module docstring); None for an empty one."""
    if "\x00" in query:
        raise QueryError("the query contains a NUL character")
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"the query is {len(query)} characters long; the limit is "
                         f"{MAX_QUERY_CHARS}")
    tokens = _tokens(normalise_query(query))
    if not tokens:
        return None
    parser = _Parser(tokens)
    node = parser.or_expr()
    if parser.peek() is not None:
        raise QueryError("unbalanced parenthesis: a ')' has no '('")
    return node


def filters_only(node: Node | None) -> bool:
    """True when nothing in the query ranks: fields, ranges and exclusions only. Such a query
    lists its hits in date order with no score, as an empty query or the --type option does.

        filters_only(parse_query('type:photograph'))               -> True
        filters_only(parse_query('scientist:钱学森 date:1940..1960')) -> True
        filters_only(parse_query('type:letter OR type:audio'))     -> True
        filters_only(parse_query('-type:letter'))                  -> True
        filters_only(parse_query('火箭 type:letter'))              -> False
        filters_only(parse_query('title:火箭'))                    -> False
        filters_only(None)                                         -> True
    """
    if node is None or isinstance(node, (Field, Range, Not)):
        return True  # an exclusion removes hits; it never ranks the ones left
    if isinstance(node, (And, Or)):
        return all(filters_only(n) for n in node.nodes)
    return False


MAX_NAME_WORDS = 3  # words a scientist: value may take from the words after it


def complete_names(node: Node | None, is_name: Callable[[str], bool]) -> Node | None:
    """A scientist: value followed by plain words takes as many of them as make a known name,
    so `scientist:Hua Luogeng` need not be quoted. `is_name` says whether a written form is a
    scientist's whole name (the searcher asks its index).

        scientist:Hua Luogeng 数学  -> And(Field('scientist', 'Hua Luogeng'), Text('数学'))
                                       when is_name('Hua Luogeng')
        scientist:Hua 数学          -> unchanged (no name 'Hua 数学')
    """
    if isinstance(node, Not):
        return Not(complete_names(node.node, is_name))  # type: ignore[arg-type]
    if isinstance(node, Or):
        return Or(tuple(complete_names(n, is_name) for n in node.nodes))  # type: ignore[misc]
    if not isinstance(node, And):
        return node
    out: list[Node] = []
    nodes = [complete_names(n, is_name) for n in node.nodes]
    i = 0
    while i < len(nodes):
        n = nodes[i]
        i += 1
        if isinstance(n, Field) and n.field == "scientist":
            words: list[str] = []
            while i + len(words) < len(nodes) and len(words) < MAX_NAME_WORDS:
                following = nodes[i + len(words)]
                if not (isinstance(following, Text) and following.field is None
                        and not following.phrase):
                    break
                words.append(following.value)
            for take in range(len(words), 0, -1):
                candidate = " ".join([n.value, *words[:take]])
                if is_name(candidate):
                    n = Field("scientist", candidate)
                    i += take
                    break
        out.append(n)  # type: ignore[arg-type]
    return out[0] if len(out) == 1 else And(tuple(out))


def loose_name_words(node: Node | None) -> tuple[str, str] | None:
    """(scientist value, the plain word after it) when a scientist: value is followed by a
    plain word: the hint to quote a name that was meant whole (see complete_names).

        loose_name_words(parse_query('scientist:Hua Luogeng')) -> ('Hua', 'Luogeng')
        loose_name_words(parse_query('scientist:"Hua Luogeng"')) -> None
    """
    if isinstance(node, And):
        for a, b in zip(node.nodes, node.nodes[1:], strict=False):
            if isinstance(a, Field) and a.field == "scientist" and isinstance(b, Text) \
                    and b.field is None and not b.phrase:
                return a.value, b.value
        for n in node.nodes:
            if (found := loose_name_words(n)) is not None:
                return found
    if isinstance(node, (Or, Not)):
        for n in (node.nodes if isinstance(node, Or) else (node.node,)):
            if (found := loose_name_words(n)) is not None:
                return found
    return None


def free_word_run(nodes: list[Node], start: int) -> list[Text]:
    """The unquoted, unfielded words from `start` on: adjacent ones may together be one name
    ("Qian Xuesen", "Tsien Hsue-shen"), which every engine tries before taking them apart.

        free_word_run([Text("Qian"), Text("Xuesen"), Field("type", "letter")], 0)
            -> [Text("Qian"), Text("Xuesen")]
        free_word_run([Text("导弹", phrase=True)], 0) -> []
    """
    run: list[Text] = []
    for node in nodes[start:]:
        if not (isinstance(node, Text) and node.field is None and not node.phrase):
            break
        run.append(node)
    return run
