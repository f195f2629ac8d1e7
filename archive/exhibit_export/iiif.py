"""A IIIF Presentation 3 manifest of the exhibit, made by the one manifest builder
(archive/standards/iiif.py): one canvas per image, page, recording or video, in exhibit order,
with a range per section; images carry their Image API service on the site."""
from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import quote

from archive.exhibit_export.rows import ExhibitExport, ObjectRow
from archive.standards.iiif import Picture, SiteFiles, build_manifest as build, image_id

DEFAULT_BASE_URL = "http://127.0.0.1:8000"


def manifest_id(base_url: str, slug: str) -> str:
    return f"{base_url.rstrip('/')}/exhibits/{quote(slug)}/manifest.json"


def row_files(row: ObjectRow) -> SiteFiles:
    """What the catalog row alone says the site serves: each image through the Image API."""
    return SiteFiles(images={
        f.path: Picture(image_id(row.accession, f.sha256), f.width, f.height)
        for f in row.files
        if (f.mime or "").startswith("image/") and f.sha256 and f.width and f.height})


def build_manifest(export: ExhibitExport, base_url: str = DEFAULT_BASE_URL,
                   site: dict[str, SiteFiles] | None = None) -> Any:
    """`site` (accession -> SiteFiles) is what the site knows beyond the rows (transcripts,
    access copies, thumbnails); without it, the rows alone."""
    objects = [(row, (site or {}).get(row.accession) or row_files(row)) for row in export.rows]
    return build(manifest_id(base_url, export.slug), export.title, export.description, objects,
                 base_url)


def write_manifest(export: ExhibitExport, path: Path, base_url: str = DEFAULT_BASE_URL) -> None:
    path.write_text(build_manifest(export, base_url).json(indent=2, ensure_ascii=False) + "\n",
                    encoding="utf-8")
