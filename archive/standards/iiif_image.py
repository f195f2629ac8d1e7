"""IIIF Image API 3.0 requests read into a plan: which pixels of the image (region), at what
size, turned how, in which quality and format. Level 1 and a little more (regions and sizes by
percent, confined sizes `!w,h`, rotation by 90°s); mirroring, upscaling, bitonal and other
formats are refused with a message. Pure: no Pillow, no files.

    region("full", 1000, 800)          -> (0, 0, 1000, 800)
    region("square", 1000, 800)        -> (100, 0, 800, 800)
    region("10,20,300,5000", 1000, 800) -> (10, 20, 300, 780)   (clipped to the image)
    region("pct:50,50,50,50", 1000, 800) -> (500, 400, 500, 400)
    size("max", 3000, 1000)            -> (3000, 1000)  when within the limits
    size("150,", 300, 200)             -> (150, 100)
    size("!100,100", 300, 200)         -> (100, 67)
"""
from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass

from archive.errors import ImageRequestError

MAX_WIDTH = 4000  # the largest image the site renders on request (info.json says so)
MAX_HEIGHT = 4000
MAX_AREA = 12_000_000
TILE = 512
FORMATS = {"jpg": "image/jpeg", "png": "image/png"}
QUALITIES = ("default", "color", "gray")
EXTRA_FEATURES = ["regionByPct", "sizeByPct", "sizeByConfinedWh", "rotationBy90s",
                  "baseUriRedirect", "cors"]

_NUMBER = r"\d+(?:\.\d+)?"


@dataclass(frozen=True)
class Plan:
    region: tuple[int, int, int, int]  # x, y, w, h in the image's pixels (as displayed)
    size: tuple[int, int]  # width, height of the answer before rotation
    rotation: int  # 0, 90, 180 or 270, clockwise
    quality: str  # default, color or gray
    format: str  # jpg or png

    def cache_name(self, sha256: str) -> str:
        """A file name for the answer, the same for every request that means the same."""
        key = f"{self.region}{self.size}{self.rotation}{self.quality}".encode()
        return f"{sha256}-{hashlib.sha256(key).hexdigest()[:20]}.{self.format}"


def _bad(message: str) -> ImageRequestError:
    return ImageRequestError(message)


def region(text: str, width: int, height: int) -> tuple[int, int, int, int]:
    if text == "full":
        return 0, 0, width, height
    if text == "square":
        side = min(width, height)
        return (width - side) // 2, (height - side) // 2, side, side
    pct = text.startswith("pct:")
    body = text[4:] if pct else text
    pattern = _NUMBER if pct else r"\d+"
    if not re.fullmatch(rf"{pattern},{pattern},{pattern},{pattern}", body):
        raise _bad(f"region {text!r}: use full, square, x,y,w,h or pct:x,y,w,h")
    x, y, w, h = (float(v) for v in body.split(","))
    if pct:
        x, w = x * width / 100, w * width / 100
        y, h = y * height / 100, h * height / 100
    ix, iy = int(round(x)), int(round(y))
    iw = min(int(round(w)), width - ix)
    ih = min(int(round(h)), height - iy)
    if ix >= width or iy >= height:
        raise _bad(f"region {text!r} lies outside the image ({width}×{height})")
    if iw <= 0 or ih <= 0:
        raise _bad(f"region {text!r} is empty")
    return ix, iy, iw, ih


def _limit(w: int, h: int) -> tuple[int, int]:
    """The largest size of this shape within the limits."""
    scale = min(1.0, MAX_WIDTH / w, MAX_HEIGHT / h, math.sqrt(MAX_AREA / (w * h)))
    return max(1, int(w * scale)), max(1, int(h * scale))


def size(text: str, rw: int, rh: int) -> tuple[int, int]:
    """The answer's size for a region of rw×rh; larger than the region (without `^`) or past
    the limits is refused."""
    if text.startswith("^"):
        raise _bad("upscaling (^) is not offered: ask for the region's size or less")
    if text == "max":
        return _limit(rw, rh)
    if m := re.fullmatch(rf"pct:({_NUMBER})", text):
        pct = float(m.group(1))
        if pct <= 0 or pct > 100:
            raise _bad(f"size {text!r}: a percentage from above 0 to 100")
        w, h = int(round(rw * pct / 100)), int(round(rh * pct / 100))
    elif m := re.fullmatch(r"(\d+),", text):
        w = int(m.group(1))
        h = int(round(rh * w / rw))
    elif m := re.fullmatch(r",(\d+)", text):
        h = int(m.group(1))
        w = int(round(rw * h / rh))
    elif m := re.fullmatch(r"(!?)(\d+),(\d+)", text):
        w, h = int(m.group(2)), int(m.group(3))
        if m.group(1):  # the largest size of the region's shape that fits in w×h
            scale = min(w / rw, h / rh)
            w, h = int(round(rw * scale)), int(round(rh * scale))
    else:
        raise _bad(f"size {text!r}: use max, w,  ,h  w,h  !w,h or pct:n")
    w, h = max(w, 1), max(h, 1)
    if w > rw or h > rh:
        raise _bad(f"size {text!r} is larger than the region ({rw}×{rh}); upscaling is not "
                   "offered")
    if w > MAX_WIDTH or h > MAX_HEIGHT or w * h > MAX_AREA:
        raise _bad(f"size {text!r} is past the largest image served ({MAX_WIDTH}×{MAX_HEIGHT}, "
                   f"{MAX_AREA:,} pixels); ask for less or for tiles")
    return w, h


def rotation(text: str) -> int:
    if text.startswith("!"):
        raise _bad("mirroring (!) is not offered; ask for rotation 0, 90, 180 or 270")
    if text not in ("0", "90", "180", "270", "360"):
        raise _bad(f"rotation {text!r}: 0, 90, 180 or 270 degrees")
    return int(text) % 360


def quality_and_format(text: str) -> tuple[str, str]:
    quality, _, fmt = text.partition(".")
    if quality not in QUALITIES:
        raise _bad(f"quality {quality!r}: default, color or gray")
    if fmt not in FORMATS:
        raise _bad(f"format {fmt!r}: jpg or png")
    return quality, fmt


def plan(region_text: str, size_text: str, rotation_text: str, quality_text: str,
         width: int, height: int) -> Plan:
    """A request for an image of width×height, checked part by part."""
    box = region(region_text, width, height)
    return Plan(box, size(size_text, box[2], box[3]), rotation(rotation_text),
                *quality_and_format(quality_text))


def info(service_id: str, width: int, height: int) -> dict[str, object]:
    """The image's info.json: size, limits, tiles and what is offered beyond level 1."""
    factors = [1]
    while max(width, height) / (factors[-1] * 2) >= TILE / 2 and factors[-1] < 64:
        factors.append(factors[-1] * 2)
    max_w, max_h = _limit(width, height)
    return {
        "@context": "http://iiif.io/api/image/3/context.json",
        "id": service_id, "type": "ImageService3", "protocol": "http://iiif.io/api/image",
        "profile": "level1", "width": width, "height": height,
        "maxWidth": MAX_WIDTH, "maxHeight": MAX_HEIGHT, "maxArea": MAX_AREA,
        "sizes": [{"width": max_w, "height": max_h}],
        "tiles": [{"width": TILE, "height": TILE, "scaleFactors": factors}],
        "extraQualities": ["color", "gray"], "extraFormats": ["png"],
        "extraFeatures": EXTRA_FEATURES,
    }
