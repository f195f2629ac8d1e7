"""ID3v2 text frames (title, artist, album, date, genre, comment), read directly: the tags of an
MP3 stay readable when the audio after them is too damaged for FFmpeg to open.

    read_id3_tags(path) -> {"title": "角落之歌", "artist": "苏云", ...}
"""
from __future__ import annotations

import os

from media.textcodec import repair_mislabelled_latin1

_FRAMES = {
    b"TIT2": "title", b"TT2": "title", b"TPE1": "artist", b"TP1": "artist",
    b"TALB": "album", b"TAL": "album", b"TDRC": "date", b"TYER": "date", b"TYE": "date",
    b"TCON": "genre", b"TCO": "genre", b"COMM": "comment", b"COM": "comment",
}
_ENCODINGS = {0: "latin-1", 1: "utf-16", 2: "utf-16-be", 3: "utf-8"}
MAX_TAG_BYTES = 1024 * 1024


def _syncsafe(b: bytes) -> int:
    return (b[0] << 21) | (b[1] << 14) | (b[2] << 7) | b[3]


def _text(payload: bytes, comment: bool) -> str:
    if not payload:
        return ""
    encoding = _ENCODINGS.get(payload[0], "latin-1")
    body = payload[1:]
    if comment:  # language (3 bytes), short description, NUL, text
        body = body[3:]
        sep = b"\x00\x00" if encoding.startswith("utf-16") else b"\x00"
        idx = body.find(sep)
        body = body[idx + len(sep):] if idx >= 0 else body
    if encoding.startswith("utf-16") and len(body) % 2:
        body = body[:-1]  # a stray terminator byte some taggers write
    text = body.decode(encoding, errors="replace").replace("\x00", " ").strip()
    return repair_mislabelled_latin1(text) if encoding == "latin-1" else text


def read_id3_tags(path: str | os.PathLike[str]) -> dict[str, str]:
    """Text tags of an ID3v2.2/2.3/2.4 header; {} when there is none or it is unreadable."""
    with open(path, "rb") as fh:
        header = fh.read(10)
        if len(header) < 10 or header[:3] != b"ID3" or header[3] not in (2, 3, 4):
            return {}
        version, flags = header[3], header[5]
        size = min(_syncsafe(header[6:10]), MAX_TAG_BYTES)
        data = fh.read(size)
    if flags & 0x80 and version < 4:  # whole-tag unsynchronisation
        data = data.replace(b"\xff\x00", b"\xff")
    id_len, head_len = (3, 6) if version == 2 else (4, 10)
    tags: dict[str, str] = {}
    pos = 0
    while pos + head_len <= len(data):
        frame_id = data[pos:pos + id_len]
        if not frame_id.strip(b"\x00") or not frame_id.isalnum():
            break
        raw = data[pos + id_len:pos + id_len + (3 if version == 2 else 4)]
        length = int.from_bytes(raw, "big") if version in (2, 3) else _syncsafe(raw)
        payload = data[pos + head_len:pos + head_len + length]
        key = _FRAMES.get(frame_id)
        if key and key not in tags:
            value = _text(payload, comment=key == "comment")
            if value:
                tags[key] = value
        pos += head_len + max(length, 0)
        if length <= 0:
            break
    return tags
