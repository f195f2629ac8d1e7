"""How file paths are kept in the catalog: root-relative, POSIX, and safe for names that are
not valid UTF-8 (kept byte-exact in a second column).

    catalog_path("钱学森/信件/x.jpg")  -> ("钱学森/信件/x.jpg", None)
    catalog_path("bad/\\udcff.jpg")    -> ("bad/\\\\xff.jpg", b"bad/\\xff.jpg")
"""
from __future__ import annotations

import os
import posixpath
import re
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


def parse_root_map(text: str) -> dict[str, str]:
    """The setting root_map: catalogued root = this machine's path, entries separated by ';'
    or new lines (a TOML table is turned into this form by the settings).

        parse_root_map("/srv/archive=/mnt/archive; /data = /Volumes/data")
            -> {"/srv/archive": "/mnt/archive", "/data": "/Volumes/data"}
        parse_root_map("")            -> {}
        parse_root_map("/srv/archive") -> ValueError (no '=')
    """
    mapping: dict[str, str] = {}
    for entry in re.split(r"[;\n]", text):
        if not entry.strip():
            continue
        catalogued, sep, local = entry.partition("=")
        if not sep or not catalogued.strip() or not local.strip():
            raise ValueError(f"{entry.strip()!r} is not CATALOGUED_ROOT=LOCAL_PATH")
        mapping[catalogued.strip().rstrip("/") or "/"] = local.strip().rstrip("/") or "/"
    return mapping


def local_root(root: str, mapping: dict[str, str]) -> str:
    """Where a catalogued root is on this machine: the longest mapped folder it lies in (or
    is) replaced by its local path; unmapped roots are where they were catalogued.

        local_root("/srv/archive/qian", {"/srv/archive": "/mnt/a"})  -> "/mnt/a/qian"
        local_root("/srv/archive", {"/srv/archive": "/mnt/a"})       -> "/mnt/a"
        local_root("/srv/archived", {"/srv/archive": "/mnt/a"})      -> "/srv/archived"
        local_root("/data/x", {})                                    -> "/data/x"
    """
    best = ""
    for catalogued in mapping:
        if (root == catalogued or root.startswith(catalogued.rstrip("/") + "/")) \
                and len(catalogued) > len(best):
            best = catalogued
    if not best:
        return root
    return mapping[best] + root[len(best):] if best != "/" else mapping[best] + root


def scopes_overlap(a: str | None, b: str | None) -> bool:
    """True when two lock scopes (folders, None for the whole catalog) share any file."""
    if a is None or b is None:
        return True
    a, b = a.rstrip(os.sep) + os.sep, b.rstrip(os.sep) + os.sep
    return a.startswith(b) or b.startswith(a)


def is_gone(path: str) -> bool:
    """True only when the file is certainly not there: a folder that cannot be read (EACCES)
    says nothing about its files, so they are never called missing for it."""
    try:
        os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return True
    except OSError:
        return False
    return False
