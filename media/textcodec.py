"""Decoding text of unknown encoding: BOMs, then strict UTF-8, then charset detection.

    decode_text(b"\\xef\\xbb\\xbfhi")        -> DecodedText("hi", "utf-8-sig")
    decode_text("钱学森".encode("gb18030"))  -> DecodedText("钱学森", "gb18030")
"""
from __future__ import annotations

import codecs
from dataclasses import dataclass

from charset_normalizer import from_bytes

from media.problems import MediaProblem

_BOMS = ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
         (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
         (codecs.BOM_UTF16_BE, "utf-16"))


@dataclass(frozen=True)
class DecodedText:
    text: str
    encoding: str


def decode_text(data: bytes) -> DecodedText:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return DecodedText(data.decode(encoding, errors="replace"), encoding)
    try:
        return DecodedText(data.decode("utf-8"), "utf-8")
    except UnicodeDecodeError:
        pass
    best = from_bytes(data[:200_000]).best()
    if best is None:
        raise MediaProblem("not-text", "the bytes are not text in any known encoding")
    encoding = best.encoding
    # GB2312 and GBK are subsets of GB18030; decoding as the superset loses nothing.
    if encoding in ("gb2312", "gbk"):
        encoding = "gb18030"
    return DecodedText(data.decode(encoding, errors="replace"), encoding)


def repair_mislabelled_latin1(value: str) -> str:
    """Text that is really GBK (or UTF-8, Big5) bytes but was declared Latin-1, as in many
    Chinese MP3 tags, decoded again; other text is returned unchanged.

    repair_mislabelled_latin1("½ÇÂäÖ®¸è") -> "角落之歌"
    repair_mislabelled_latin1("Crémieux") -> "Crémieux"
    """
    value = value.strip("\x00 ").strip()
    if not value or not all(ord(c) < 256 for c in value) or all(ord(c) < 128 for c in value):
        return value
    raw = value.encode("latin-1")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    for encoding in ("gb18030", "big5"):
        try:
            decoded = raw.decode(encoding)
        except UnicodeDecodeError:
            continue
        # Accept only if the result is Han text: Latin-1 words such as "Crémieux" can also
        # decode as GB18030, into nonsense that mixes Latin letters and rare characters.
        han = sum(1 for c in decoded if "\u4e00" <= c <= "\u9fff")
        if han and han >= len([c for c in decoded if not c.isascii()]) * 0.8 \
                and not any(c.isascii() and c.isalpha() for c in decoded):
            return decoded
    return value
