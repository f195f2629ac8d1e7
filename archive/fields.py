"""The field registry: each catalog field declared once, so the export, stats and search agree."""
from __future__ import annotations

from dataclasses import dataclass

MATERIAL_TYPES: tuple[str, ...] = (
    "letter", "manuscript", "photograph", "audio", "video", "document", "other",
)
# One letter per type, used in accession numbers (QXS-L-00001); never reuse a letter.
TYPE_CODES: dict[str, str] = {
    "letter": "L", "manuscript": "M", "photograph": "P", "audio": "A",
    "video": "V", "document": "D", "other": "O",
}
ACCESS_LEVELS: tuple[str, ...] = ("open", "restricted", "closed")
FILE_ROLES: tuple[str, ...] = ("master", "page", "transcript", "sidecar")


@dataclass(frozen=True)
class Field:
    name: str
    kind: str  # "text", "keyword", "int", "float", "date"
    help: str


# The keys of `archive export`, in column order; README's table is written from this list.
EXPORT_FIELDS: tuple[Field, ...] = (
    Field("accession", "keyword", "accession number of the item the file belongs to"),
    Field("root", "keyword", "absolute path of the source root the file was ingested from"),
    Field("path", "keyword", "path relative to its root, POSIX separators"),
    Field("sha256", "keyword", "SHA-256 of the file's bytes, hex"),
    Field("size", "int", "size in bytes"),
    Field("mime", "keyword", "MIME type identified from the content"),
    Field("role", "keyword", "master, page, transcript or sidecar"),
    Field("type", "keyword", "material type of the item"),
    Field("scientist", "text", "preferred name of the item's scientist"),
    Field("title", "text", "title of the item"),
    Field("date", "keyword", "date of the item as catalogued (1950, 1950-03, 1950-03-15, ...)"),
    Field("access", "keyword", "open, restricted or closed"),
    Field("duration_seconds", "float", "duration of audio or video"),
    Field("width", "int", "image or video width in pixels"),
    Field("height", "int", "image or video height in pixels"),
    Field("pages", "int", "page count of a PDF or multi-page image"),
    Field("camera_make", "text", "EXIF Make"),
    Field("camera_model", "text", "EXIF Model"),
    Field("date_taken", "keyword", "EXIF DateTimeOriginal (else DateTime), ISO 8601"),
    Field("text_excerpt", "text", "first 200 characters of the extracted text"),
    Field("problem", "text", "why extraction failed, if it did"),
    Field("duplicate_of", "keyword", "path (root-relative) of the first copy of the same bytes"),
)
EXPORT_KEYS: tuple[str, ...] = tuple(f.name for f in EXPORT_FIELDS)
