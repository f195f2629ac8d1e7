"""Deciding what an item is, before anything is written: type, scientist, date, title and
access of the item a file belongs to, from its path, its extraction and its manifest row.

Pure: no database, no files. The manifest is applied here and only here (`manifest_fields`),
for new items and for items whose manifest row changed since the last run alike.

    file (folders under the root)      extraction       manifest row  -> facts
    钱学森/信件/letter_1950-03_p1.jpg   image            -             -> letter, 钱学森 (known),
                                                                        1950-03, "letter 1950-03"
    zhao_jiuzhang/photos/lab.jpg       image, EXIF      -             -> photograph, 1956-05-01,
                                       1956:05:01                        NewScientist("Zhao
                                                                        Jiuzhang"), "lab"
    录音/talk.txt (beside talk.mp3)     transcript       -             -> audio (a guess: sidecar)
    手稿/工程控制论.pdf                   pdf              title, 1954,  -> manuscript, the row's
                                                        closed           title, 1954, closed
    any file, with --type letter       audio            -             -> letter (option)
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from archive.dates import ItemDate, date_from_filename, iso_exif_datetime, parse_date
from archive.fields import EDITABLE_FIELDS
from ingest.attribution import Match, NewScientist, attribute
from ingest.classify import kind_from_extension, material_type, title_from_base
from ingest.extraction import Extraction
from ingest.manifest import ManifestRow
from ingest.tasks import FileJob


@dataclass(frozen=True)
class DescribeOptions:
    type: str | None = None  # --type, already checked
    default_access: str = "open"
    scientist: int | None = None  # --scientist, already resolved to an id
    match: Match = lambda name: None  # a written name -> a known scientist's id


@dataclass(frozen=True)
class ItemFacts:
    """An item as decided for its first file: the writer stores these as they are."""
    key: str  # root-relative folder/stem that groups the item's files
    type: str
    type_source: str  # manifest, option, content, sidecar
    scientist: int | NewScientist | None
    title: str
    date: ItemDate | None
    access: str
    description: str | None = None
    rights: str | None = None
    location: str | None = None
    collection: str | None = None
    extra: dict[str, Any] | None = None
    access_until: dt.date | None = None

    def columns(self) -> dict[str, Any]:
        """The item's columns, but its scientist (the writer resolves NewScientist first)."""
        d = self.date
        return dict(key=self.key, type=self.type, type_source=self.type_source,
                    title=self.title, date=d.text if d else None,
                    date_start=d.start if d else None, date_end=d.end if d else None,
                    date_precision=d.precision if d else None, access=self.access,
                    description=self.description, rights=self.rights,
                    location=self.location, collection=self.collection, extra=self.extra,
                    access_until=self.access_until)


def item_key(job: FileJob) -> str:
    """'钱学森/信件' + 'letter_1950' -> '钱学森/信件/letter_1950'; at the root, the stem alone."""
    return f"{job.folder}/{job.grouping.base}" if job.folder else job.grouping.base


def item_type(job: FileJob, kind: str, option_type: str | None) -> tuple[str, str]:
    """(material type, where it came from), before the manifest: the option, else what the
    content and the folders say. A transcript or sidecar can only guess from its main file's
    extension; the main file corrects the guess when it is written."""
    if option_type:
        return option_type, "option"
    folders = job.chain[1:-1] if len(job.chain) > 1 else ()
    if job.grouping.role in ("transcript", "sidecar"):
        return material_type(kind_from_extension(job.grouping.master_ext), folders), "sidecar"
    return material_type(kind, folders), "content"


def item_date(base: str, material: str, date_taken: str | None) -> ItemDate | None:
    """A date written in the file name, else a photograph's EXIF date, else none.

    item_date("letter_1950-03", "letter", None)            -> 1950-03
    item_date("lab", "photograph", "1956:05:01 10:00:00")   -> 1956-05-01
    item_date("lab", "letter", "1956:05:01 10:00:00")       -> None (the scan's own date)
    """
    text = date_from_filename(base)
    if text is None and material == "photograph" and date_taken:
        text = (iso_exif_datetime(date_taken) or "")[:10] or None
    try:
        return parse_date(text)
    except ValueError:
        return None


# Editable fields a manifest row sets with more than its value: the type with its source, the
# date with its range, the scientist by matching the name.
_DECIDED_APART = ("type", "date", "scientist")


def manifest_fields(row: ManifestRow, match: Match,
                    extra_before: dict[str, Any] | None = None) -> dict[str, Any]:
    """The item columns a manifest row sets: only its filled cells count. The one place a
    manifest is applied, for a new item (its facts) and for an existing one (the changes).

    manifest_fields(ManifestRow(2, "a.jpg", "/c", title="X", access="closed"), match)
        -> {"title": "X", "access": "closed"}
    """
    out: dict[str, Any] = {}
    for attr in EDITABLE_FIELDS:
        if attr in _DECIDED_APART:
            continue
        value = getattr(row, attr)
        if value is not None:
            out[attr] = value
    if row.type is not None:
        out.update(type=row.type, type_source="manifest")
    if row.date is not None:
        out.update(date=row.date)
    if row.scientist:
        sid = match(row.scientist)
        if sid is not None:
            out["scientist"] = sid
    if row.extra:
        out["extra"] = {**(extra_before or {}), **row.extra}
    return out


def describe_item(job: FileJob, extraction: Extraction, manifest_row: ManifestRow | None,
                  options: DescribeOptions) -> ItemFacts:
    """The facts of the item `job`'s file belongs to (see the module docstring)."""
    material, type_source = item_type(job, extraction.kind, options.type)
    facts: dict[str, Any] = dict(
        key=item_key(job), type=material, type_source=type_source,
        scientist=attribute(job.chain[:-1], None, options.scientist, options.match),
        title=title_from_base(job.grouping.base), date=None, access=options.default_access)
    if manifest_row is not None:
        facts.update(manifest_fields(manifest_row, options.match))
    if facts["date"] is None:
        facts["date"] = item_date(job.grouping.base, facts["type"], extraction.date_taken)
    return ItemFacts(**facts)


def manifest_columns(row: ManifestRow, match: Match,
                     extra_before: dict[str, Any] | None = None) -> dict[str, Any]:
    """The item columns a manifest row sets, equal to the item's or not (for an item already
    catalogued; archive/precedence.py decides which of them may be written now).

    manifest_columns(ManifestRow(3, "a.jpg", "/c", location="Box 8", date=1950), match)
        -> {"location": "Box 8", "date": "1950", "date_start": 1950-01-01,
            "date_end": 1950-12-31, "date_precision": "year"}
    """
    columns: dict[str, Any] = {}
    for attr, value in manifest_fields(row, match, extra_before).items():
        if attr == "date":
            columns.update(date=value.text, date_start=value.start, date_end=value.end,
                           date_precision=value.precision)
        elif attr == "scientist":
            columns["scientist_id"] = value
        elif attr != "type_source":  # follows the type, if the type is written
            columns[attr] = value
    return columns
