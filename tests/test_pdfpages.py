"""PDF pages as images (media/pdfpages.py) and the page images derive writes, on real PDFs:
one with a Chinese text layer, one made of a scanned page, one of each."""
from __future__ import annotations

from pathlib import Path

import pytest
from PIL import Image

from benchmarks.generators.samples import make_jpeg, make_pdf
from media.derivatives import pdf_page_image, pdf_page_images
from media.pdfpages import has_text_layer, page_count, pdf_layout, render_page, render_scale
from media.problems import MediaProblem


def scanned_pdf(path: Path, pages: int = 1, size: tuple[int, int] = (850, 1100)) -> Path:
    """An image-only PDF, as a scanner writes one: each page a JPEG and no text layer."""
    frames = [Image.open(make_jpeg(path.parent / f"scan-{n}.jpg", size, lines=[f"p{n}"]))
              for n in range(pages)]
    frames[0].save(path, "PDF", resolution=100, save_all=True, append_images=frames[1:])
    return path


def mixed_pdf(tmp_path: Path) -> Path:
    """Page 1 typed (a text layer), page 2 a scan: PDFium joins the two real PDFs."""
    import pypdfium2 as pdfium
    joined = pdfium.PdfDocument.new()
    for part in (make_pdf(tmp_path / "typed.pdf", ["钱学森致函导弹研究所，请查收附件。"]),
                 scanned_pdf(tmp_path / "scan.pdf")):
        source = pdfium.PdfDocument(str(part))
        joined.import_pages(source)
        source.close()
    joined.save(tmp_path / "mixed.pdf")
    joined.close()
    return tmp_path / "mixed.pdf"


@pytest.mark.parametrize("text, expected", [
    ("", False), ("  \r\n ", False), ("第1页", False), ("钱学森致函导弹研究所，请", True),
])
def test_has_text_layer(text, expected):
    assert has_text_layer(text) is expected


@pytest.mark.parametrize("size, dpi, expected", [
    ((595, 842), 200, 200 / 72), ((595, 842), 72, 1.0), ((2384, 3370), 200, 4000 / 3370),
])
def test_render_scale(size, dpi, expected):
    assert render_scale(*size, dpi=dpi) == pytest.approx(expected)


def test_layout_tells_text_pages_from_scanned_ones(tmp_path: Path):
    layout = pdf_layout(mixed_pdf(tmp_path))
    assert (layout.pages, layout.text_pages, layout.image_pages) == (2, {1}, (2,))
    assert page_count(tmp_path / "mixed.pdf") == 2


def test_render_page_draws_the_scan_at_the_asked_resolution(tmp_path: Path):
    pdf = scanned_pdf(tmp_path / "scan.pdf", size=(850, 1100))  # 8.5 x 11 in at 100 dpi
    page = render_page(pdf, 1, dpi=100)
    assert (page.mode, page.size) == ("RGB", (850, 1100))
    # the scan's paper colour (#f3ecd9) is what is drawn, not a blank page
    r, g, b = page.getpixel((400, 900))
    assert abs(r - 0xF3) < 12 and abs(g - 0xEC) < 12 and abs(b - 0xD9) < 12


def test_page_out_of_range_and_broken_pdfs_are_media_problems(tmp_path: Path):
    pdf = scanned_pdf(tmp_path / "scan.pdf")
    with pytest.raises(MediaProblem) as out_of_range:
        render_page(pdf, 2)
    assert out_of_range.value.code == "no-page"
    broken = tmp_path / "truncated_at_byte_300.pdf"
    broken.write_bytes(pdf.read_bytes()[:300])
    with pytest.raises(MediaProblem) as damaged:
        pdf_layout(broken)
    assert damaged.value.code == "corrupt"


def test_page_images_are_written_one_per_page(tmp_path: Path):
    pdf = scanned_pdf(tmp_path / "scan.pdf", pages=3)
    dests = [str(tmp_path / "out" / f"x.page-{n}.jpg") for n in (1, 2, 3)]
    made = pdf_page_images(str(pdf), dests, dpi=100)
    assert (made.kind, made.width, made.height) == ("pages", 850, 1100)
    for dest in dests:
        with Image.open(dest) as im:
            assert (im.format, im.size) == ("JPEG", (850, 1100))
    one = pdf_page_image(str(pdf), 2, str(tmp_path / "two.jpg"))
    assert (one.width, one.height) == (1700, 2200)  # the default: 200 dpi
