"""Still images: dimensions, mode, frames, DPI and EXIF from the headers alone (no decode)."""
from __future__ import annotations

import mmap
import os
import struct
import warnings
from dataclasses import dataclass, field

import exifread
from PIL import Image, UnidentifiedImageError

from media.problems import MediaProblem

try:  # HEIC/HEIF from phones; without the plugin they are reported as unsupported
    from pillow_heif import register_heif_opener
    register_heif_opener()
except ImportError:  # pragma: no cover - the plugin is a declared dependency
    pass

# Pillow's own bomb limit (~179 MP) would refuse large but honest TIFF scans; four times it
# still stops the 3,000,000 x 2,000,000 headers of hostile files.
MAX_PIXELS = 4 * 178_956_970
_ROTATED = {5, 6, 7, 8}  # EXIF orientations that swap width and height for display


@dataclass(frozen=True)
class ExifInfo:
    date_taken: str | None = None  # raw EXIF form, "2008:05:30 15:56:01"
    make: str | None = None
    model: str | None = None
    orientation: int | None = None
    gps_lat: float | None = None
    gps_lon: float | None = None
    description: str | None = None
    artist: str | None = None
    copyright: str | None = None
    software: str | None = None


@dataclass(frozen=True)
class ImageInfo:
    format: str
    width: int
    height: int
    mode: str
    frames: int
    dpi: tuple[float, float] | None
    exif: ExifInfo
    display_width: int  # after EXIF orientation
    display_height: int
    warnings: tuple[str, ...] = field(default_factory=tuple)
    damage: str | None = None  # the header reads, but the file is cut short or broken


def _text(tags: dict, *names: str) -> str | None:
    for name in names:
        tag = tags.get(name)
        if tag is not None:
            value = str(tag.printable if hasattr(tag, "printable") else tag).strip().strip("\x00")
            if value and value.strip("0: ") != "":
                return value
    return None


def _gps_coord(tags: dict, value_key: str, ref_key: str) -> float | None:
    tag = tags.get(value_key)
    if tag is None or not getattr(tag, "values", None) or len(tag.values) < 3:
        return None
    try:
        d, m, s = (float(v.num) / float(v.den) if getattr(v, "den", 1) else 0.0
                   for v in tag.values[:3])
    except (ZeroDivisionError, TypeError, ValueError, AttributeError):
        return None
    coord = d + m / 60 + s / 3600
    ref = _text(tags, ref_key) or ""
    if ref.upper().startswith(("S", "W")):
        coord = -coord
    if coord == 0.0 or abs(coord) > 180:
        return None  # placeholder zeros and garbage are no position at all
    return round(coord, 7)


def read_exif(path: str | os.PathLike[str]) -> tuple[ExifInfo, tuple[str, ...]]:
    """EXIF through exifread; damaged EXIF is a warning, never a failure of the image."""
    try:
        with open(path, "rb") as fh, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tags = exifread.process_file(fh, details=False, debug=False)
    except Exception as exc:  # exifread raises anything on hostile input; the image may be fine
        return ExifInfo(), (f"EXIF unreadable: {type(exc).__name__}: {exc}",)
    if not tags:
        return ExifInfo(), ()
    orientation = None
    o = tags.get("Image Orientation")
    if o is not None and getattr(o, "values", None):
        try:
            orientation = int(o.values[0])
        except (TypeError, ValueError):
            orientation = None
    info = ExifInfo(
        date_taken=_text(tags, "EXIF DateTimeOriginal", "Image DateTime"),
        make=_text(tags, "Image Make"),
        model=_text(tags, "Image Model"),
        orientation=orientation if orientation in range(1, 9) else None,
        gps_lat=_gps_coord(tags, "GPS GPSLatitude", "GPS GPSLatitudeRef"),
        gps_lon=_gps_coord(tags, "GPS GPSLongitude", "GPS GPSLongitudeRef"),
        description=_text(tags, "Image ImageDescription"),
        artist=_text(tags, "Image Artist"),
        copyright=_text(tags, "Image Copyright"),
        software=_text(tags, "Image Software"),
    )
    return info, ()


def _jpeg_damage(path: str | os.PathLike[str]) -> str | None:
    """Walk the marker segments to the first scan, then look for its end-of-image marker. The
    EXIF thumbnail (in APP1) and MPF gain maps (after the first EOI) cannot fool this."""
    with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
        pos, size = 2, len(mm)
        while pos + 4 <= size:
            if mm[pos] != 0xFF:
                return "corrupt: JPEG marker segments are damaged"
            marker = mm[pos + 1]
            if marker == 0xFF:  # fill byte
                pos += 1
                continue
            if marker == 0xDA:  # start of scan: entropy-coded data follows
                return None if mm.find(b"\xff\xd9", pos) != -1 else \
                    "truncated: the image data ends before its end-of-image marker"
            if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
                pos += 2
                continue
            pos += 2 + int.from_bytes(mm[pos + 2:pos + 4], "big")
        return "truncated: the file ends inside the JPEG headers"


def _png_damage(path: str | os.PathLike[str]) -> str | None:
    with open(path, "rb") as fh:
        fh.seek(0, os.SEEK_END)
        fh.seek(max(0, fh.tell() - 4096))
        tail = fh.read()
    return None if b"IEND" in tail else "truncated: no PNG end chunk (IEND)"


def _jp2_damage(path: str | os.PathLike[str]) -> str | None:
    """The codestream (a raw .j2k, or the jp2c box of a .jp2) must end with its EOC marker;
    metadata boxes may follow the codestream box, so walk the boxes to find it."""
    with open(path, "rb") as fh:
        size = fh.seek(0, os.SEEK_END)
        fh.seek(0)
        end: int | None = None
        if fh.read(2) == b"\xff\x4f":
            end = size
        else:
            pos = 0
            while pos + 8 <= size:
                fh.seek(pos)
                length, kind = int.from_bytes(fh.read(4), "big"), fh.read(4)
                header = 8
                if length == 1:
                    length, header = int.from_bytes(fh.read(8), "big"), 16
                elif length == 0:
                    length = size - pos
                if length < header:
                    return "corrupt: a JPEG 2000 box has an impossible length"
                if kind == b"jp2c":
                    end = pos + length
                    break
                pos += length
            if end is None:
                return "truncated: no JPEG 2000 codestream box"
            if end > size:
                return f"truncated: the codestream box needs {end} bytes, the file has {size}"
        fh.seek(end - 2)
        return None if fh.read(2) == b"\xff\xd9" else \
            "truncated: the JPEG 2000 codestream has no end marker (EOC)"


def _bmp_damage(path: str | os.PathLike[str]) -> str | None:
    with open(path, "rb") as fh:
        declared = int.from_bytes(fh.read(6)[2:6], "little")
        fh.seek(0, os.SEEK_END)
        actual = fh.tell()
    if declared and actual < declared:
        return f"truncated: {actual} bytes of the {declared} the BMP header declares"
    return None


def _structure_damage(path: str | os.PathLike[str], fmt: str) -> str | None:
    """Cheap checks for truncation that a header read cannot see."""
    check = {"JPEG": _jpeg_damage, "MPO": _jpeg_damage, "PNG": _png_damage,
             "JPEG2000": _jp2_damage, "BMP": _bmp_damage}.get(fmt)
    return check(path) if check else None


def read_image(path: str | os.PathLike[str]) -> ImageInfo:
    """Read an image's header; raise MediaProblem for files that are not usable images."""
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                fmt = im.format or "unknown"
                width, height = im.size
                mode = im.mode
                frames = int(getattr(im, "n_frames", 1) or 1)
                dpi_raw = im.info.get("dpi")
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise MediaProblem("bomb", f"refused as a decompression bomb: {exc}") from None
    except UnidentifiedImageError:
        raise MediaProblem("corrupt", "not an image Pillow can read (damaged or unsupported)") \
            from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error) as exc:
        raise MediaProblem("corrupt", f"damaged image header: {exc}") from None
    if width <= 0 or height <= 0:
        raise MediaProblem("corrupt", f"impossible dimensions {width}x{height}")
    if width * height > MAX_PIXELS:
        raise MediaProblem("bomb", f"{width}x{height} pixels is past the limit of {MAX_PIXELS}")
    dpi = None
    if isinstance(dpi_raw, tuple) and len(dpi_raw) == 2:
        try:
            dpi = (round(float(dpi_raw[0]), 2), round(float(dpi_raw[1]), 2))
        except (TypeError, ValueError):
            dpi = None
    exif, warns = read_exif(path)
    rotated = exif.orientation in _ROTATED
    return ImageInfo(
        format=fmt.lower(), width=width, height=height, mode=mode, frames=frames, dpi=dpi,
        exif=exif, display_width=height if rotated else width,
        display_height=width if rotated else height, warnings=warns,
        damage=_structure_damage(path, fmt),
    )

