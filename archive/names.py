"""Pure functions that normalise people's names so every written form of a scientist matches.

    name_keys("钱学森")          -> {"钱学森", "qianxuesen", "xuesenqian"}
    name_keys("錢學森")          -> {"錢學森", "qianxuesen", "xuesenqian"}  (traditional too)
    name_keys("Qian Xuesen")     -> {"qianxuesen"}
    name_keys("qian_xuesen")     -> {"qianxuesen"}
    name_keys("Tsien Hsue-shen") -> {"tsienhsueshen"}
    name_code("钱学森")          -> "QXS"
    name_code("Zhao Jiuzhang")   -> "ZJ"
"""
from __future__ import annotations

import itertools
import re
import unicodedata


_HAN = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
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


def _readings(han: str) -> list[list[str]]:
    """Pinyin of each Han character: every reading of the first (surnames such as 曾 zeng/ceng are
    heteronyms), the usual reading of the rest, so that unrelated names do not collide."""
    chars = [c for c in han if _HAN.match(c)]
    if not chars:
        return []
    # Imported here: loading its dictionaries costs 0.3 s, which every command paid at
    # start-up, though most (stats, show, a re-run ingest) never convert a name.
    from pypinyin import Style, pinyin
    first = pinyin(chars[0], style=Style.NORMAL, heteronym=True, errors="ignore")
    rest = pinyin(chars[1:], style=Style.NORMAL, errors="ignore") if len(chars) > 1 else []
    return first + rest


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
