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
