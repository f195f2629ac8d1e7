"""What extracting one file found (ingest/extract.py makes it, in a worker): plain data, so
the stages, the writer and a dry run can name it without importing a single parser. A re-run
that finds every file unchanged then never loads PyAV, Pillow or PDFium."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Extraction:
    sha256: str | None
    size: int
    mime: str | None = None
    format: str | None = None
    kind: str = "other"  # image, audio, video, pdf, docx, text, transcript, empty, other
    width: int | None = None
    height: int | None = None
    duration: float | None = None
    pages: int | None = None
    camera_make: str | None = None
    camera_model: str | None = None
    date_taken: str | None = None  # raw EXIF form
    gps_lat: float | None = None
    gps_lon: float | None = None
    orientation: int | None = None
    tech: dict[str, Any] = field(default_factory=dict)
    text: str | None = None
    cues: list[list[Any]] | None = None
    problem: str | None = None
    problem_stage: str | None = None
    tools: tuple[str, ...] = ()  # parsers used, with versions, for provenance events
