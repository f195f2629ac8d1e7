"""Pure facts about written text the standards ask for: language and script codes, which
romanization a Latin name is in, and ISO 8601 `normal` forms of catalogued dates.

    script_of("钱学森")          -> "Hans"   (simplified: it changes under s2t, not under t2s)
    script_of("錢學森")          -> "Hant"
    script_of("王大中")          -> "Hani"   (the same in both forms: Han, neither in particular)
    script_of("Qian Xuesen")     -> "Latn"
    language_of("钱学森致陈赓信")  -> "zh";   language_of("Letter") -> None (not knowable)
    iso639_2b("zh")              -> "chi";   iso639_2b("en") -> "eng"
    romanization("Qian Xuesen", ["钱学森"])     -> "pinyin"
    romanization("Tsien Hsue-shen", ["钱学森"]) -> "wade-giles"
    romanization("Marie Curie", [])             -> None
    normal_date("1956-02-17", 1956-02-17, 1956-02-17, "day") -> NormalDate("1956-02-17", None)
    normal_date("1950/1955", 1950-01-01, 1955-12-31, "range") -> NormalDate("1950/1955", None)
    normal_date("circa 1986", 1981-01-01, 1991-12-31, "circa")
        -> NormalDate("1981/1991", "approximate")
    normal_date(None, None, None, None) -> None
"""
from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from archive.names import fold_name, has_han, name_keys

# ISO 639-1 codes as catalogued (manifests say zh, en) -> the ISO 639-2/B codes EAD3 and
# EAC-CPF are declared with here. Codes already three letters long pass through.
_ISO639_2B = {"zh": "chi", "en": "eng", "ja": "jpn", "ru": "rus", "de": "ger", "fr": "fre",
              "ko": "kor", "es": "spa", "it": "ita"}
LANGUAGE_NAMES = {"chi": "Chinese", "eng": "English", "jpn": "Japanese", "rus": "Russian",
                  "ger": "German", "fre": "French", "kor": "Korean", "spa": "Spanish",
                  "ita": "Italian"}
SCRIPT_NAMES = {"Hans": "Han (Simplified variant)", "Hant": "Han (Traditional variant)",
                "Hani": "Han", "Latn": "Latin"}

# Marks of Wade-Giles (and the older romanizations it is usually confused with): aspiration
# apostrophes (Ch'ien), hyphenated given names (Hsue-shen) and initials pinyin does not have.
_WADE_GILES = re.compile(r"['’ʻ]|\w-\w|\b(?:hs|ts|tz)|(?:ch|k|p|t)['’]", re.IGNORECASE)


@lru_cache(maxsize=2)
def _converter(config: str) -> Any:
    # Loaded on first use: opening a table costs time every command would otherwise pay.
    import opencc
    return opencc.OpenCC(config)


def script_of(text: str) -> str:
    """The ISO 15924 code of a name or title: Hans, Hant, Hani (Han, the same in both forms)
    or Latn (anything without Han characters)."""
    if not has_han(text):
        return "Latn"
    simplified = _converter("t2s").convert(text)
    traditional = _converter("s2t").convert(text)
    if simplified == traditional:
        return "Hani"
    if text == simplified:
        return "Hans"
    if text == traditional:
        return "Hant"
    return "Hani"  # a mixture of both forms


def language_of(text: str | None) -> str | None:
    """"zh" for text with Han characters; None otherwise (English and pinyin look alike)."""
    return "zh" if text and has_han(text) else None


def languages(declared: str | None, *texts: str | None) -> list[str]:
    """The item's languages as ISO 639-1 codes: as catalogued ("zh;en"), else "zh" when a text
    holds Han characters, else none."""
    if declared:
        codes = [c.strip().lower() for c in re.split(r"[;,\s]+", declared) if c.strip()]
        return list(dict.fromkeys(codes))
    return ["zh"] if any(language_of(t) for t in texts) else []


def iso639_2b(code: str) -> str:
    return _ISO639_2B.get(code, code)


def bcp47(text: str) -> str | None:
    """xml:lang for a text: zh-Hans / zh-Hant / zh for Chinese; None when it cannot be told."""
    if not has_han(text):
        return None
    script = script_of(text)
    return f"zh-{script}" if script in ("Hans", "Hant") else "zh"


def romanization(name: str, han_forms: Iterable[str]) -> str | None:
    """"pinyin" when a Latin name reads as the pinyin of one of the Han forms (either order),
    "wade-giles" when it bears Wade-Giles marks, else None (a Latin name of unknown system)."""
    if has_han(name):
        return None
    folded = fold_name(name)
    for form in han_forms:
        if folded and folded in name_keys(form):
            return "pinyin"
    return "wade-giles" if _WADE_GILES.search(name) else None


@dataclass(frozen=True)
class NormalDate:
    normal: str  # ISO 8601: 1950, 1950-03, 1950-03-15 or an interval 1950/1955
    certainty: str | None  # "approximate" for circa dates


def normal_date(text: str | None, start: dt.date | None, end: dt.date | None,
                precision: str | None) -> NormalDate | None:
    """The ISO 8601 form of a date as the catalog holds it (its text, start, end and
    precision, from archive.dates), for EAD3 `normal` and dc:date. A circa date becomes the
    span the archive searches (five years either side), marked approximate."""
    if not text or start is None or end is None:
        return None
    if precision == "circa":
        return NormalDate(f"{start.year}/{end.year}", "approximate")
    if precision == "range":
        return NormalDate(text if "/" in text else f"{start.isoformat()}/{end.isoformat()}",
                          None)
    if precision in ("day", "month", "year"):
        return NormalDate(text, None)
    return None  # a date of unknown precision: the text is shown, nothing is claimed


def year_span(first: int | None, last: int | None) -> tuple[str, str] | None:
    """(text, normal) of an inclusive span of years: (1954, 1986) -> ("1954–1986",
    "1954/1986"); (1956, 1956) -> ("1956", "1956"); unknown -> None."""
    if first is None or last is None:
        return None
    if first == last:
        return str(first), str(first)
    return f"{first}–{last}", f"{first}/{last}"
