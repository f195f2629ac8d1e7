"""Pure parsing of archival dates into a display form, a start/end range and a precision.

    parse_date("1950")            -> ItemDate("1950", 1950-01-01, 1950-12-31, "year")
    parse_date("1950-03")         -> ItemDate("1950-03", 1950-03-01, 1950-03-31, "month")
    parse_date("1950/3/15")       -> ItemDate("1950-03-15", 1950-03-15, 1950-03-15, "day")
    parse_date("1950年3月15日")    -> ItemDate("1950-03-15", ..., "day")
    parse_date("约1950")           -> ItemDate("circa 1950", 1945-01-01, 1955-12-31, "circa")
    parse_date("c. 1950")         -> same as 约1950;  "1950?" too
    parse_date("1950-1955")       -> ItemDate("1950/1955", 1950-01-01, 1955-12-31, "range")
    parse_date("1950..1955")      -> same;  "1950—1955" and "1950至1955" too
    parse_date("")                -> None
    parse_date("spring")          -> raises ValueError (a manifest row error)
    date_from_filename("letter_1950_03_15.jpg") -> "1950-03-15"
"""
from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass

_CIRCA_SPAN = 5
_Y = r"(1[5-9]\d\d|20\d\d)"
_YMD = re.compile(rf"^{_Y}(?:\s*[-/.年]\s*(\d{{1,2}})"
                  r"(?:\s*[-/.月]\s*(\d{1,2})\s*日?)?\s*月?)?\s*年?$")
_CIRCA = re.compile(r"^(?:circa|ca\.?|c\.|约|約|大约|大約)\s*(.+)$|^(.+?)\s*[?？]$", re.I)
_RANGE = re.compile(r"^(.+?)\s*(?:\.\.|–|—|-{1,2}|~|～|至|到)\s*(.+)$")
_IN_NAME = re.compile(r"(?<!\d)(1[89]\d\d|20[0-2]\d)"
                      r"(?:[-_.](0[1-9]|1[0-2])(?:[-_.](0[1-9]|[12]\d|3[01]))?)?(?!\d)")


@dataclass(frozen=True)
class ItemDate:
    text: str
    start: dt.date
    end: dt.date
    precision: str  # day, month, year, circa, range


def _single(text: str) -> ItemDate | None:
    m = _YMD.match(text.strip())
    if not m:
        return None
    year = int(m.group(1))
    month = int(m.group(2)) if m.group(2) else None
    day = int(m.group(3)) if m.group(3) else None
    try:
        if day is not None and month is not None:
            d = dt.date(year, month, day)
            return ItemDate(d.isoformat(), d, d, "day")
        if month is not None:
            last = calendar.monthrange(year, month)[1]
            return ItemDate(f"{year}-{month:02d}", dt.date(year, month, 1),
                            dt.date(year, month, last), "month")
    except ValueError:
        return None
    return ItemDate(str(year), dt.date(year, 1, 1), dt.date(year, 12, 31), "year")


def parse_date(text: str | None) -> ItemDate | None:
    """Parse a date as archivists write it; None for empty, ValueError for nonsense."""
    if text is None or not text.strip():
        return None
    text = text.strip()
    single = _single(text)
    if single:
        return single
    m = _CIRCA.match(text)
    if m:
        inner = _single(m.group(1) or m.group(2))
        if inner:
            return ItemDate(
                f"circa {inner.text}",
                inner.start.replace(year=inner.start.year - _CIRCA_SPAN, month=1, day=1),
                inner.end.replace(year=inner.end.year + _CIRCA_SPAN, month=12, day=31),
                "circa")
    m = _RANGE.match(text)
    if m:
        a, b = _single(m.group(1)), _single(m.group(2))
        if a and b and a.start <= b.end:
            return ItemDate(f"{a.text}/{b.text}", a.start, b.end, "range")
    raise ValueError(f"cannot read {text!r} as a date (use 1950, 1950-03, 1950-03-15, "
                     "circa 1950 or 1950..1955)")


def date_from_filename(name: str) -> str | None:
    """The first plausible date written in a file name, as 1950, 1950-03 or 1950-03-15."""
    m = _IN_NAME.search(name)
    if not m:
        return None
    return "-".join(p for p in m.groups() if p)


def iso_exif_datetime(value: str | None) -> str | None:
    """'2008:05:30 15:56:01' -> '2008-05-30T15:56:01'; None for blank or zeroed EXIF dates."""
    if not value:
        return None
    m = re.match(r"^\s*(\d{4})[:\-](\d\d)[:\-](\d\d)(?:[ T](\d\d):(\d\d)(?::(\d\d))?)?", value)
    if not m or m.group(1) == "0000":
        return None
    y, mo, d, h, mi, s = m.groups()
    out = f"{y}-{mo}-{d}"
    if h:
        out += f"T{h}:{mi}:{s or '00'}"
    return out
