"""Reading order for OCR: the engine's text boxes (quadrilaterals, in no useful order) become
lines as a person reads the page — horizontal text in rows top to bottom, left to right;
vertical text in columns right to left, top to bottom; a page upside down or sideways read
the way it would be read turned upright. Pure: numbers in, numbers out.

Coordinates are the page image's pixels, x to the right, y down.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

Point = tuple[float, float]

TALL = 1.5  # the engine reads a box this much taller than wide as a column (RapidOCR's rule)


@dataclass(frozen=True)
class Box:
    """An upright rectangle: left, top, width, height."""
    x: float
    y: float
    w: float
    h: float

    @property
    def right(self) -> float:
        return self.x + self.w

    @property
    def bottom(self) -> float:
        return self.y + self.h

    @property
    def tall(self) -> bool:
        return self.h >= TALL * self.w


@dataclass(frozen=True)
class Found:
    """One text box as the engine gave it. `flipped`: its angle classifier turned the crop
    180° before reading it."""
    quad: tuple[Point, ...]
    text: str
    confidence: float
    flipped: bool = False


@dataclass(frozen=True)
class Line:
    """A line in reading order, its box in whole pixels of the page image."""
    text: str
    x: int
    y: int
    w: int
    h: int
    confidence: float


@dataclass(frozen=True)
class Reading:
    lines: tuple[Line, ...]
    vertical: bool  # read in columns
    upside_down: bool  # most text was upside down: read turned 180°


def bounding_box(quad: Sequence[Point]) -> Box:
    """The upright rectangle around a quadrilateral.

    bounding_box([(10, 5), (50, 7), (49, 20), (9, 18)]) -> Box(9, 5, 41, 15)
    """
    xs = [p[0] for p in quad]
    ys = [p[1] for p in quad]
    return Box(min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys))


def turned_180(box: Box, width: float, height: float) -> Box:
    """The box where it lies once the page is turned upside down.

    turned_180(Box(0, 0, 10, 5), 100, 50) -> Box(90, 45, 10, 5)
    """
    return Box(width - box.right, height - box.bottom, box.w, box.h)


def rotated_back(quad: Sequence[Point], turned: int, width: float,
                 height: float) -> tuple[Point, ...]:
    """A quad found on the page image turned `turned` degrees clockwise, in the unturned page
    image's pixels; `width` and `height` are the unturned image's.

    rotated_back([(0, 0)], 90, 100, 50)   -> ((0, 50),)   (top-left of the turned image)
    rotated_back([(0, 0)], 180, 100, 50)  -> ((100, 50),)
    rotated_back([(0, 0)], 270, 100, 50)  -> ((100, 0),)
    """
    turned %= 360
    out: list[Point] = []
    for x, y in quad:
        if turned == 90:  # the turned image is height x width; its (x, y) was (y, H - x)
            out.append((y, height - x))
        elif turned == 180:
            out.append((width - x, height - y))
        elif turned == 270:
            out.append((width - y, x))
        else:
            out.append((x, y))
    return tuple(out)


def _weight(found: Found) -> int:
    return max(1, len(found.text.strip()))


def _majority(found: Sequence[Found], test: list[bool]) -> bool:
    """Whether the boxes passing `test` hold more than half of the characters."""
    total = sum(_weight(f) for f in found)
    return total > 0 and sum(_weight(f) for f, t in zip(found, test, strict=True) if t) * 2 > total


def _bands(boxes: Sequence[tuple[int, Box]], vertical: bool) -> list[list[tuple[int, Box]]]:
    """Group boxes into rows (or columns when vertical): a box joins the band it overlaps by at
    least half of the smaller of the two extents across the reading direction."""
    def span(b: Box) -> tuple[float, float]:
        return (b.x, b.right) if vertical else (b.y, b.bottom)

    bands: list[tuple[float, float, list[tuple[int, Box]]]] = []
    for item in sorted(boxes, key=lambda ib: sum(span(ib[1])) / 2):
        lo, hi = span(item[1])
        for k, (blo, bhi, members) in enumerate(bands):
            overlap = min(hi, bhi) - max(lo, blo)
            if overlap >= 0.5 * min(hi - lo, bhi - blo) and overlap > 0:
                members.append(item)
                bands[k] = (min(lo, blo), max(hi, bhi), members)
                break
        else:
            bands.append((lo, hi, [item]))
    bands.sort(key=lambda band: (band[0] + band[1]) / 2, reverse=vertical)  # columns: right first
    return [members for _, _, members in bands]


def reading_order(boxes: Sequence[Box], vertical: bool) -> list[int]:
    """The indexes of `boxes` in reading order: rows top to bottom, each left to right; or,
    when vertical, columns right to left, each top to bottom.

    reading_order([Box(60, 0, 40, 10), Box(0, 1, 40, 10), Box(0, 20, 40, 10)], False) -> [1, 0, 2]
    reading_order([Box(0, 0, 10, 40), Box(20, 0, 10, 40), Box(20, 50, 10, 40)], True) -> [1, 2, 0]
    """
    order: list[int] = []
    for band in _bands(list(enumerate(boxes)), vertical):
        band.sort(key=lambda ib: ib[1].y if vertical else ib[1].x)
        order.extend(i for i, _ in band)
    return order


def arrange(found: Sequence[Found], width: float, height: float) -> Reading:
    """Lines in reading order, from the engine's boxes on a page image of `width` x `height`.

    The page is read in columns when most characters sit in tall boxes (vertical text, or a
    page scanned turned a quarter clockwise, which reads the same way), and turned 180° when
    the angle classifier flipped most characters (a page upside down, or a quarter
    counter-clockwise). Boxes keep the page image's own pixels, whatever the reading turn.
    """
    kept = [f for f in found if f.text.strip()]
    boxes = [bounding_box(f.quad) for f in kept]
    vertical = _majority(kept, [b.tall and len(f.text.strip()) > 1
                                for f, b in zip(kept, boxes, strict=True)])
    upside_down = _majority(kept, [f.flipped for f in kept])
    seen = [turned_180(b, width, height) for b in boxes] if upside_down else boxes
    lines = tuple(Line(kept[i].text.strip(), round(boxes[i].x), round(boxes[i].y),
                       round(boxes[i].w), round(boxes[i].h), round(kept[i].confidence, 4))
                  for i in reading_order(seen, vertical))
    return Reading(lines, vertical, upside_down)


def score(found: Sequence[Found]) -> float:
    """How well a page was read: confidence summed over characters, so that a reading with
    more confidently read text wins (the way to choose between the page's turns).

    score([Found(((0, 0),), "导弹", 0.9)]) -> 1.8
    """
    return sum(f.confidence * len(f.text.strip()) for f in found)


__all__ = ["Box", "Found", "Line", "Reading", "arrange", "bounding_box", "reading_order",
           "rotated_back", "score", "turned_180"]
