"""What the site shows, read from the catalog: only what the request's viewer may see, asked of
the database through the one rule (archive/access.py), never loaded for everyone and filtered."""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from typing import Any

from sqlalchemy import extract, func, select
from sqlalchemy.orm import Session

from archive.access import Viewer, can_see, visible_items
from archive.accession import normalise_accession
from archive.derivatives import SUFFIXES, derivative_path
from archive.errors import NotFound
from archive.exhibits import get_exhibit
from archive.fields import MAIN_ROLES
from archive.models import Exhibit, File, FileText, Item, Root, Scientist
from archive.paths import filesystem_path
from archive.scientists import ScientistMatcher

def visible_item(s: Session, accession: str, viewer: Viewer) -> Item:
    item = s.scalars(select(Item).where(Item.accession == normalise_accession(accession),
                                        visible_items(viewer))).first()
    if item is None:
        raise NotFound(accession)  # what the viewer may not see is simply not here
    return item


def item_file(s: Session, item: Item, path: str) -> File:
    f = s.scalars(select(File).where(File.item_id == item.id, File.path == path)).first()
    if f is None:
        raise NotFound(path)
    return f


def file_on_disk(s: Session, f: File) -> str:
    """The original's path, refusing anything that resolves outside its catalogued root (a
    symbolic link planted after ingest, say): the site never serves other files."""
    root = s.get(Root, f.root_id)
    if root is None:
        raise NotFound(f.path)
    path = os.path.realpath(filesystem_path(root.path, f.path, f.path_raw))
    real_root = os.path.realpath(root.path)
    if not path.startswith(real_root.rstrip(os.sep) + os.sep) or not os.path.isfile(path):
        raise NotFound(f.path)
    return path


def derivative_on_disk(derivatives: Any, f: File, kind: str) -> str:
    if kind not in SUFFIXES or not f.sha256:
        raise NotFound(kind)
    p = derivative_path(derivatives, f.sha256, kind)
    if not p.is_file():
        raise NotFound(kind)
    return str(p)


def available_derivatives(derivatives: Any, f: File) -> set[str]:
    return {k for k in SUFFIXES if f.sha256 and derivative_path(derivatives, f.sha256, k).is_file()}


@dataclass
class FileView:
    path: str
    role: str
    mime: str
    kind: str  # image, audio, video, pdf, text, other
    size: int
    width: int | None
    height: int | None
    duration: float | None
    pages: int | None
    derivatives: set[str]
    text: str | None
    cues: list[list[Any]] | None
    # Not where it was catalogued (ingest or `archive verify` found it gone, or it is not on
    # disk now): the page says so instead of showing a broken file, and it is not linked.
    missing: bool = False
    missing_since: dt.datetime | None = None


def is_missing(s: Session, f: File) -> bool:
    """The catalog says the file is missing, or it cannot be served from its root now."""
    if f.status == "missing":
        return True
    try:
        file_on_disk(s, f)
    except NotFound:
        return True
    return False


def item_files(s: Session, item: Item, derivatives: Any) -> list[FileView]:
    out = []
    for f in sorted(item.files, key=lambda f: (f.role not in MAIN_ROLES, f.role != "master",
                                               f.path)):
        text = s.get(FileText, f.id)
        tech = f.tech or {}
        out.append(FileView(f.path, f.role, f.mime or "", tech.get("kind", "other"), f.size,
                            f.width, f.height, f.duration, f.pages,
                            available_derivatives(derivatives, f),
                            text.text if text else None, text.cues if text else None,
                            is_missing(s, f),
                            f.status_since if f.status == "missing" else None))
    return out


def find_scientist(s: Session, name: str) -> Scientist:
    """The scientist whose preferred name this is, else the one scientist any of whose names
    matches. The exact name comes first: the site links by preferred name, and that link must
    work even when another scientist shares a matching variant (#12.7)."""
    exact = s.scalars(select(Scientist).where(Scientist.name == name)).first()
    if exact is not None:
        return exact
    sid = ScientistMatcher(s).match(name)
    if sid is None:
        raise NotFound(name)
    return s.get(Scientist, sid)  # type: ignore[return-value]


def scientist_holdings(s: Session, scientist: Scientist, viewer: Viewer) -> dict[str, Any]:
    """The holdings the viewer may see by type, minutes of audio and video, items per year."""
    mine = (Item.scientist_id == scientist.id) & visible_items(viewer)
    by_type = {t: (n, secs or 0.0) for t, n, secs in s.execute(
        select(Item.type, func.count(Item.id), func.sum(Item.seconds)).where(mine)
        .group_by(Item.type).order_by(func.count(Item.id).desc()))}
    year = extract("year", Item.date_start)
    counted = {int(y): n for y, n in s.execute(
        select(year, func.count(Item.id)).where(mine, Item.date_start.is_not(None))
        .group_by(year)) if y is not None}
    # Every year of the span, empty ones too: a timeline shows the gaps in a life's record.
    years = [(y, counted.get(y, 0)) for y in range(min(counted), max(counted) + 1)] \
        if counted and max(counted) - min(counted) <= 150 else sorted(counted.items())
    return {"by_type": by_type, "total": sum(n for n, _ in by_type.values()),
            "audio_minutes": round(by_type.get("audio", (0, 0.0))[1] / 60, 1),
            "video_minutes": round(by_type.get("video", (0, 0.0))[1] / 60, 1),
            "years": years, "max_per_year": max((n for _, n in years), default=0)}


def recent_items(s: Session, scientist: Scientist, viewer: Viewer,
                 limit: int = 50) -> list[Item]:
    return list(s.scalars(select(Item).where(Item.scientist_id == scientist.id,
                                             visible_items(viewer))
                          .order_by(Item.date_start.is_(None), Item.date_start, Item.accession)
                          .limit(limit)))


def main_file(item: Item) -> File | None:
    return next((f for f in sorted(item.files, key=lambda f: f.path)
                 if f.role in MAIN_ROLES), None)


def visible_exhibit(s: Session, slug: str, viewer: Viewer) -> tuple[Exhibit, list[Any]]:
    """The exhibit and the entries the viewer may see (an exhibit holds a handful, loaded with
    it; the same rule as the SQL, in Python)."""
    exhibit = get_exhibit(s, slug)
    return exhibit, [e for e in exhibit.entries if can_see(viewer, e.item)]


def exhibits(s: Session) -> list[Exhibit]:
    return list(s.scalars(select(Exhibit).order_by(Exhibit.title)))


def scientists(s: Session, viewer: Viewer) -> list[tuple[Scientist, int]]:
    counts = dict(s.execute(select(Item.scientist_id, func.count(Item.id))
                            .where(visible_items(viewer))
                            .group_by(Item.scientist_id)).all())
    return [(sci, counts.get(sci.id, 0))
            for sci in s.scalars(select(Scientist).order_by(Scientist.name))]


def picture_for(derivatives: Any, f: File | None) -> str | None:
    """Which derivative pictures a file best: thumbnail, else poster frame, else waveform."""
    if f is None:
        return None
    have = available_derivatives(derivatives, f)
    return next((k for k in ("thumbnail", "poster", "waveform") if k in have), None)


def pictures(s: Session, accessions: list[str], derivatives: Any,
             viewer: Viewer) -> dict[str, tuple[str, str]]:
    """accession -> (file path, derivative kind) for the hits of a results page."""
    out: dict[str, tuple[str, str]] = {}
    for item in s.scalars(select(Item).where(Item.accession.in_(accessions),
                                             visible_items(viewer))):
        f = main_file(item)
        kind = picture_for(derivatives, f)
        if f is not None and kind:
            out[item.accession] = (f.path, kind)
    return out
