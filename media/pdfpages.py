"""PDF pages as images, through pypdfium2 (PDFium): how many pages, which carry a text layer,
and page N rendered to a Pillow image. What thumbnails, page images and the OCR of scanned PDFs
are made from.

PDFium is a C++ library that is not thread-safe and may crash on hostile files: callers run
these in isolated workers, one document at a time per process.
"""
from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from PIL import Image

from media.problems import MediaProblem

PAGE_DPI = 200  # page images: a 300-dpi scan's detail is mostly kept, an A4 page is 1654x2339
MAX_PAGE_SIDE = 4000  # a poster-sized page is drawn smaller rather than at a gigapixel
MIN_TEXT_CHARS = 10  # fewer printable characters than this is a stamp or a header, not a text


@dataclass(frozen=True)
class PdfLayout:
    """What a PDF holds, page by page (pages numbered from 1)."""
    pages: int
    text_pages: frozenset[int]  # pages whose text layer is a real text (kept, not OCR'd)

    @property
    def image_pages(self) -> tuple[int, ...]:
        """The pages that are pictures only: the ones OCR reads."""
        return tuple(n for n in range(1, self.pages + 1) if n not in self.text_pages)


def has_text_layer(text: str, min_chars: int = MIN_TEXT_CHARS) -> bool:
    """Whether a page's extracted text is a real text layer rather than nothing or a stray mark.

    has_text_layer("")                        -> False
    has_text_layer("  \\r\\n ")                 -> False
    has_text_layer("第1页")                    -> False  (a page number on a scan)
    has_text_layer("钱学森致函导弹研究所，请")  -> True
    """
    return sum(1 for c in text if c.isprintable() and not c.isspace()) >= min_chars


def render_scale(width_pt: float, height_pt: float, dpi: int = PAGE_DPI,
                 max_side: int = MAX_PAGE_SIDE) -> float:
    """PDFium's scale (pixels per point) for a page: `dpi`, unless the longest side would
    pass `max_side` pixels.

    render_scale(595, 842)             -> 2.777…  (A4 at 200 dpi: 1653x2339)
    render_scale(595, 842, dpi=72)     -> 1.0
    render_scale(2384, 3370)           -> 1.186…  (A0 capped to 4000 px high)
    """
    scale = dpi / 72
    longest = max(width_pt, height_pt, 1.0)
    return min(scale, max_side / longest)


def open_pdf(path: str | os.PathLike[str]):  # type: ignore[no-untyped-def]
    """PDFium's document (close it after use); MediaProblem "encrypted" or "corrupt" when
    it cannot be opened. An empty user password is tried, as every reader does."""
    import pypdfium2 as pdfium
    try:
        return pdfium.PdfDocument(os.fspath(path))
    except pdfium.PdfiumError as exc:
        text = str(exc)
        if "password" in text.lower():
            raise MediaProblem("encrypted", "the PDF is encrypted; its pages cannot be "
                                            "drawn without the password") from None
        raise MediaProblem("corrupt", f"PDFium cannot open the PDF: {text}") from None


def pdf_layout(path: str | os.PathLike[str]) -> PdfLayout:
    """The page count and which pages have a text layer."""
    document = open_pdf(path)
    try:
        text_pages = set()
        for index in range(len(document)):
            page = document[index]
            try:
                textpage = page.get_textpage()
                try:
                    if has_text_layer(textpage.get_text_range()):
                        text_pages.add(index + 1)
                finally:
                    textpage.close()
            finally:
                page.close()
        return PdfLayout(len(document), frozenset(text_pages))
    finally:
        document.close()


@contextmanager
def _page(path: str | os.PathLike[str], page: int) -> Iterator[Any]:
    """PDFium's page `page` (1 is the first) of the PDF, closed with its document after use."""
    document = open_pdf(path)
    try:
        if not 1 <= page <= len(document):
            raise MediaProblem("no-page", f"the PDF has {len(document)} pages, not a page {page}")
        pdf_page = document[page - 1]
        try:
            yield pdf_page
        finally:
            pdf_page.close()
    finally:
        document.close()


def page_has_text(path: str | os.PathLike[str], page: int) -> bool:
    """Whether page `page` (1 is the first) has a text layer of its own (then it is not OCR'd:
    its text was extracted at ingest)."""
    with _page(path, page) as pdf_page:
        textpage = pdf_page.get_textpage()
        try:
            return has_text_layer(textpage.get_text_range())
        finally:
            textpage.close()


def page_count(path: str | os.PathLike[str]) -> int:
    document = open_pdf(path)
    try:
        return len(document)
    finally:
        document.close()


def render_page(path: str | os.PathLike[str], page: int, dpi: int = PAGE_DPI,
                max_side: int = MAX_PAGE_SIDE) -> Image.Image:
    """Page `page` (1 is the first) as an RGB image at `dpi`, its longest side at most
    `max_side` pixels, turned as the PDF says it is shown (/Rotate). The same arguments always
    give the same pixels: the page images on disk and the OCR's line boxes agree."""
    import pypdfium2 as pdfium
    with _page(path, page) as pdf_page:
        try:
            width, height = pdf_page.get_size()
            bitmap = pdf_page.render(scale=render_scale(width, height, dpi, max_side),
                                     rotation=0, may_draw_forms=True)
            try:
                return bitmap.to_pil().convert("RGB")
            finally:
                bitmap.close()
        except pdfium.PdfiumError as exc:
            raise MediaProblem("corrupt", f"PDFium cannot draw page {page}: {exc}") from None


__all__ = ["MAX_PAGE_SIDE", "PAGE_DPI", "PdfLayout", "has_text_layer", "open_pdf", "page_count",
           "page_has_text", "pdf_layout", "render_page", "render_scale"]
