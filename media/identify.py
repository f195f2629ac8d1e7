"""Format identification from the first bytes of a file, not its name.

    identify(b"%PDF-1.7...", "scan.jpg")     -> Format("document", "application/pdf", "pdf")
    identify(b"\\xff\\xd8\\xff\\xe0...", "a.JPG") -> Format("image", "image/jpeg", "jpeg")
    identify(b"RIFF....WAVE", "x.wav")        -> Format("av", "audio/wav", "wav")
    identify(b"1\\n00:00:01,000 --> ...", "x.srt")
                                              -> Format("transcript", "application/x-subrip", "srt")
    identify(b"", "empty.mp3")                -> Format("empty", "application/x-empty", "empty")
"""
from __future__ import annotations

import mimetypes
import os
from dataclasses import dataclass

HEAD_BYTES = 512


@dataclass(frozen=True)
class Format:
    kind: str  # image, av, pdf, docx, text, transcript, empty, other
    mime: str
    name: str  # short format name: jpeg, png, tiff, wav, mp4, pdf, ...


_FTYP_IMAGE = {b"heic": ("image/heic", "heic"), b"heix": ("image/heic", "heic"),
               b"mif1": ("image/heif", "heif"), b"msf1": ("image/heif", "heif"),
               b"avif": ("image/avif", "avif"), b"avis": ("image/avif", "avif")}
_AV_EXTENSIONS = {
    ".wav": "audio/wav", ".mp3": "audio/mpeg", ".flac": "audio/flac", ".ogg": "audio/ogg",
    ".opus": "audio/ogg", ".m4a": "audio/mp4", ".aac": "audio/aac", ".aif": "audio/aiff",
    ".aiff": "audio/aiff", ".aifc": "audio/aiff", ".wma": "audio/x-ms-wma", ".mp2": "audio/mpeg",
    ".ac3": "audio/ac3", ".amr": "audio/amr", ".ape": "audio/ape", ".wv": "audio/wavpack",
    ".mpc": "audio/musepack", ".dsf": "audio/dsf", ".tak": "audio/tak", ".mka": "audio/x-matroska",
    ".mp4": "video/mp4", ".m4v": "video/mp4", ".mov": "video/quicktime",
    ".mkv": "video/x-matroska", ".webm": "video/webm", ".avi": "video/x-msvideo",
    ".flv": "video/x-flv", ".wmv": "video/x-ms-wmv", ".asf": "video/x-ms-asf",
    ".ts": "video/mp2t", ".mts": "video/mp2t", ".m2ts": "video/mp2t", ".mpg": "video/mpeg",
    ".mpeg": "video/mpeg", ".3gp": "video/3gpp", ".3g2": "video/3gpp2", ".ogv": "video/ogg",
    ".vob": "video/mpeg", ".dv": "video/dv",
}
_TEXT_EXTENSIONS = {".txt", ".text", ".md", ".csv", ".tsv", ".xml", ".html", ".htm", ".json",
                    ".hocr", ".tex"}
_TRANSCRIPT_EXTENSIONS = {".srt": "application/x-subrip", ".vtt": "text/vtt"}


def _magic(head: bytes) -> Format | None:  # noqa: PLR0911 - a table of signatures reads best flat
    if head.startswith(b"\xff\xd8\xff"):
        return Format("image", "image/jpeg", "jpeg")
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return Format("image", "image/png", "png")
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return Format("image", "image/gif", "gif")
    if head[:4] in (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+"):
        return Format("image", "image/tiff", "tiff")
    if head.startswith(b"BM") and len(head) > 14:
        return Format("image", "image/bmp", "bmp")
    if head.startswith(b"\x00\x00\x00\x0cjP  \r\n\x87\n") or head.startswith(b"\xff\x4f\xff\x51"):
        return Format("image", "image/jp2", "jpeg2000")
    if head.startswith(b"%PDF-") or (b"%PDF-" in head[:1024] and not head.startswith(b"PK")):
        return Format("pdf", "application/pdf", "pdf")
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return Format("image", "image/webp", "webp")
    if head[:4] == b"RIFF" and head[8:12] == b"WAVE":
        return Format("av", "audio/wav", "wav")
    if head[:4] == b"RIFF" and head[8:12] == b"AVI ":
        return Format("av", "video/x-msvideo", "avi")
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return Format("av", "audio/aiff", "aiff")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _FTYP_IMAGE:
            mime, name = _FTYP_IMAGE[brand]
            return Format("image", mime, name)
        if brand.startswith(b"qt"):
            return Format("av", "video/quicktime", "mov")
        if brand in (b"M4A ", b"M4B ", b"M4P "):
            return Format("av", "audio/mp4", "m4a")
        return Format("av", "video/mp4", "mp4")
    if head[4:8] in (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot"):
        return Format("av", "video/quicktime", "mov")
    if head.startswith(b"\x1a\x45\xdf\xa3"):
        webm = b"webm" in head[:64]
        return Format("av", "video/webm" if webm else "video/x-matroska", "webm" if webm else "mkv")
    if head.startswith(b"fLaC"):
        return Format("av", "audio/flac", "flac")
    if head.startswith(b"OggS"):
        return Format("av", "audio/ogg", "ogg")
    if head.startswith(b"ID3"):
        return Format("av", "audio/mpeg", "mp3")
    if head.startswith(b"\x30\x26\xb2\x75\x8e\x66\xcf\x11"):
        return Format("av", "video/x-ms-asf", "asf")
    if head.startswith(b"FLV\x01"):
        return Format("av", "video/x-flv", "flv")
    if head.startswith(b"\x00\x00\x01\xba") or head.startswith(b"\x00\x00\x01\xb3"):
        return Format("av", "video/mpeg", "mpeg")
    if len(head) > 188 and head[0] == 0x47 and head[188] == 0x47:
        return Format("av", "video/mp2t", "mpegts")
    if head.startswith(b"\x00\x00\x00\x0cJXL \r\n\x87\n") or head.startswith(b"\xff\x0a"):
        return Format("other", "image/jxl", "jxl")  # no JPEG XL reader in Pillow yet
    if head.startswith(b"SIMPLE  =") and len(head) >= 80:
        return Format("image", "image/fits", "fits")
    if head.startswith(b"{\\rtf"):
        return Format("other", "application/rtf", "rtf")
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return Format("other", "application/x-ole-storage", "ole")
    return None


def _looks_like_text(head: bytes) -> bool:
    if head.startswith((b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")):
        return True
    if b"\x00" in head:
        return False
    control = sum(1 for b in head if b < 9 or 13 < b < 32)
    return control <= len(head) // 100


def identify(head: bytes, name: str) -> Format:
    """Identify a file from its first bytes; the name only breaks ties where content cannot
    (ZIP containers, MP3 frames without a tag, plain text flavours)."""
    ext = os.path.splitext(name)[1].lower()
    if not head:
        return Format("empty", "application/x-empty", "empty")
    found = _magic(head)
    if found:
        return found
    if head.startswith(b"PK\x03\x04"):
        if ext == ".docx":
            return Format("docx", "application/vnd.openxmlformats-officedocument."
                                  "wordprocessingml.document", "docx")
        if ext == ".odt":
            return Format("other", "application/vnd.oasis.opendocument.text", "odt")
        return Format("other", "application/zip", "zip")
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0 and ext in _AV_EXTENSIONS:
        return Format("av", _AV_EXTENSIONS.get(ext, "audio/mpeg"), ext.lstrip("."))
    if _looks_like_text(head):
        if ext in _TRANSCRIPT_EXTENSIONS or head.lstrip(b"\xef\xbb\xbf").startswith(b"WEBVTT"):
            mime = _TRANSCRIPT_EXTENSIONS.get(ext, "text/vtt")
            return Format("transcript", mime, "vtt" if mime == "text/vtt" else "srt")
        if ext in _TEXT_EXTENSIONS or ext == "" or ext not in _AV_EXTENSIONS:
            return Format("text", "text/plain", ext.lstrip(".") or "txt")
    if ext in _AV_EXTENSIONS:
        # Many containers (raw AAC, AC-3, MPEG audio without a tag, Musepack...) have no fixed
        # signature; the demuxer decides, and rejects what it cannot read.
        return Format("av", _AV_EXTENSIONS[ext], ext.lstrip("."))
    guessed = mimetypes.guess_type("x" + ext)[0] if ext else None
    return Format("other", guessed or "application/octet-stream", ext.lstrip(".") or "unknown")


# What an extension promises: the kind, and the format names that keep the promise.
_IMAGE_PROMISE = {
    ".jpg": {"jpeg"}, ".jpeg": {"jpeg"}, ".jpe": {"jpeg"}, ".png": {"png"}, ".gif": {"gif"},
    ".bmp": {"bmp"}, ".tif": {"tiff"}, ".tiff": {"tiff"}, ".webp": {"webp"},
    ".jp2": {"jpeg2000"}, ".j2k": {"jpeg2000"}, ".heic": {"heic", "heif"},
    ".heif": {"heic", "heif"}, ".avif": {"avif"},
}
_MP4 = {"mp4", "mov", "m4a"}
_AV_PROMISE = {
    **dict.fromkeys((".mp4", ".m4v", ".m4a", ".m4b", ".mov", ".qt", ".3gp", ".3g2"), _MP4),
    **dict.fromkeys((".mkv", ".webm", ".mka"), {"mkv", "webm"}),
    **dict.fromkeys((".ogg", ".ogv", ".oga", ".opus"), {"ogg"}),
    **dict.fromkeys((".wma", ".wmv", ".asf"), {"asf"}),
    **dict.fromkeys((".aif", ".aiff", ".aifc", ".afc"), {"aiff"}),
    **dict.fromkeys((".ts", ".mts", ".m2ts"), {"mpegts"}),
    **dict.fromkeys((".mpg", ".mpeg", ".vob"), {"mpeg", "mpegts"}),
    ".wav": {"wav"}, ".avi": {"avi"}, ".flac": {"flac"}, ".mp3": {"mp3"}, ".flv": {"flv"},
}
_OTHER_PROMISE = {".pdf": {"pdf"}, ".docx": {"docx"}, ".txt": {"text", "transcript"},
                  ".srt": {"text", "transcript"}, ".vtt": {"text", "transcript"}}


def extension_mismatch(name: str, fmt: Format) -> str | None:
    """Say so when the content is not what the extension claims.

    extension_mismatch("scan.jpg", Format("pdf", "application/pdf", "pdf"))
        -> "named .jpg but the content is application/pdf (pdf)"
    extension_mismatch("talk.mp3", Format("av", "audio/wav", "wav"))
        -> "named .mp3 but the content is audio/wav (wav)"
    extension_mismatch("a.JPG", Format("image", "image/jpeg", "jpeg"))  -> None
    extension_mismatch("clip.mov", Format("av", "video/mp4", "mp4"))    -> None
    """
    ext = os.path.splitext(name)[1].lower()
    if fmt.kind == "empty":
        return None
    if ext in _IMAGE_PROMISE:
        ok = fmt.kind == "image" and fmt.name in _IMAGE_PROMISE[ext]
    elif ext in _AV_PROMISE:
        ok = fmt.kind == "av" and fmt.name in _AV_PROMISE[ext]
    elif ext in _OTHER_PROMISE:
        ok = fmt.kind in _OTHER_PROMISE[ext] or fmt.name in _OTHER_PROMISE[ext]
    else:
        return None
    return None if ok else f"named {ext} but the content is {fmt.mime} ({fmt.name})"
