"""How file paths are kept in the catalog: root-relative, POSIX, and safe for names that are
not valid UTF-8 (kept byte-exact in a second column).

    catalog_path("钱学森/信件/x.jpg")  -> ("钱学森/信件/x.jpg", None)
    catalog_path("bad/\\udcff.jpg")    -> ("bad/\\\\xff.jpg", b"bad/\\xff.jpg")
"""
from __future__ import annotations

import os
import posixpath
import unicodedata


def catalog_path(rel: str) -> tuple[str, bytes | None]:
    """(text form for the catalog, raw bytes when the name is not valid UTF-8)."""
    if rel.isascii():
        return rel, None
    try:
        rel.encode("utf-8")  # fails only on the surrogates that stand for undecodable bytes
        return rel, None
    except UnicodeEncodeError:
        raw = os.fsencode(rel)
        return raw.decode("utf-8", errors="backslashreplace"), raw


def filesystem_path(root: str, path: str, path_raw: bytes | None) -> str:
    """The path to open for a catalogued file."""
    rel = os.fsdecode(path_raw) if path_raw is not None else path
    return os.path.join(root, *rel.split("/"))


def manifest_key(path: str) -> str:
    """Paths compare in NFC, with '/' separators and no leading './': a manifest typed on
    Windows or macOS still names the same file as the walk found."""
    path = unicodedata.normalize("NFC", path.strip().replace("\\", "/"))
    while path.startswith("./"):
        path = path[2:]
    return posixpath.normpath(path) if path else path
