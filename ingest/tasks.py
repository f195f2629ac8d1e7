"""What flows between the ingest stages (ingest/stages.py): one typed record per file."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ingest.classify import Grouping
from ingest.extraction import Extraction
from ingest.manifest import ManifestRow
from ingest.workers import WorkerFailure

if TYPE_CHECKING:
    from ingest.describe import ItemFacts


@dataclass(frozen=True)
class FileJob:
    """Everything known about a file before extraction (the plan stage makes it)."""
    root_id: int
    root: str
    path: str  # catalog form, root-relative POSIX
    path_raw: bytes | None
    folder: str
    abs: str
    size: int
    mtime_ns: int
    grouping: Grouping
    chain: tuple[str, ...]  # root's own name, then folders down to the file
    existing_id: int | None = None  # the catalogued row, when the file changed
    manifest: ManifestRow | None = None


@dataclass(frozen=True)
class Extracted:
    """A file after the extract stage: its extraction, or, when not even its bytes could be
    read, why (such a file gets no row, only a problem)."""
    job: FileJob
    extraction: Extraction | None
    failure: WorkerFailure | None = None


@dataclass(frozen=True)
class Described:
    """A file after the describe stage: what the writer stores, decided."""
    job: FileJob
    extraction: Extraction
    facts: ItemFacts
