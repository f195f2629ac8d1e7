"""Pure rules that turn names into catalog facts: material type, item grouping, file roles.

    folder_type("信件") -> "letter";  folder_type("Manuscripts") -> "manuscript"
    folder_type("照片") -> "photograph";  folder_type("misc") -> None
    split_page("letter_1950_p2") -> ("letter_1950", 2);  split_page("photo") -> ("photo", None)
    plan_folder(["x.jpg", "x_p2.jpg", "x.txt", "y.txt"]) ->
        {"x.jpg": Grouping("x", "master", ".jpg"), "x_p2.jpg": Grouping("x", "page", ".jpg"),
         "x.txt": Grouping("x", "transcript", ".jpg"), "y.txt": Grouping("y", "master", ".txt")}
    material_type("image", ["钱学森", "书信"]) -> "letter"
    material_type("image", ["钱学森", "照片"]) -> "photograph"
    material_type("video", ["钱学森", "录音"]) -> "video"   (content decides for audio/video)
    material_type("pdf", ["钱学森", "手稿"]) -> "manuscript"
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from archive.fields import type_word

# Which content kinds a folder's type may be given to: a PDF in 录音/ is not a recording.
_ACCEPTS = {
    "letter": {"image", "pdf", "text", "docx", "other"},
    "manuscript": {"image", "pdf", "text", "docx", "other"},
    "photograph": {"image"},
    "document": {"image", "pdf", "text", "docx", "other"},
    "other": {"image", "pdf", "text", "docx", "other"},
}
_DEFAULT_BY_KIND = {"image": "photograph", "pdf": "document", "docx": "document",
                    "text": "document", "transcript": "document", "audio": "audio",
                    "video": "video"}
_IMAGE_EXT = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".gif", ".bmp", ".webp", ".jp2",
              ".heic", ".heif", ".avif"}
_AUDIO_EXT = {".wav", ".mp3", ".flac", ".ogg", ".opus", ".m4a", ".aac", ".aif", ".aiff",
              ".wma", ".mp2", ".ac3", ".amr", ".ape"}
_VIDEO_EXT = {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".flv", ".wmv", ".ts", ".mts",
              ".mpg", ".mpeg", ".3gp", ".ogv"}
_TRANSCRIPT_EXT = {".txt", ".srt", ".vtt"}
_SIDECAR_EXT = {".xml", ".json", ".md5", ".sha256"}
_PAGE = re.compile(r"^(?P<base>.+?)[_\-\s](?:p|page|pg)(?P<n>\d{1,4})$", re.IGNORECASE)


def folder_type(name: str) -> str | None:
    return type_word(name)


def kind_from_extension(ext: str) -> str:
    """A guess from the extension alone, used only before a file's content has been read."""
    ext = ext.lower()
    if ext in _IMAGE_EXT:
        return "image"
    if ext in _AUDIO_EXT:
        return "audio"
    if ext in _VIDEO_EXT:
        return "video"
    if ext == ".pdf":
        return "pdf"
    if ext == ".docx":
        return "docx"
    if ext in _TRANSCRIPT_EXT:
        return "text"
    return "other"


def material_type(kind: str, folders: Sequence[str]) -> str:
    """The item type of a file of content `kind` in `folders` (outermost first). Audio and
    video are decided by content; other kinds take the nearest folder type that fits them."""
    if kind in ("audio", "video"):
        return kind
    for name in reversed(folders):
        t = folder_type(name)
        if t is not None and kind in _ACCEPTS.get(t, set()):
            return t
    return _DEFAULT_BY_KIND.get(kind, "other")


def split_page(stem: str) -> tuple[str, int | None]:
    m = _PAGE.match(stem)
    if m:
        return m.group("base"), int(m.group("n"))
    return stem, None


@dataclass(frozen=True)
class Grouping:
    base: str  # stem the item is keyed by within its folder
    role: str  # master, page, transcript, sidecar
    master_ext: str  # extension of the group's main file (its own, for masters and pages)


def plan_folder(names: Iterable[str]) -> dict[str, Grouping]:
    """Group one folder's file names into items (see the module docstring)."""
    parsed: dict[str, tuple[str, str, int | None]] = {}
    mains: dict[str, str] = {}  # base -> extension of its first non-sidecar file
    for name in sorted(names):
        stem, ext = os.path.splitext(name)
        ext = ext.lower()
        base, page = split_page(stem)
        parsed[name] = (base, ext, page)
        if ext not in _TRANSCRIPT_EXT and ext not in _SIDECAR_EXT:
            mains.setdefault(base, ext)
    plan: dict[str, Grouping] = {}
    for name, (base, ext, page) in parsed.items():
        if base in mains and (ext in _TRANSCRIPT_EXT or ext in _SIDECAR_EXT):
            role = "transcript" if ext in _TRANSCRIPT_EXT else "sidecar"
            plan[name] = Grouping(base, role, mains[base])
        elif page is not None and base in mains:
            plan[name] = Grouping(base, "page", ext)
        else:
            plan[name] = Grouping(os.path.splitext(name)[0] if page is None else base,
                                  "master", ext)
    return plan


def title_from_base(base: str) -> str:
    """'letter_to_Zhou_1955-03' -> 'letter to Zhou 1955-03'."""
    return re.sub(r"[_]+", " ", base).strip() or base
