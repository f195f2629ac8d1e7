"""The rows every exhibit export is made of: one per object, in exhibit order."""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from archive.access import Viewer, can_see, item_is_public
from archive.derivatives import derivative_path
from archive.durations import hms
from archive.errors import UsageError
from archive.exhibits import get_exhibit, sections_in_order
from archive.fields import EXHIBIT_FIELDS, MAIN_ROLES
from archive.models import File

SCHEMA_VERSION = "archive-exhibit/1"
# The object's place, its fields as the registry declares them for exhibits, its files.
COLUMNS = ("position", "section", *EXHIBIT_FIELDS, "files", "sha256", "thumbnail")


@dataclass(frozen=True)
class FileInfo:
    path: str
    role: str
    mime: str | None
    sha256: str | None
    width: int | None
    height: int | None
    duration: float | None
    pages: int | None


@dataclass(frozen=True)
class ObjectRow:
    position: int
    section: str | None
    accession: str
    title: str
    scientist: str | None
    type: str
    date: str | None
    description: str | None
    caption: str | None
    pages: int | None
    width: int | None
    height: int | None
    duration_seconds: float | None
    location: str | None
    rights: str | None
    access: str
    collection: str | None = None
    files: list[FileInfo] = field(default_factory=list)
    sha256: str | None = None  # of the main file
    thumbnail: str | None = None  # absolute path of the thumbnail, when one was built

    @property
    def extent(self) -> str:
        """'2 pages', '1024 × 768 px', '0:20:00': what a label or a registrar wants."""
        if self.type in ("audio", "video") and self.duration_seconds:
            return hms(self.duration_seconds)
        if self.pages and (self.type != "photograph" or self.pages > 1):
            return f"{self.pages} page{'s' if self.pages != 1 else ''}"
        if self.width and self.height:
            return f"{self.width} × {self.height} px"
        return ""

    def cells(self) -> dict[str, Any]:
        """The flat record of CSV and XLSX, in COLUMNS order."""
        fields = {name: getattr(self, name) or "" for name in EXHIBIT_FIELDS}
        return {"position": self.position, "section": self.section or "", **fields,
                "files": "; ".join(f.path for f in self.files), "sha256": self.sha256 or "",
                "thumbnail": self.thumbnail or ""}


@dataclass(frozen=True)
class ExhibitExport:
    slug: str
    title: str
    description: str | None
    sections: list[str | None]
    rows: list[ObjectRow]


def _thumbnail(derivatives: Path, f: File) -> str | None:
    if not f.sha256:
        return None
    for kind in ("thumbnail", "poster", "waveform"):
        p = derivative_path(derivatives, f.sha256, kind)
        if p.exists():
            return str(p)
    return None


def object_row(item: Any, derivatives: Path, position: int = 1, section: str | None = None,
               caption: str | None = None) -> ObjectRow:
    """One catalogued item as a row (an exhibit's object, or an item alone)."""
    files = sorted(item.files, key=lambda f: (f.role != "master", f.path))
    main = next((f for f in files if f.role in MAIN_ROLES), None)
    infos = [FileInfo(f.path, f.role, f.mime, f.sha256, f.width, f.height, f.duration,
                      f.pages) for f in files]
    return ObjectRow(
        position=position, section=section, accession=item.accession, title=item.title,
        scientist=item.scientist.name if item.scientist else None, type=item.type,
        date=item.date,
        description=item.description or ((main.tech or {}).get("exif_description")
                                         if main else None),
        caption=caption,
        pages=item.pages, width=main.width if main else None,
        height=main.height if main else None, duration_seconds=item.seconds,
        location=item.location, rights=item.rights, access=item.access,
        collection=item.collection, files=infos,
        sha256=main.sha256 if main else None,
        thumbnail=_thumbnail(derivatives, main) if main else None)


def build_export(s: Session, slug: str, derivatives: Path,
                 include_restricted: bool = False,
                 viewer: Viewer | None = None) -> ExhibitExport:
    """Collect the exhibit's rows. Restricted and closed objects stop the export, by name,
    unless `include_restricted`: nothing restricted reaches a file by accident. With a
    `viewer`, the objects that viewer may not see are left out instead, as the site does."""
    exhibit = get_exhibit(s, slug)
    # A withdrawn object leaves every export, even a deliberate one of restricted material;
    # it comes back when reinstated.
    entries = [e for e in exhibit.entries if e.item.withdrawn_at is None]
    if viewer is not None:
        entries = [e for e in entries if can_see(viewer, e.item)]
    hidden = [f"{e.item.accession} ({e.item.access})" for e in entries
              if not item_is_public(e.item)]
    if hidden and not include_restricted and viewer is None:
        raise UsageError(f"exhibit {slug!r} holds objects that are not open: "
                         f"{', '.join(hidden)}; remove them or pass --include-restricted")
    rows = [object_row(e.item, derivatives, e.position, e.section, e.caption) for e in entries]
    return ExhibitExport(exhibit.slug, exhibit.title, exhibit.description,
                         sections_in_order(entries), rows)
