"""Where derivatives live: `<catalog>.derivatives/<sha[:2]>/<sha>.<kind suffix>`. Named by the
original's checksum, so identical files share them, a changed file gets new ones, and the whole
folder can be deleted and rebuilt from the catalog (`archive derive`)."""
from __future__ import annotations

from pathlib import Path

SUFFIXES = {
    "thumbnail": "thumb.jpg",
    "poster": "poster.jpg",
    "waveform": "wave.png",
    "access-audio": "access.mp3",
    "access-video": "access.mp4",
}


def derivative_path(base: Path, sha256: str, kind: str) -> Path:
    return base / sha256[:2] / f"{sha256}.{SUFFIXES[kind]}"


def page_image_path(base: Path, sha256: str, page: int) -> Path:
    """A PDF page rendered to an image (page 1 is the first), beside the PDF's derivatives."""
    return base / sha256[:2] / f"{sha256}.page-{page}.jpg"


def existing_derivatives(base: Path, sha256: str | None) -> dict[str, str]:
    """kind -> path of the derivatives already built for a checksum."""
    if not sha256:
        return {}
    found = {}
    for kind in SUFFIXES:
        p = derivative_path(base, sha256, kind)
        if p.exists():
            found[kind] = str(p)
    return found
