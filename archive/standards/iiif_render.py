"""Part of an image at a size, as the IIIF Image API asks: EXIF orientation applied first (the
region counts in the pixels a reader sees), JPEGs decoded at reduced size (draft mode) when
the answer is smaller, so a tile of a 60-megapixel scan does not decode all of it. An image
that cannot be decoded is NotFound: the site has no picture to give for it."""
from __future__ import annotations

import io

from PIL import Image, ImageFile, ImageOps

from archive.errors import NotFound
from media.derivatives import flatten
from media.images import MAX_PIXELS

_ROTATED = {5, 6, 7, 8}  # EXIF orientations that swap width and height
_TURN = {90: Image.Transpose.ROTATE_270, 180: Image.Transpose.ROTATE_180,
         270: Image.Transpose.ROTATE_90}  # Pillow's names count counter-clockwise


def displayed_size(path: str, frame: int = 1) -> tuple[int, int]:
    """Width and height as shown (after EXIF orientation), from the header alone; of frame
    `frame` of a multi-page TIFF (1 is the first)."""
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    try:
        with Image.open(path) as im:
            im.seek(frame - 1)
            w, h = im.size
            orientation = im.getexif().get(0x0112)
    except (Image.DecompressionBombError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise NotFound(f"the image cannot be read: {exc}") from None
    return (h, w) if orientation in _ROTATED else (w, h)


def render(path: str, box: tuple[int, int, int, int], size: tuple[int, int], rotation: int,
           gray: bool, fmt: str, frame: int = 1) -> bytes:
    """The region `box` (x, y, w, h, as displayed) scaled to `size`, turned clockwise by
    `rotation` (a multiple of 90), encoded as JPEG or PNG; of frame `frame` of a multi-page
    TIFF (only that frame is decoded)."""
    Image.MAX_IMAGE_PIXELS = MAX_PIXELS
    ImageFile.LOAD_TRUNCATED_IMAGES = True  # a scan cut short still shows what it holds
    x, y, w, h = box
    try:
        with Image.open(path) as im:
            im.seek(frame - 1)
            full = im.size
            scale = min(size[0] / w, size[1] / h)
            if im.format == "JPEG" and scale < 1:
                im.draft("RGB", (max(1, int(full[0] * scale)), max(1, int(full[1] * scale))))
            im.load()
            factor = im.size[0] / full[0]  # what draft mode kept
            oriented = ImageOps.exif_transpose(im)
    except (Image.DecompressionBombError, OSError, ValueError, SyntaxError, EOFError) as exc:
        raise NotFound(f"the image cannot be decoded: {exc}") from None
    crop = (int(x * factor), int(y * factor), max(int(x * factor) + 1, int((x + w) * factor)),
            max(int(y * factor) + 1, int((y + h) * factor)))
    part = oriented.crop(crop)
    part = _mode(part, gray)
    if part.size != size:
        part = part.resize(size, Image.Resampling.LANCZOS)
    if rotation:
        part = part.transpose(_TURN[rotation])
    out = io.BytesIO()
    if fmt == "png":
        part.save(out, "PNG")
    else:
        part.save(out, "JPEG", quality=85)
    return out.getvalue()


def _mode(im: Image.Image, gray: bool) -> Image.Image:
    im = flatten(im)
    if gray:
        return im.convert("L")
    return im if im.mode in ("RGB", "L") else im.convert("RGB")
