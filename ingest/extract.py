"""What runs in a worker process for one file: checksum, identification, media extraction.
Returns a picklable Extraction; parser failures become its `problem`, never an exception."""
from __future__ import annotations

import os
from typing import Any

from ingest.extraction import Extraction
from media.audiovideo import probe_av
from media.checksum import sha256_file
from media.id3 import read_id3_tags
from media.documents import read_docx, read_pdf, read_text
from media.identify import HEAD_BYTES, Format, extension_mismatch, identify
from media.images import read_image
from media.problems import MediaProblem
from media.textcodec import decode_text
from media.transcripts import parse_transcript, transcript_text


def _versions() -> dict[str, str]:
    import av
    import exifread
    import PIL
    import pypdfium2
    return {"pyav": av.__version__, "pillow": PIL.__version__,
            "exifread": getattr(exifread, "__version__", "?"),
            "pypdfium2": pypdfium2.version.PYPDFIUM_INFO}


_TOOLS = _versions()


def _image(path: str, fmt: Format) -> dict[str, Any]:
    info = read_image(path)
    exif = info.exif
    tech: dict[str, Any] = {"mode": info.mode, "frames": info.frames, "dpi": info.dpi,
                            "display_width": info.display_width,
                            "display_height": info.display_height}
    for key in ("description", "artist", "copyright", "software"):
        if getattr(exif, key):
            tech[f"exif_{key}"] = getattr(exif, key)
    if info.warnings:
        tech["warnings"] = list(info.warnings)
    out: dict[str, Any] = dict(
        kind="image", format=info.format, width=info.width, height=info.height,
        pages=info.frames if info.frames > 1 else None, camera_make=exif.make,
        camera_model=exif.model, date_taken=exif.date_taken, gps_lat=exif.gps_lat,
        gps_lon=exif.gps_lon, orientation=exif.orientation, tech=tech,
        tools=(f"pillow {_TOOLS['pillow']}", f"exifread {_TOOLS['exifread']}"))
    if info.damage:
        out.update(problem=info.damage, problem_stage="extract")
    return out


def _av(path: str, fmt: Format) -> dict[str, Any]:
    info = probe_av(path)
    video, audio = info.first("video"), info.first("audio")
    tech: dict[str, Any] = {
        "container": info.container, "bit_rate": info.bit_rate,
        "duration_source": info.duration_source,
        # A file cut short plays for `duration`; what its headers claim is kept here.
        **({"claimed_duration": info.claimed_duration}
           if info.duration != info.claimed_duration else {}),
        "streams": [{k: v for k, v in vars(s).items() if v not in (None, False)}
                    for s in info.streams],
    }
    if audio:
        tech.update(audio_codec=audio.codec, sample_rate=audio.sample_rate,
                    channels=audio.channels)
    if video:
        tech.update(video_codec=video.codec, frame_rate=video.frame_rate)
        if info.rotation:
            tech.update(rotation=info.rotation,
                        display_width=video.height if info.rotation in (90, 270) else video.width,
                        display_height=video.width if info.rotation in (90, 270)
                        else video.height)
    if info.tags:
        tech["tags"] = info.tags
    if info.warnings:
        tech["warnings"] = list(info.warnings)
    out: dict[str, Any] = dict(
        kind=info.kind, duration=info.duration, width=video.width if video else None,
        height=video.height if video else None, tech=tech, tools=(f"pyav {_TOOLS['pyav']}",))
    if info.damage:
        out.update(problem=info.damage, problem_stage="extract")
    return out


def _document(path: str, fmt: Format, max_chars: int) -> dict[str, Any]:
    reader = {"pdf": read_pdf, "docx": read_docx}.get(fmt.kind, read_text)
    info = reader(path, max_chars=max_chars)
    tech: dict[str, Any] = {k: v for k, v in (("title", info.title), ("author", info.author),
                              ("created", info.created), ("encoding", info.encoding)) if v}
    if info.warnings:
        tech["warnings"] = list(info.warnings)
    tool = f"pypdfium2 {_TOOLS['pypdfium2']}" if fmt.kind == "pdf" else "python"
    return dict(kind=fmt.kind, pages=info.pages, text=info.text, tech=tech, tools=(tool,))


def _transcript(path: str, fmt: Format, max_chars: int) -> dict[str, Any]:
    with open(path, "rb") as fh:
        decoded = decode_text(fh.read(20 * 1024 * 1024))
    cues = parse_transcript(decoded.text)
    text = transcript_text(cues) if cues else decoded.text
    return dict(kind="transcript", text=text[:max_chars],
                cues=[[c.start, c.end, c.text] for c in cues] or None,
                tech={"encoding": decoded.encoding, "cues": len(cues)}, tools=("python",))


def extract_file(path: str, max_chars: int = 2_000_000) -> Extraction:
    """Hash and characterise one file. Raises only for I/O errors on the file itself."""
    with open(path, "rb") as fh:
        head = fh.read(HEAD_BYTES)
    sha, size = sha256_file(path)
    name = os.path.basename(path)
    fmt = identify(head, name)
    base: dict[str, Any] = dict(sha256=sha, size=size, mime=fmt.mime, format=fmt.name,
                                kind=fmt.kind)
    mismatch = extension_mismatch(name, fmt)
    if fmt.kind == "empty":
        return Extraction(**base, problem="empty: the file has no content (0 bytes)",
                          problem_stage="identify")
    try:
        if fmt.kind == "image":
            found = _image(path, fmt)
        elif fmt.kind == "av":
            found = _av(path, fmt)
        elif fmt.kind in ("pdf", "docx", "text"):
            found = _document(path, fmt, max_chars)
        elif fmt.kind == "transcript":
            found = _transcript(path, fmt, max_chars)
        else:
            found = {}
    except MediaProblem as exc:
        kind = "audio" if fmt.kind == "av" and fmt.mime.startswith("audio") else \
            "video" if fmt.kind == "av" else fmt.kind
        tech: dict[str, Any] = {"format_mismatch": mismatch} if mismatch else {}
        if fmt.kind == "av" and (tags := read_id3_tags(path)):
            tech["tags"] = tags  # the tags outlive the audio they describe
        return Extraction(**{**base, "kind": kind}, tech=tech, problem=str(exc),
                          problem_stage="extract")
    except MemoryError:
        raise
    except Exception as exc:  # a parser bug on hostile input is this file's problem only
        return Extraction(**base, problem=f"parser error: {type(exc).__name__}: {exc}",
                          problem_stage="extract")
    if mismatch:
        found["tech"] = {**found.get("tech", {}), "format_mismatch": mismatch}
    return Extraction(**{**base, **found})
