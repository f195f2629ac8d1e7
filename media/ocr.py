"""Optical character recognition of page images with RapidOCR (PP-OCR models on onnxruntime):
one image in, its lines in reading order out.

The models are the ones the rapidocr wheel ships; they are named by path, so the engine never
looks for (or downloads) anything else. They are loaded once per process, on first use: a
worker reads many pages with one engine.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import functools
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageFile, ImageOps

from media.derivatives import flatten, save_jpeg
from media.images import MAX_PIXELS
from media.ocrlayout import Found, Line, arrange, rotated_back, score
from media.pdfpages import page_has_text, render_page
from media.problems import MediaProblem

log = logging.getLogger(__name__)

# The wheel's models (rapidocr 3.x): PP-OCRv6 small detection and recognition, the PP-OCR
# mobile 0°/180° line classifier.
DET_MODEL = "PP-OCRv6_det_small.onnx"
CLS_MODEL = "ch_ppocr_mobile_v2.0_cls_mobile.onnx"
REC_MODEL = "PP-OCRv6_rec_small.onnx"
# Below this mean confidence a page is read again turned a quarter each way, and the most
# confident reading kept: text lying sideways is read as gibberish with low confidence.
RETRY_CONFIDENCE = 0.8
MIN_SIDE = 8  # pixels: nothing smaller can hold a character
MAX_DETECTION_SIDE = 2048  # pixels: the longest side an image is enlarged to for detection


@dataclass(frozen=True)
class PageText:
    """One page as read: its lines in reading order, boxes in the pixels of the page image
    (`width` x `height`, after EXIF orientation); `rotation`, the clockwise degrees the page
    was turned to be read (0 for upright and for vertical text)."""
    width: int
    height: int
    rotation: int
    vertical: bool
    lines: tuple[Line, ...]
    seconds: float
    text_layer: bool = False  # a PDF page with its own text: kept as it is, not read


def engine_name() -> str:
    """The engine and its version, as recorded with each page: "rapidocr 3.10.0"."""
    from importlib.metadata import version
    return f"rapidocr {version('rapidocr')}"


def model_name() -> str:
    """The models a page is read with; a page read with other models is read again."""
    return f"det {DET_MODEL[:-5]}, cls {CLS_MODEL[:-5]}, rec {REC_MODEL[:-5]}"


def _models_dir() -> Path:
    import rapidocr
    return Path(rapidocr.__file__).parent / "models"


@functools.lru_cache(maxsize=1)
def _engine() -> Any:
    """The engine of this process, built once (loading the models takes about a second)."""
    models = _models_dir()
    paths = {kind: models / name for kind, name in
             (("Det", DET_MODEL), ("Cls", CLS_MODEL), ("Rec", REC_MODEL))}
    missing = [str(p) for p in paths.values() if not p.is_file()]
    if missing:
        raise MediaProblem("ocr-model", "the OCR models are not installed (" +
                           ", ".join(missing) + "); reinstall the rapidocr package")
    from rapidocr import RapidOCR
    # One thread: the parallelism is the worker pool's (one worker per core).
    params: dict[str, Any] = {"Global.log_level": "error",
                              "EngineConfig.onnxruntime.intra_op_num_threads": 1,
                              "EngineConfig.onnxruntime.inter_op_num_threads": 1}
    for kind, path in paths.items():
        params[f"{kind}.model_path"] = str(path)
    logging.getLogger("RapidOCR").setLevel(logging.ERROR)
    return RapidOCR(params=params)


def margin(width: int, height: int) -> int:
    """Paper added around an image before detection. The detector misses text that touches
    the image's edges, as on a cropped word or a one-line strip: these get half their height
    of margin; a page (already with margins) gets a thin one.

    margin(256, 32)     -> 16
    margin(1890, 503)   -> 252   (a strip: three or more times as wide as high)
    margin(2480, 3508)  -> 74
    """
    shorter = min(width, height)
    strip = shorter < 300 or max(width, height) >= 3 * shorter
    return max(8, round(shorter * (0.5 if strip else 0.03)))


def _paper(image: Image.Image) -> tuple[int, int, int]:
    """The colour of the image's edges (its median): the paper the margin is made of."""
    import numpy as np
    grey = np.asarray(image.convert("L"))
    edges = np.concatenate([grey[0], grey[-1], grey[:, 0], grey[:, -1]])
    value = int(np.median(edges))
    return (value, value, value)


def detection_limit(width: int, height: int) -> tuple[str, int]:
    """How the text detector sizes an image (after the engine's own cap of 2000 px): a page
    bigger than 1536 px is detected at 1536 on its longer side (a quarter less CPU on an A4
    scan, the same text read: neighbouring boxes merge, none is lost); a smaller image is
    enlarged to 736 on its shorter side, which finds the text of a cropped word or a strip,
    but never past MAX_DETECTION_SIDE on its longer side: a thin strip enlarged to 736 high
    would be 5,000 px long, and onnxruntime's buffers (and the worker's memory) grow with
    every such shape.

    detection_limit(1408, 1984) -> ("max", 1536)
    detection_limit(300, 187)   -> ("min", 736)
    detection_limit(349, 51)    -> ("min", 299)   (a word cut from a line: 2048 x 299)
    """
    longer, shorter = max(width, height), max(1, min(width, height))
    if longer > 1536:
        return ("max", 1536)
    return ("min", min(736, shorter * MAX_DETECTION_SIDE // longer))


def _read_once(image: Image.Image) -> list[Found]:
    """The engine's boxes on one image, as it lies, in its pixels. Empty when it finds no
    text."""
    import numpy as np
    from rapidocr.utils.process_img import map_boxes_to_original
    engine = _engine()
    pad = margin(*image.size)
    padded = ImageOps.expand(image.convert("RGB"), border=pad, fill=_paper(image))
    pixels = np.asarray(padded)[:, :, ::-1].copy()  # the engine works in BGR
    small, record = engine.preprocess_img(pixels)
    detector = engine._load_det_model()  # rapidocr 3.x: its limits are read on every call
    detector.limit_type, detector.limit_side_len = detection_limit(small.shape[1],
                                                                   small.shape[0])
    det, cls, rec, _ = engine.run_ocr_steps(small, record)
    if det.boxes is None or rec.txts is None:
        return []
    boxes = map_boxes_to_original(det.boxes, record, padded.height, padded.width)
    labels = cls.cls_res or [("0", 1.0)] * len(boxes)
    found = []
    for quad, text, confidence, (label, _) in zip(boxes, rec.txts, rec.scores, labels,
                                                  strict=False):
        if text.strip() and confidence >= engine.text_score:
            corners = tuple((min(max(float(x) - pad, 0.0), image.width),
                             min(max(float(y) - pad, 0.0), image.height)) for x, y in quad)
            found.append(Found(corners, text, float(confidence), flipped=label == "180"))
    return found


def _turn(image: Image.Image, degrees: int) -> Image.Image:
    """The image turned `degrees` clockwise."""
    if degrees == 90:
        return image.transpose(Image.Transpose.ROTATE_270)
    if degrees == 270:
        return image.transpose(Image.Transpose.ROTATE_90)
    if degrees == 180:
        return image.transpose(Image.Transpose.ROTATE_180)
    return image


def read_image(image: Image.Image) -> PageText:
    """The text of a page image, already upright as stored (EXIF applied by the caller)."""
    started = time.monotonic()
    width, height = image.size
    if min(width, height) < MIN_SIDE:
        return PageText(width, height, 0, False, (), time.monotonic() - started)
    found = _read_once(image)
    turned = 0
    chars = sum(len(f.text) for f in found)
    if found and score(found) < RETRY_CONFIDENCE * chars:
        for degrees in (90, 270):
            attempt = _read_once(_turn(image, degrees))
            if score(attempt) > score(found):
                found, turned = attempt, degrees
    if turned:
        tw, th = (height, width)
        reading = arrange(found, tw, th)
        lines = tuple(_unturn(line, turned, width, height) for line in reading.lines)
    else:
        reading = arrange(found, width, height)
        lines = reading.lines
    rotation = (turned + (180 if reading.upside_down else 0)) % 360
    return PageText(width, height, rotation, reading.vertical, lines,
                    time.monotonic() - started)


def _unturn(line: Line, turned: int, width: int, height: int) -> Line:
    """A line found on the turned image, with its box in the page image's own pixels."""
    corners = ((line.x, line.y), (line.x + line.w, line.y + line.h))
    (x1, y1), (x2, y2) = rotated_back(corners, turned, width, height)
    x, y = min(x1, x2), min(y1, y2)
    return Line(line.text, round(x), round(y), round(abs(x2 - x1)), round(abs(y2 - y1)),
                line.confidence)


def open_page_image(path: str | os.PathLike[str], page: int = 1) -> Image.Image:
    """An image file's page (a multi-page TIFF's frame; 1 is the first) as a page image: EXIF
    orientation applied, transparency laid on white (text drawn on a transparent background
    stays visible), in RGB."""
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    ImageFile.LOAD_TRUNCATED_IMAGES = True
    try:
        with Image.open(path) as im:
            im.seek(page - 1)
            im.load()
            upright = ImageOps.exif_transpose(im)
            return flatten(upright).convert("RGB")
    except (Image.DecompressionBombError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise MediaProblem("corrupt", f"cannot decode the image: {exc}") from None


@functools.lru_cache(maxsize=1)
def _malloc_trim() -> Any:
    """glibc's malloc_trim, or None where there is none (another C library, another system)."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None


def give_back_memory() -> None:
    """Return the memory a page freed to the system. onnxruntime (its CPU arena off, as
    RapidOCR sets it) mallocs and frees buffers sized by each page's shape; glibc keeps what
    is freed in its heaps, so a worker's resident memory grew with every new shape it met
    (400 MB after one page, 660 MB after twenty). Trimmed after each page it stays where the
    models put it."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


def read_page(path: str, page: int = 1, pdf: bool = False,
              page_image: str | None = None) -> PageText:
    """Read one page (see `_read_page`), then give the memory it took back to the system."""
    try:
        return _read_page(path, page, pdf, page_image)
    finally:
        give_back_memory()


def _read_page(path: str, page: int = 1, pdf: bool = False,
               page_image: str | None = None) -> PageText:
    """Read one page of a file: an image (or a frame of a multi-page TIFF), or (pdf) page
    `page` of a PDF, drawn as its page
    image is (`media.pdfpages.render_page`) so that the boxes fall on that image's pixels. A
    PDF page's image is saved to `page_image` when given and not there yet, and read from it
    when it is."""
    if not pdf:
        return read_image(open_page_image(path, page))
    if page_has_text(path, page):
        return PageText(0, 0, 0, False, (), 0.0, text_layer=True)
    if page_image and os.path.isfile(page_image):
        return read_image(open_page_image(page_image))
    image = render_page(path, page)
    if page_image:
        save_jpeg(image, page_image)
    return read_image(image)


__all__ = ["PageText", "engine_name", "model_name", "open_page_image", "read_image",
           "read_page"]
