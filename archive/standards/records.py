"""The plain records every standards builder takes: an item with its files and events, a
scientist with every name. Frozen dataclasses, so the builders stay pure functions.

    ItemRecord(type="letter", pages=2, ...).extent        -> Extent(2, "pages", None)
    ItemRecord(type="audio", seconds=1200.0, ...).extent  -> Extent(20.0, "minutes", None)
    dcmi_type("photograph")                               -> "StillImage"
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import archive
from archive.fields import MAIN_ROLES
from archive.standards.text import NormalDate, languages, normal_date

AGENCY = "The scientists' archive"  # maintenance agency named in EAD3 and EAC-CPF records
TOOL = f"archive {archive.__version__}"

# DCMI Type Vocabulary term of each material type (dc:type), beside the archive's own word.
_DCMI_TYPES = {"letter": "Text", "manuscript": "Text", "document": "Text",
               "photograph": "StillImage", "audio": "Sound", "video": "MovingImage"}
# Series titles of the finding aid, one per material type.
SERIES_TITLES = {"letter": "Letters", "manuscript": "Manuscripts", "photograph": "Photographs",
                 "audio": "Audio recordings", "video": "Video recordings",
                 "document": "Documents", "other": "Other material"}
ACCESS_NOTES = {"open": "Open for research.",
                "restricted": "Restricted: consult only with the archive's permission.",
                "closed": "Closed: not available for consultation."}


def dcmi_type(material_type: str) -> str | None:
    return _DCMI_TYPES.get(material_type)


@dataclass(frozen=True)
class Extent:
    quantity: float | int
    unit: str  # pages, minutes, files
    dimensions: str | None  # "1024 × 768 px" for images


@dataclass(frozen=True)
class FileRecord:
    path: str  # root-relative, POSIX, as catalogued
    role: str
    size: int
    sha256: str | None
    mime: str | None
    format: str | None
    width: int | None = None
    height: int | None = None
    root: str | None = None  # the catalogued root folder the original lives under
    path_raw: bytes | None = None  # the name's bytes when it is not valid UTF-8


@dataclass(frozen=True)
class EventRecord:
    id: int
    kind: str
    at: dt.datetime  # UTC, naive as the catalog stores it
    agent: str | None
    tool: str | None
    outcome: str
    file_path: str | None  # the file it concerned, None for the item (or a forgotten file)
    field: str | None = None
    old_value: str | None = None
    new_value: str | None = None
    detail: str | None = None


@dataclass(frozen=True)
class ItemRecord:
    accession: str
    title: str
    type: str
    scientist: str | None
    date: str | None
    date_start: dt.date | None
    date_end: dt.date | None
    date_precision: str | None
    description: str | None
    language: str | None  # as catalogued, e.g. "zh;en"
    access: str
    rights: str | None
    location: str | None
    pages: int | None
    seconds: float | None
    updated_at: dt.datetime | None = None
    scientist_code: str | None = None  # the accession prefix, as in OAI sets scientist:QXS
    files: tuple[FileRecord, ...] = ()
    events: tuple[EventRecord, ...] = ()

    @property
    def normal_date(self) -> NormalDate | None:
        return normal_date(self.date, self.date_start, self.date_end, self.date_precision)

    @property
    def languages(self) -> list[str]:
        """ISO 639-1 codes: as catalogued, else zh when the title or description is Chinese."""
        return languages(self.language, self.title, self.description)

    @property
    def main_file(self) -> FileRecord | None:
        return next((f for f in self.files if f.role == "master"),
                    next((f for f in self.files if f.role == "page"), None))

    @property
    def extent(self) -> Extent | None:
        main = self.main_file
        dims = f"{main.width} × {main.height} px" if main and main.width and main.height \
            else None
        if self.type in ("audio", "video") and self.seconds:
            return Extent(round(self.seconds / 60, 1), "minutes", dims)
        if self.pages:
            return Extent(self.pages, "pages" if self.pages != 1 else "page", dims)
        originals = [f for f in self.files if f.role in MAIN_ROLES]
        if originals:
            return Extent(len(originals), "files" if len(originals) != 1 else "file", dims)
        return None


@dataclass(frozen=True)
class NameRecord:
    name: str
    preferred: bool


@dataclass(frozen=True)
class ScientistRecord:
    name: str  # preferred form
    code: str  # accession prefix, the record's identifier
    variants: tuple[str, ...] = ()
    born: int | None = None
    died: int | None = None
    field: str | None = None
    biography: str | None = None  # `archive scientists edit --biography`

    def biography_paragraphs(self) -> list[str]:
        """The biography's paragraphs (blank-line separated) when the catalog has one; else a
        summary of what it knows (life dates, field), so a record is never left without one.

        ScientistRecord("钱学森", "QXS", born=1911, died=2009, field="力学")
            .biography_paragraphs() -> ["钱学森 (1911–2009). 力学."]
        ScientistRecord("钱学森", "QXS", born=1911, biography="生平。\n\nLife.")
            .biography_paragraphs() -> ["生平。", "Life."]
        """
        written = [p.strip() for p in (self.biography or "").split("\n\n") if p.strip()]
        if written:
            return written
        paras = []
        if self.born and self.died:
            life = f" ({self.born}–{self.died})"
        elif self.born:
            life = f" (born {self.born})"
        else:
            life = f" (died {self.died})" if self.died else ""
        if life or self.field:
            paras.append(f"{self.name}{life}" + (f". {self.field}" if self.field else "") + ".")
        return paras

    @property
    def names(self) -> list[NameRecord]:
        return [NameRecord(self.name, True)] + [NameRecord(v, False) for v in self.variants
                                                 if v != self.name]


@dataclass(frozen=True)
class SeriesSummary:
    """One material type of a fonds: how many items and the years they span."""
    type: str
    items: int
    first_year: int | None
    last_year: int | None


@dataclass(frozen=True)
class Fonds:
    scientist: ScientistRecord
    series: tuple[SeriesSummary, ...] = field(default_factory=tuple)

    @property
    def items(self) -> int:
        return sum(s.items for s in self.series)

    @property
    def first_year(self) -> int | None:
        years = [s.first_year for s in self.series if s.first_year is not None]
        return min(years) if years else None

    @property
    def last_year(self) -> int | None:
        years = [s.last_year for s in self.series if s.last_year is not None]
        return max(years) if years else None
