"""What an archivist types in a metadata cell (a manifest column, an `archive edit` option, a
spreadsheet cell), read and checked in one place, so a value refused in one is refused in all.

Pure: no database. Each reader returns the stored form or raises ValueError with the message a
row error or a command prints.

    read_type("信件")           -> "letter"
    read_type("poem")           -> ValueError "unknown type 'poem' (use letter, ...)"
    read_access("公开")          -> "open"
    read_access("secret")       -> ValueError "unknown access 'secret' (use open, ...)"
    read_date("1950年3月")       -> ItemDate("1950-03", ...)
    read_date("")               -> None
    read_sealed_until("2051")   -> date(2051, 1, 1)   (the item opens by itself that day)
    read_sealed_until("2051年6月") -> date(2051, 6, 1)
    read_sealed_until("circa 2051") -> ValueError "a sealing date is one day, ..."
    read_text("title", " 信 ")   -> "信"
    read_text("title", "x" * 501) -> ValueError "the title is longer than 500 characters"
    read_scientist("钱学森", known) -> "钱学森" when known("钱学森"), else ValueError
"""
from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable
from typing import Any

from archive.dates import ItemDate, parse_date
# The item fields a person may change after ingest, and the longest text each holds, come
# from the field registry (re-exported here for the readers of cells).
from archive.fields import (  # noqa: F401
    ACCESS_LEVELS, EDITABLE_FIELDS, MATERIAL_TYPES, MAX_CHARS, type_word,
)

_ACCESS_WORDS = {
    "open": "open", "public": "open", "开放": "open", "公开": "open", "開放": "open",
    "公開": "open", "restricted": "restricted", "限制": "restricted", "受限": "restricted",
    "内部": "restricted", "內部": "restricted", "closed": "closed", "封闭": "closed",
    "封閉": "closed", "保密": "closed", "不公开": "closed", "不公開": "closed",
}


def access_word(value: str) -> str | None:
    """open/restricted/closed in English or Chinese -> the access level, else None."""
    return _ACCESS_WORDS.get(unicodedata.normalize("NFKC", value).strip().casefold())


def read_type(value: str) -> str:
    material = type_word(value)
    if material is None:
        raise ValueError(f"unknown type {value!r} (use {', '.join(MATERIAL_TYPES[:-1])} or "
                         f"{MATERIAL_TYPES[-1]})")
    return material


def read_access(value: str) -> str:
    access = access_word(value)
    if access is None:
        raise ValueError(f"unknown access {value!r} (use {', '.join(ACCESS_LEVELS[:-1])} or "
                         f"{ACCESS_LEVELS[-1]})")
    return access


def read_date(value: str | None) -> ItemDate | None:
    return parse_date(value)


# Sealing dates reach beyond the item dates parse_date knows (a century after a death: 2101).
_SEAL_ISO = re.compile(r"^(\d{4})(?:[-/.](\d{1,2})(?:[-/.](\d{1,2}))?)?$")


def read_sealed_until(value: str) -> dt.date:
    """A sealing date -> the day the item opens: a year or a month means its first day, so
    "sealed until 2051" opens on 1 January 2051."""
    text = unicodedata.normalize("NFKC", value).strip()
    m = _SEAL_ISO.match(text)
    try:
        if m:
            return dt.date(int(m.group(1)), int(m.group(2) or 1), int(m.group(3) or 1))
        parsed = parse_date(text)
        if parsed is not None and parsed.precision in ("day", "month", "year"):
            return parsed.start
    except ValueError:
        pass
    raise ValueError(f"cannot read {value.strip()!r} as a sealing date: a sealing date is "
                     "one day, month or year (2051, 2051-06 or 2051-06-30)")


def read_text(field: str, value: str) -> str:
    text = value.strip()
    if "\x00" in text:
        raise ValueError(f"the {field} contains a NUL character")
    limit = MAX_CHARS.get(field)
    if limit is not None and len(text) > limit:
        raise ValueError(f"the {field} is longer than {limit} characters")
    return text


def read_scientist(value: str, known: Callable[[str], bool]) -> str:
    name = value.strip()
    if not known(name):
        raise ValueError(f"unknown scientist {name!r} (import it first with "
                         "`archive scientists import`)")
    return name


def read_cell(field: str, value: str, known_scientist: Callable[[str], bool]) -> Any:
    """One editable field's cell -> its value (None for an empty cell); ValueError if bad."""
    value = value.strip()
    if field not in EDITABLE_FIELDS:
        raise ValueError(f"{field!r} is not an editable field")
    if not value:
        return None
    if field == "type":
        return read_type(value)
    if field == "access":
        return read_access(value)
    if field == "date":
        return read_date(value)
    if field == "access_until":
        return read_sealed_until(value)
    if field == "scientist":
        return read_scientist(value, known_scientist)
    return read_text(field, value)
