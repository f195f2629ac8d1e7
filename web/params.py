"""The search parameters of the site's query strings, checked before anything runs: every bad
value is a QueryError whose message names the parameter as the URL spells it (answered 400),
never a traceback, a wrong figure, or the name of a CLI option.

    api_options({"q": "导弹", "limit": "5"}) -> SearchOptions(query="导弹", limit=5, offset=0)
    api_options({"offset": "-1"})  -> "offset must be a whole number 0 or more (got '-1')"
    api_options({"limit": "0"})    -> "limit must be a whole number from 1 to 1000 (got '0')"
    api_options({"from": "abc"})   -> "from must be a year such as 1956 (got 'abc')"
    api_options({"q": "x" * 10000}) -> "q is 10000 characters long; the limit is 1000"
    page_options({"page": "2"}, 20) -> SearchOptions(limit=20, offset=20, facets=True)
"""
from __future__ import annotations

from collections.abc import Mapping

from archive.errors import QueryError
from archive.fields import MATERIAL_TYPES, type_word
from search.query import MAX_QUERY_CHARS
from search.searcher import MAX_LIMIT, SearchOptions

API_LIMIT = 20  # hits per API answer when `limit` is not given
_YEARS = (1, 9999)
_FLAGS = {"": False, "0": False, "false": False, "no": False, "1": True, "true": True,
          "yes": True}


def _shown(value: str) -> str:
    return repr(value if len(value) <= 40 else value[:40] + "…")


def whole_number(args: Mapping[str, str], name: str, default: int, low: int,
                 high: int | None = None) -> int:
    """The parameter `name` as an integer in low..high, else `default` when absent or empty."""
    raw = args.get(name, "").strip()
    if not raw:
        return default
    span = f"from {low} to {high}" if high is not None else f"{low} or more"
    try:
        value = int(raw) if raw.lstrip("+-").isdigit() and len(raw) <= 18 else None
    except ValueError:
        value = None
    if value is None or value < low or (high is not None and value > high):
        raise QueryError(f"{name} must be a whole number {span} (got {_shown(raw)})")
    return value


def year(args: Mapping[str, str], name: str) -> int | None:
    raw = args.get(name, "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and _YEARS[0] <= int(raw) <= _YEARS[1]):
        raise QueryError(f"{name} must be a year such as 1956 (got {_shown(raw)})")
    return int(raw)


def flag(args: Mapping[str, str], name: str) -> bool:
    raw = args.get(name, "").strip().lower()
    if raw not in _FLAGS:
        raise QueryError(f"{name} must be 1 or 0 (got {_shown(raw)})")
    return _FLAGS[raw]


def _search(args: Mapping[str, str], limit: int, offset: int, facets: bool) -> SearchOptions:
    query = args.get("q", "")
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(f"q is {len(query)} characters long; the limit is {MAX_QUERY_CHARS}")
    material = args.get("type", "").strip()
    if material and type_word(material) is None:
        raise QueryError(f"type {_shown(material)} is not a material type; use one of "
                         f"{', '.join(MATERIAL_TYPES)}")
    low, high = year(args, "from"), year(args, "to")
    if low is not None and high is not None and low > high:
        raise QueryError(f"from {low} is after to {high}")
    return SearchOptions(query=query, scientist=args.get("scientist", "").strip() or None,
                         type=material or None, year_from=low, year_to=high, limit=limit,
                         offset=offset, facets=facets)


def api_options(args: Mapping[str, str]) -> SearchOptions:
    """/api/search: q, scientist, type, from, to, limit (1..1000), offset (0..), facets (1/0)."""
    return _search(args, whole_number(args, "limit", API_LIMIT, 1, MAX_LIMIT),
                   whole_number(args, "offset", 0, 0), flag(args, "facets"))


def page_options(args: Mapping[str, str], page_size: int) -> SearchOptions:
    """The search page: the same, paged by `page` (1..), always with facets."""
    page = whole_number(args, "page", 1, 1)
    return _search(args, page_size, (page - 1) * page_size, facets=True)
