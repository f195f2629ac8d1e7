"""One item as a plain dict, with its files and provenance: what `archive show` prints."""
from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from archive.access import sealing_note
from archive.accession import find_item
from archive.derivatives import existing_derivatives
from archive.events import MOVE
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
    rows = list(s.scalars(select(Event).where(Event.item_id == item.id).order_by(Event.id)))
    # Each event names the file as it was then: a later move never rewrites history (#12.15).
    then = paths_at_events([(e.file_id, e.kind, e.old_value, e.detail) for e in rows], paths)
    events = [{"at": e.at.isoformat(timespec="seconds"), "kind": e.kind, "agent": e.agent,
               "tool": e.tool, "outcome": e.outcome, "field": e.field, "old": e.old_value,
               "new": e.new_value, "detail": e.detail, "file": path}
              for e, path in zip(rows, then, strict=True)]
    return {
        "accession": item.accession, "title": item.title, "type": item.type,
        "scientist": item.scientist.name if item.scientist else None,
        "date": item.date, "description": item.description, "access": item.access,
        "access_until": item.access_until.isoformat() if item.access_until else None,
        "sealing": sealing_note(item.access, item.access_until),
        "rights": item.rights, "location": item.location, "collection": item.collection,
        "pages": item.pages,
        "seconds": item.seconds, "extra": item.extra,
        "withdrawn_at": _iso(item.withdrawn_at), "withdrawn_reason": item.withdrawn_reason,
        "files": files,
        "events": [{k: v for k, v in e.items() if v is not None} for e in events],
    }


def paths_at_events(events: list[tuple[int | None, str, str | None, str | None]],
                    current: dict[int, str]) -> list[str | None]:
    """The path each event's file had when the event was recorded, from the files' paths now
    and the moves in between. Events are (file id, kind, old value, detail), oldest first; a
    move names the path it left in its old value (before #12.15, in its detail "old -> new").

        paths_at_events([(1, "ingestion", None, None), (1, "move", "a/x.jpg", None),
                         (1, "fixity check", None, None)], {1: "b/x.jpg"})
            -> ["a/x.jpg", "b/x.jpg", "b/x.jpg"]
        paths_at_events([(1, "ingestion", None, None), (1, "move", None, "a/x -> b/x")],
                        {1: "b/x"})                        -> ["a/x", "b/x"]
        paths_at_events([(None, "withdrawal", None, None)], {}) -> [None]
    """
    path_now = dict(current)
    out: list[str | None] = []
    for file_id, kind, old_value, detail in reversed(events):
        if file_id is None:
            out.append(None)
            continue
        path = path_now.get(file_id)
        out.append(path)
        if kind == MOVE and path is not None:
            left = old_value if old_value is not None else \
                (detail.split(" -> ", 1)[0] if detail and " -> " in detail else None)
            if left is not None:
                path_now[file_id] = left
    return out[::-1]
