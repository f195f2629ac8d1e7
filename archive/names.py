"""Pure functions that normalise people's names so every written form of a scientist matches.

    name_keys("钱学森")          -> {"钱学森", "qianxuesen", "xuesenqian"}
    name_keys("錢學森")          -> {"錢學森", "qianxuesen", "xuesenqian"}  (traditional too)
    name_keys("Qian Xuesen")     -> {"qianxuesen"}
    name_keys("qian_xuesen")     -> {"qianxuesen"}
    name_keys("Tsien Hsue-shen") -> {"tsienhsueshen"}
    name_parts("钱学森")         -> {"qian", "xuesen"}
    name_parts("Tsien Hsue-shen") -> {"tsien", "hsueshen"}
    name_parts("欧阳自远")        -> {"ouyang", "ziyuan"}
    name_parts("Qian")           -> set()          (one part: its key is the whole name)
    name_code("钱学森")          -> "QXS"
    name_code("Zhao Jiuzhang")   -> "ZJ"
"""
from __future__ import annotations

import functools
import importlib.util
import itertools
import json
import re
import unicodedata
from pathlib import Path

from archive.han import HAN

_HAN = HAN
_NOT_WORD = re.compile(r"[\W_]+", re.UNICODE)
_MAX_READINGS = 8  # surname readings kept per name


def has_han(text: str) -> bool:
    return bool(_HAN.search(text))


def fold_name(text: str) -> str:
    """NFKC (full-width to half-width), strip accents and tone marks, lower-case, drop
    separators."""
    text = unicodedata.normalize("NFKD", unicodedata.normalize("NFKC", text))
    text = "".join(c for c in text if not unicodedata.combining(c))
    return _NOT_WORD.sub("", text.casefold())


@functools.cache
def _character_readings() -> dict[int, str]:
    """pypinyin's table of each character's readings ("zhōng,zhòng"), read from its own data
    file without importing pypinyin: the package loads its table of phrases too (0.3-0.7 s, a
    Chinese search's largest cost), which reading a name character by character never uses."""
    table = pypinyin_folder() / "pinyin_dict.json"
    return {int(k): v for k, v in json.loads(table.read_text(encoding="utf-8")).items()}


def pypinyin_folder() -> Path:
    """Where pypinyin's data and source files are, found without importing it."""
    spec = importlib.util.find_spec("pypinyin")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("pypinyin is not installed")
    return Path(next(iter(spec.submodule_search_locations)))


def _toneless(reading: str) -> str:
    """A reading as pypinyin's Style.NORMAL writes it: tone marks dropped, ü as v, ê kept.

        _toneless("zhōng") -> "zhong"    _toneless("lǜ") -> "lv"    _toneless("ế") -> "ê"
    """
    marks = unicodedata.normalize("NFD", reading)
    kept = "".join(c for c in marks if not unicodedata.combining(c) or c in "\u0302\u0308")
    return unicodedata.normalize("NFC", kept).replace("ü", "v")


def _reading(char: str, heteronym: bool) -> list[str]:
    """A character's readings in pypinyin's order (all of them, or the usual one); none for a
    character it has no reading for."""
    known = _character_readings().get(ord(char))
    if not known:
        return []
    readings = known.split(",") if heteronym else known.split(",")[:1]
    out: list[str] = []
    for r in (_toneless(r) for r in readings):
        if r and r not in out:
            out.append(r)
    return out or [""]


def _readings(han: str) -> list[list[str]]:
    """Pinyin of each Han character: every reading of the first (surnames such as 曾 zeng/ceng are
    heteronyms), the usual reading of the rest, so that unrelated names do not collide. Each
    character is read alone, never as part of a phrase: exactly what pypinyin's
    `pinyin(chars[0], Style.NORMAL, heteronym=True) + pinyin(chars[1:], Style.NORMAL)` gives
    for a list of characters (tests/test_names.py compares every character)."""
    chars = [c for c in han if _HAN.match(c)]
    return [r for i, c in enumerate(chars) if (r := _reading(c, heteronym=i == 0))]


def name_keys(name: str) -> set[str]:
    """All matching keys of one written form of a name (see the module docstring)."""
    keys = {k for k in (fold_name(name),) if k}
    if has_han(name):
        syllables = _readings(name)
        for combo in itertools.islice(itertools.product(*syllables), _MAX_READINGS):
            if not combo:
                continue
            keys.add("".join(combo))
            if len(combo) >= 2:  # given name first, surname last, as in Western citations
                keys.add("".join(combo[1:]) + combo[0])
    return keys


# Two-character surnames: the given name starts after them.
_COMPOUND_SURNAMES = frozenset({
    "欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "长孙", "宇文",
    "司徒", "夏侯", "轩辕", "令狐", "钟离", "端木", "歐陽", "司馬", "諸葛", "長孫"})


def name_parts(name: str) -> set[str]:
    """Romanised keys of a name's surname and given name on their own, so that `Tsien`,
    `Xuesen` or `qian` find the scientists they can belong to (see the module docstring). Han
    names split after the surname (two characters for a compound one), read in pinyin with
    every reading of the surname; romanised names split at spaces and underscores, in
    whatever order they are written. Characters alone (学森) are text, found in the
    bigrams of titles and transcripts as before, not a name."""
    if has_han(name):
        chars = "".join(c for c in name if _HAN.match(c))
        if len(chars) < 2:
            return set()
        cut = 2 if chars[:2] in _COMPOUND_SURNAMES and len(chars) > 2 else 1
        readings = _readings(chars)
        parts = {"".join(combo) for combo in
                  itertools.islice(itertools.product(*readings[:cut]), _MAX_READINGS)}
        parts.add("".join(r[0] for r in readings[cut:] if r))
        return {p for p in parts if p}
    words = [fold_name(w) for w in re.split(r"[\s_]+", name) if w]
    words = [w for w in words if w]
    return set(words) if len(words) >= 2 else set()


def name_code(name: str) -> str:
    """Upper-case initials for accession prefixes: pinyin initials for Chinese names."""
    if has_han(name):
        initials = "".join(s[0][0] for s in _readings(name) if s and s[0])
    else:
        words = [w for w in re.split(r"[\s_\-.]+", unicodedata.normalize("NFKD", name)) if w]
        initials = "".join(w[0] for w in words if w[0].isascii() and w[0].isalnum())
    return (initials.upper()[:6]) or "X"


def display_name(folder_name: str) -> str:
    """A folder name turned into a person's name: 'qian_xuesen' -> 'Qian Xuesen'."""
    if has_han(folder_name):
        return folder_name.strip()
    words = [w for w in re.split(r"[\s_]+", folder_name.strip()) if w]
    return " ".join(w[:1].upper() + w[1:] for w in words) or folder_name
