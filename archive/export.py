"""`archive export`: the whole catalog, one record per file, streamed in file order."""
from __future__ import annotations

import json
from collections.abc import Iterator
from typing import IO, Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from archive.access import not_withdrawn
from archive.csvfiles import CsvWriter
from archive.fields import EXPORT_KEYS
from archive.models import File, FileText, Item, Root, Scientist

EXCERPT_CHARS = 200
PRESENT = "present"  # a file's status when none is recorded (catalogs made before statuses)
_CHUNK = 500


def export_records(s: Session) -> Iterator[dict[str, Any]]:
    """Yield one dict per file with exactly EXPORT_KEYS, None where unknown."""
    original = aliased(File)
    query = (
        select(Item.accession, Root.path.label("root"), File.path, File.sha256, File.size,
               File.mime, File.role, Item.type, Scientist.name.label("scientist"), Item.title,
               Item.date, Item.access, Item.access_until, Item.collection,
               File.duration.label("duration_seconds"), File.width, File.height, File.pages,
               File.camera_make, File.camera_model, File.date_taken,
               func.substr(FileText.text, 1, EXCERPT_CHARS).label("text_excerpt"),
               File.problem, original.path.label("duplicate_of"),
               func.coalesce(File.status, PRESENT).label("status"), File.last_verified)
        .join(Item, File.item_id == Item.id)
        .join(Root, File.root_id == Root.id)
        .outerjoin(Scientist, Item.scientist_id == Scientist.id)
        .outerjoin(FileText, FileText.file_id == File.id)
        .outerjoin(original, File.duplicate_of_id == original.id)
        .where(not_withdrawn())  # withdrawn items leave every export
        .order_by(File.id)
        .execution_options(yield_per=_CHUNK)
    )
    for row in s.execute(query):
        record = dict(row._mapping)
        if record["access_until"] is not None:
            record["access_until"] = record["access_until"].isoformat()
        if record["last_verified"] is not None:
            record["last_verified"] = record["last_verified"].isoformat(timespec="seconds")
        yield {key: record.get(key) for key in EXPORT_KEYS}


def write_export(records: Iterator[dict[str, Any]], fmt: str, out: IO[str]) -> int:
    """Write records as JSON Lines, or as CSV through the archive's one CSV writer (a BOM for
    Excel, formula-safe text, numbers as numbers); returns the count."""
    count = 0
    if fmt == "jsonl":
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
            count += 1
        return count
    writer = CsvWriter(out, EXPORT_KEYS)
    for record in records:
        writer.row(record)
        count += 1
    return count
