"""Archivists' CSV manifests: per-file metadata that overrides what ingest derives.

Columns: path, then every editable field of the registry (archive/fields.py: title, date,
scientist, type, access, description, rights, location, access_until (the sealing date),
collection); any other column is kept as an extra field of the item. Every bad row is
reported before anything is written (ManifestError).
"""
from __future__ import annotations

import datetime as dt
import os
import posixpath
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from archive.cells import read_cell
from archive.csvfiles import CsvTable, read_csv
from archive.dates import ItemDate
from archive.fields import EDITABLE_FIELDS
from archive.errors import ManifestError, RowError
from archive.paths import manifest_key

MANIFEST_COLUMNS = ("path", *EDITABLE_FIELDS)
# The coded cells first: a row's errors are listed in this order.
_READ_ORDER = ("type", "access", "date", "scientist",
               *(f for f in EDITABLE_FIELDS if f not in ("type", "access", "date", "scientist")))


@dataclass(frozen=True)
class ManifestRow:
    number: int
    path: str  # manifest_key form
    root: str  # the ingest root the path was found under
    scientist: str | None = None
    type: str | None = None
    title: str | None = None
    date: ItemDate | None = None
    description: str | None = None
    access: str | None = None
    rights: str | None = None
    location: str | None = None
    access_until: dt.date | None = None  # sealed until: opens by itself that day
    collection: str | None = None
    extra: dict[str, str] = field(default_factory=dict)


def _exists_nfc(root: str, rel: str) -> bool:
    """Is `rel` (NFC) a file under root, allowing names stored in NFD on disk (macOS)?"""
    path = os.path.join(root, *rel.split("/"))
    if os.path.isfile(path):
        return True
    current = root
    for part in rel.split("/"):
        try:
            names = {unicodedata.normalize("NFC", n): n for n in os.listdir(current)}
        except OSError:
            return False
        if part not in names:
            return False
        current = os.path.join(current, names[part])
    return os.path.isfile(current)


def parse_manifest(table: CsvTable, roots: Sequence[str],
                   known_scientist: Callable[[str], bool]) -> dict[str, ManifestRow]:
    """Validate every row; return rows keyed by manifest_key(path) or raise ManifestError."""
    rows: dict[str, ManifestRow] = {}
    bad: list[RowError] = []
    seen: dict[str, int] = {}
    for row in table.rows:
        c = row.cells
        errors: list[str] = []
        raw_path = c.get("path", "")
        key = manifest_key(raw_path)
        root = None
        if row.overflow:
            errors.append("more cells than the header has columns")
        if not key:
            errors.append("the path is empty")
        elif posixpath.isabs(key) or key == ".." or key.startswith("../"):
            errors.append(f"path {raw_path!r} must be relative to the ingest folder, inside it")
        elif key in seen:
            errors.append(f"path {raw_path!r} is already described in row {seen[key]}")
        else:
            root = next((r for r in roots if _exists_nfc(r, key)), None)
            if root is None:
                errors.append(f"no file {raw_path!r} under {' or '.join(roots)}")
        # Each metadata cell is read exactly as `archive edit` reads it (archive/cells.py).
        values: dict[str, Any] = {}
        for name in _READ_ORDER:
            try:
                values[name] = read_cell(name, c.get(name, ""), known_scientist)
            except ValueError as exc:
                errors.append(str(exc))
        if errors:
            bad.append(RowError(row.number, "; ".join(errors)))
            continue
        seen[key] = row.number
        rows[key] = ManifestRow(
            number=row.number, path=key, root=root or "", **values,
            extra={k: v for k, v in c.items() if k not in MANIFEST_COLUMNS and v},
        )
    if bad:
        raise ManifestError(table.path, bad)
    return rows


def load_manifest(path: str, roots: Sequence[str],
                  known_scientist: Callable[[str], bool]) -> dict[str, ManifestRow]:
    return parse_manifest(read_csv(path, required=("path",)), roots, known_scientist)
