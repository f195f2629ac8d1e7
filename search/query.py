"""The search query language, parsed by a pure function into a small tree.

    parse_query('导弹')                      -> Text('导弹')
    parse_query('"导弹 研究"')                -> Text('导弹 研究', phrase=True)
    parse_query('scientist:钱学森 type:letter') -> And(Field('scientist', '钱学森'),
                                                      Field('type', 'letter'))
    parse_query('date:1950..1960')           -> Range('date', 1950, 1960)
    parse_query('date:1955')                 -> Range('date', 1955, 1955)
    parse_query('date:..1949')               -> Range('date', None, 1949)
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
from dataclasses import dataclass

from archive.errors import QueryError

MAX_QUERY_CHARS = 1000

FIELD_NAMES: dict[str, str] = {
    "scientist": "scientist", "type": "type", "date": "date", "year": "date",
    "duration": "duration", "title": "title", "text": "text", "accession": "accession",
    "access": "access", "format": "format", "collection": "collection",
    "科学家": "scientist", "人物": "scientist", "类型": "type", "類型": "type", "日期": "date",
    "年份": "date", "年代": "date", "时长": "duration", "時長": "duration", "标题": "title",
    "標題": "title", "全文": "text", "档号": "accession", "檔號": "accession",
}
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


def _year(text: str) -> int:
    m = re.match(r"^(\d{4})(?:[-/.年]\d{1,2}(?:[-/.月]\d{1,2}日?)?月?)?年?$", text.strip())
    if not m:
        raise QueryError(f"cannot read {text!r} as a year: use 1955, 1950..1960, ..1949")
    return int(m.group(1))


def _range(field: str, value: str) -> Range:
    convert = _year if field == "date" else _duration
    for op, lo_hi in ((">=", "lo"), ("<=", "hi"), (">", "lo"), ("<", "hi")):
        if value.startswith(op):
            bound = convert(value[len(op):])
            if field == "date" and op in (">", "<"):
                bound += 1 if op == ">" else -1
            return Range(field, bound, None) if lo_hi == "lo" else Range(field, None, bound)
    if ".." in value:
        lo, hi = value.split("..", 1)
        low = convert(lo) if lo.strip() else None
        high = convert(hi) if hi.strip() else None
        if low is None and high is None:
            raise QueryError(f"{field}:.. needs at least one end")
        if low is not None and high is not None and low > high:
            raise QueryError(f"{field}:{value}: the range runs backwards")
        return Range(field, low, high)
    single = convert(value)
    return Range(field, single, single)


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
