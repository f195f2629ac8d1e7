"""One item as a plain dict, with its files and provenance: what `archive show` prints."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.accession import find_item
from archive.derivatives import existing_derivatives
from archive.models import Event, File, FileText, Root

SHOW_TEXT_CHARS = 500


def _iso(at: dt.datetime | None) -> str | None:
    return at.isoformat(timespec="seconds") if at is not None else None


def item_record(s: Session, accession: str,
                derivatives_dir: Path | None = None) -> dict[str, Any]:
    item = find_item(s, accession)
    roots = dict(s.execute(select(Root.id, Root.path)).all())
    files = []
    paths: dict[int, str] = {}
    for f in s.scalars(select(File).where(File.item_id == item.id).order_by(File.path)):
        text = s.get(FileText, f.id)
        entry = {
            "path": f.path, "root": roots.get(f.root_id), "role": f.role, "size": f.size,
            "sha256": f.sha256, "mime": f.mime, "format": f.format, "width": f.width,
            "height": f.height, "duration_seconds": f.duration, "pages": f.pages,
            "camera_make": f.camera_make, "camera_model": f.camera_model,
            "date_taken": f.date_taken, "gps": [f.gps_lat, f.gps_lon] if f.gps_lat else None,
            "orientation": f.orientation, "technical": f.tech, "problem": f.problem,
            # A missing or changed file says so and since when; a present one says nothing.
            "status": f.status if f.status in ("missing", "changed") else None,
            "status_since": _iso(f.status_since) if f.status in ("missing", "changed")
            else None,
            "last_verified": _iso(f.last_verified),
            "duplicate_of": s.scalar(select(File.path).where(File.id == f.duplicate_of_id))
            if f.duplicate_of_id else None,
            "text": text.text[:SHOW_TEXT_CHARS] if text else None,
            "cues": len(text.cues) if text and text.cues else None,
            "derivatives": (existing_derivatives(derivatives_dir, f.sha256) or None)
            if derivatives_dir else None,
        }
        files.append({k: v for k, v in entry.items() if v is not None})
        paths[f.id] = f.path
    events = [{"at": e.at.isoformat(timespec="seconds"), "kind": e.kind, "agent": e.agent,
               "tool": e.tool, "outcome": e.outcome, "field": e.field, "old": e.old_value,
               "new": e.new_value, "detail": e.detail,
               "file": paths.get(e.file_id) if e.file_id else None}
              for e in s.scalars(select(Event).where(Event.item_id == item.id)
                                 .order_by(Event.id))]
    return {
        "accession": item.accession, "title": item.title, "type": item.type,
        "scientist": item.scientist.name if item.scientist else None,
        "date": item.date, "description": item.description, "access": item.access,
        "rights": item.rights, "location": item.location, "pages": item.pages,
        "seconds": item.seconds, "extra": item.extra,
        "withdrawn_at": _iso(item.withdrawn_at), "withdrawn_reason": item.withdrawn_reason,
        "files": files,
        "events": [{k: v for k, v in e.items() if v is not None} for e in events],
    }
