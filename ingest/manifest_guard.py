"""Keeping manifests out of the catalog: a file once read as a manifest (or a copy of it) is
never catalogued as an item, and a CSV at the root of an ingest whose header has a `path`
column is taken for a manifest unless `--include-manifests` says otherwise. Its rows may
describe closed material; catalogued as an open item, they would be searchable and
downloadable."""
from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)
THIS_MANIFEST = "the manifest of this ingest"
USED_MANIFEST = "a manifest this catalog has used (manifests are never catalogued)"
COPY_OF_MANIFEST = "the same bytes as a manifest this catalog has used"
LIKELY_MANIFEST = ("likely a manifest (a CSV at the root with a path column); "
                   "pass --include-manifests to catalogue it")
_HEADER_BYTES = 64 * 1024


def has_path_column(head: bytes) -> bool:
    """Whether the first line of a CSV is a header row with a `path` column.

        has_path_column(b"path,title\\na.jpg,x\\n")        -> True
        has_path_column(b"\\xef\\xbb\\xbfPath;Title\\r\\n")  -> False  (one column "path;title")
        has_path_column(b"\\xef\\xbb\\xbf Path ,Title\\r\\n") -> True
        has_path_column(b"name,variants\\n")               -> False
        has_path_column(b"")                              -> False
    """
    # Here: a CSV at a root is rare, and a re-run of the rest need not load the CSV reading.
    import csv

    from archive.csvfiles import decode_csv_bytes
    line = head.split(b"\n", 1)[0].rstrip(b"\r")
    try:
        text, _ = decode_csv_bytes(line)
    except UnicodeError:
        return False
    try:
        cells = next(csv.reader([text]), [])
    except csv.Error:
        return False
    return "path" in {c.strip().lower() for c in cells}


@dataclass
class ManifestGuard:
    """What the walk asks about manifests during one ingest (see the module docstring)."""
    exclude: dict[str, str] = field(default_factory=dict)  # absolute path -> reason
    used: set[tuple[int, str]] = field(default_factory=set)  # (size, sha256)
    include_root_manifests: bool = False

    def screen_csv(self, path: str, size: int, at_root: bool) -> str | None:
        if self.used and any(size == n for n, _ in self.used):
            from media.checksum import sha256_file  # hashlib: only for a CSV of such a size
            try:
                sha, _ = sha256_file(path)
            except OSError:
                sha = ""
            if (size, sha) in self.used:
                return COPY_OF_MANIFEST
        if at_root and not self.include_root_manifests:
            try:
                with open(path, "rb") as fh:
                    head = fh.read(_HEADER_BYTES)
            except OSError:
                return None  # the extraction reports the unreadable file
            if has_path_column(head):
                return LIKELY_MANIFEST
        return None


def guard_of(used: Iterable[tuple[str, int, str]], this_manifest: str | None,
             include_root_manifests: bool) -> ManifestGuard:
    """The guard from the catalog's used manifests, (path, size, sha256) each, and this run's
    manifest. The rows are read by `load_guard`, or in plain SQL by a re-run (ingest/noop.py).

        guard_of([("/m.csv", 10, "ab")], "/n.csv", False).exclude
            -> {"/m.csv": USED_MANIFEST, "/n.csv": THIS_MANIFEST}
    """
    guard = ManifestGuard(include_root_manifests=include_root_manifests)
    for path, size, sha in used:
        guard.exclude[path] = USED_MANIFEST
        guard.used.add((size, sha))
    if this_manifest:
        guard.exclude[this_manifest] = THIS_MANIFEST
    return guard


def load_guard(s: Session | None, this_manifest: str | None,
               include_root_manifests: bool) -> ManifestGuard:
    # The models, imported here: a re-run that has nothing to do builds its guard without them.
    from sqlalchemy import select

    from archive.models import UsedManifest
    used = [] if s is None else [(path, size, sha) for path, size, sha in s.execute(
        select(UsedManifest.path, UsedManifest.size, UsedManifest.sha256))]
    return guard_of(used, this_manifest, include_root_manifests)


def remember_manifest(s: Session, path: str, run_id: int | None) -> None:
    """Record that `path` is used as a manifest; an item already catalogued from it (or from a
    copy of it), by an ingest that did not know, is withdrawn from every public surface."""
    from sqlalchemy import select

    from archive.changes import record_changes
    from archive.events import WITHDRAWAL, event_row, record_events
    from archive.models import File, Item, Root, UsedManifest, utcnow
    from media.checksum import sha256_file
    sha, size = sha256_file(path)
    row = s.scalars(select(UsedManifest).where(UsedManifest.path == path,
                                               UsedManifest.sha256 == sha)).first()
    if row is None:
        s.add(UsedManifest(path=path, size=size, sha256=sha))
    else:
        row.last_used_at = utcnow()
    candidates = set(s.scalars(select(File.item_id).where(File.sha256 == sha)))
    for root_id, root in s.execute(select(Root.id, Root.path)):
        if path.startswith(root.rstrip(os.sep) + os.sep):
            rel = os.path.relpath(path, root).replace(os.sep, "/")
            candidates |= set(s.scalars(select(File.item_id).where(File.root_id == root_id,
                                                                    File.path == rel)))
    items = list(s.scalars(select(Item).where(Item.id.in_(candidates),
                                              Item.withdrawn_at.is_(None))))
    if not items:
        return
    now, reason = utcnow(), f"used as a manifest ({path}); manifests are never items"
    for item in items:
        item.withdrawn_at, item.withdrawn_reason = now, reason
        log.warning("withdrew %s: %s", item.accession, reason)
    record_events(s, [event_row(WITHDRAWAL, item_id=i.id, run_id=run_id, detail=reason)
                      for i in items])
    record_changes(s, [i.id for i in items])
