"""Derivatives: thumbnails, PDF first pages, video poster frames, audio waveforms and web access
copies. Each function reads one original (never writing to it) and writes one new file.

The original may be hostile: callers run these in isolated workers, as for extraction.
"""
from __future__ import annotations

import array
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass

from PIL import Image, ImageDraw, ImageFile, ImageOps

from media.images import MAX_PIXELS
from media.pdfpages import PAGE_DPI, page_count, render_page
from media.problems import MediaProblem

THUMB_SIZE = 320
WAVE_SIZE = (1200, 160)
_WAVE_RATE = 2000  # samples per second kept for drawing: plenty for an envelope


@dataclass(frozen=True)
class Derivative:
    path: str
    kind: str  # thumbnail, poster, waveform, placeholder, access
    width: int | None = None
    height: int | None = None
    tool: str = ""


def save_jpeg(im: Image.Image, dest: str) -> None:
    """Write atomically: a killed run never leaves a half-written derivative behind."""
    directory = os.path.dirname(dest)
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, suffix=".part")
    os.close(fd)
    try:
        fmt = "PNG" if dest.endswith(".png") else "JPEG"
        im.save(tmp, fmt, **({"quality": 82, "optimize": True} if fmt == "JPEG" else {}))
        os.chmod(tmp, 0o644)  # mkstemp makes 0600; derivatives are served to readers
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def flatten(im: Image.Image) -> Image.Image:
    """An image any viewer can show: 16- and 32-bit greys scaled to 8 bits, transparency
    laid on white. Other modes are left as they are."""
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        im = im.point(lambda v: v / 256 if im.mode != "I" else v / 65536).convert("L")
    if im.mode in ("RGBA", "LA", "P", "PA"):
        im = im.convert("RGBA")
        background = Image.new("RGB", im.size, "white")
        background.paste(im, mask=im.getchannel("A"))
        return background
    return im


def _to_rgb(im: Image.Image) -> Image.Image:
    im = flatten(im)
    return im.convert("RGB") if im.mode != "RGB" else im


def image_thumbnail(src: str, dest: str, size: int = THUMB_SIZE) -> Derivative:
    """A JPEG thumbnail, EXIF orientation applied; JPEGs decode at reduced size (draft). A scan
    cut short still shows what it holds (the damage is recorded on the file at ingest)."""
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        with Image.open(src) as im:
            if im.format == "JPEG":
                im.draft("RGB", (size * 2, size * 2))
            im.seek(0)
            im.load()
            oriented = ImageOps.exif_transpose(im)
            thumb = _to_rgb(oriented)
            thumb.thumbnail((size, size))
    except (Image.DecompressionBombError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise MediaProblem("corrupt", f"cannot decode the image for a thumbnail: {exc}") from None
    save_jpeg(thumb, dest)
    return Derivative(dest, "thumbnail", thumb.width, thumb.height, "pillow")


def placeholder(dest: str, label: str, detail: str = "", size: int = THUMB_SIZE) -> Derivative:
    """A plain card saying what the file is, for what cannot be pictured (or not yet)."""
    width, height = size, int(size * 1.3)
    im = Image.new("RGB", (width, height), "#eceae4")
    draw = ImageDraw.Draw(im)
    draw.rectangle((8, 8, width - 9, height - 9), outline="#9a968c", width=2)
    draw.text((24, height // 2 - 20), label, fill="#3b3a36", font_size=28)
    if detail:
        draw.text((24, height // 2 + 20), detail, fill="#5c5a54", font_size=16)
    save_jpeg(im, dest)
    return Derivative(dest, "placeholder", width, height, "pillow")


def pdf_thumbnail(src: str, dest: str, size: int = THUMB_SIZE) -> Derivative:
    """The first page of a PDF as PDFium draws it (text pages and scans alike); a placeholder
    card only where it cannot be drawn (encrypted, damaged), naming the page count if known."""
    try:
        page = render_page(src, 1, dpi=72, max_side=size * 2)
    except MediaProblem as problem:
        detail = "encrypted" if problem.code == "encrypted" else ""
        if not detail:
            try:
                pages = page_count(src)
                detail = f"{pages} page{'s' if pages != 1 else ''}"
            except MediaProblem:
                pass
        return placeholder(dest, "PDF", detail)
    page.thumbnail((size, size))
    save_jpeg(page, dest)
    return Derivative(dest, "thumbnail", page.width, page.height, _pdfium_tool())


def pdf_page_image(src: str, page: int, dest: str, dpi: int = PAGE_DPI) -> Derivative:
    """Page `page` of a PDF as a JPEG at `dpi` (capped in size): a IIIF canvas's image, and
    the pixels the OCR's line boxes are measured in."""
    image = render_page(src, page, dpi=dpi)
    save_jpeg(image, dest)
    return Derivative(dest, "page", image.width, image.height, _pdfium_tool())


def pdf_page_images(src: str, dests: Sequence[str], dpi: int = PAGE_DPI) -> Derivative:
    """Every page of a PDF as a JPEG, page n to dests[n - 1]; pages the list has no place for
    are not drawn. Returns the last page written."""
    made = None
    for n, dest in enumerate(dests, start=1):
        made = pdf_page_image(src, n, dest, dpi)
    if made is None:
        raise MediaProblem("no-page", "the PDF has no page to draw")
    return Derivative(made.path, "pages", made.width, made.height, made.tool)


def _pdfium_tool() -> str:
    import pypdfium2
    return f"pypdfium2 {pypdfium2.version.PYPDFIUM_INFO}"


def poster_frame(src: str, dest: str, size: int = THUMB_SIZE) -> Derivative:
    """A frame a tenth of the way in (past black leaders), turned as a player would show it."""
    import av
    try:
        with av.open(src, metadata_errors="ignore") as container:
            stream = next(s for s in container.streams.video
                          if not s.disposition & av.stream.Disposition.attached_pic)
            stream.thread_type = "AUTO"
            duration = (container.duration or 0) / av.time_base
            if duration > 2 and stream.time_base:
                container.seek(int(duration * 0.1 / stream.time_base), stream=stream)
            frame = next(container.decode(stream), None)
            if frame is None:
                raise MediaProblem("no-frames", "no decodable video frame")
            im = frame.to_image()
            rotation = getattr(frame, "rotation", 0) or 0
    except StopIteration:
        raise MediaProblem("no-stream", "no video stream") from None
    except av.FFmpegError as exc:
        raise MediaProblem("corrupt", f"cannot decode a frame: {exc}") from None
    if rotation:
        im = im.rotate(rotation, expand=True)  # PyAV's angle is counter-clockwise
    im.thumbnail((size, size))
    save_jpeg(im, dest)
    return Derivative(dest, "poster", im.width, im.height, f"pyav {av.__version__}")


def waveform(src: str, dest: str, size: tuple[int, int] = WAVE_SIZE) -> Derivative:
    """The loudness envelope of a recording, one column per slice of time: streamed, so an
    hours-long interview needs no more memory than a short one."""
    import av
    width, height = size
    try:
        with av.open(src, metadata_errors="ignore") as container:
            stream = container.streams.audio[0]
            duration = (container.duration or 0) / av.time_base or \
                float((stream.duration or 0) * (stream.time_base or 0))
            if duration <= 0:
                raise MediaProblem("no-duration", "no duration to draw a waveform over")
            per_column = max(1, int(duration * _WAVE_RATE / width))
            resampler = av.AudioResampler(format="s16", layout="mono", rate=_WAVE_RATE)
            peaks = array.array("H", bytes(2 * width))
            index = 0
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    samples = array.array("h", bytes(out.planes[0])[: out.samples * 2])
                    for start in range(0, len(samples), per_column):
                        column = min(width - 1, (index + start) // per_column)
                        chunk = samples[start:start + per_column]
                        peak = max(max(chunk), -min(chunk))
                        peaks[column] = max(peaks[column], min(peak, 32767))
                    index += len(samples)
    except IndexError:
        raise MediaProblem("no-stream", "no audio stream") from None
    except av.FFmpegError as exc:
        raise MediaProblem("corrupt", f"cannot decode the audio: {exc}") from None
    im = Image.new("RGB", (width, height), "#f7f6f2")
    draw = ImageDraw.Draw(im)
    middle = height // 2
    loudest = max(peaks) or 1
    for x, peak in enumerate(peaks):
        half = max(1, int(peak / loudest * (middle - 4)))
        draw.line((x, middle - half, x, middle + half), fill="#2f5d8a")
    draw.line((0, middle, width, middle), fill="#9fb3c8")
    save_jpeg(im, dest)
    return Derivative(dest, "waveform", width, height, f"pyav {av.__version__}")


def access_copy(src: str, dest: str, kind: str, rotation: int = 0) -> Derivative:
    """A web access copy through ffmpeg-python and the FFmpeg binary that imageio-ffmpeg ships:
    MP3 for audio masters, H.264/AAC MP4 (fast start) for video."""
    import ffmpeg
    import imageio_ffmpeg
    exe = imageio_ffmpeg.get_ffmpeg_exe()
    directory = os.path.dirname(dest)
    os.makedirs(directory, exist_ok=True)
    tmp = dest + ".part" + os.path.splitext(dest)[1]
    stream = ffmpeg.input(src)
    if kind == "audio":
        out = stream.output(tmp, vn=None, acodec="libmp3lame", audio_bitrate="128k")
    else:
        out = stream.output(tmp, vcodec="libx264", crf=23, preset="veryfast",
                            pix_fmt="yuv420p", acodec="aac", audio_bitrate="128k",
                            movflags="+faststart", vf="scale=trunc(iw/2)*2:trunc(ih/2)*2")
    try:
        out.run(cmd=exe, overwrite_output=True, quiet=True)
        os.replace(tmp, dest)
    except ffmpeg.Error as exc:
        message = (exc.stderr or b"").decode("utf-8", "replace").strip().splitlines()
        raise MediaProblem("transcode", "ffmpeg failed: " + (message[-1] if message else
                                                             "no message")) from None
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return Derivative(dest, "access", tool=f"ffmpeg ({os.path.basename(exe)})")


__all__ = ["Derivative", "access_copy", "flatten", "image_thumbnail", "pdf_page_image",
           "pdf_page_images", "save_jpeg",
           "pdf_thumbnail", "placeholder", "poster_frame", "waveform"]
