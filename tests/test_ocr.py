"""The OCR engine (media/ocr.py) on real images of Chinese text from the shared corpus, and the
pure reading-order layer (media/ocrlayout.py) on numbers."""
from __future__ import annotations

import csv
import os
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from PIL import Image

from media.ocr import detection_limit, margin, open_page_image, read_image, read_page
from media.ocrlayout import Box, Found, arrange, bounding_box, reading_order, rotated_back, \
    turned_180
from tests.conftest import CORPUS

OCR = CORPUS / "ocr"
needs_corpus = pytest.mark.skipif(not (OCR / "SOURCES.csv").is_file(),
                                  reason="the shared OCR corpus (shared/corpus/ocr) is absent")


def norm(text: str) -> str:
    """As the corpus README says to compare: NFKC, no whitespace, Latin case-folded."""
    return "".join(unicodedata.normalize("NFKC", text).split()).casefold()


def expected(path: str) -> list[str]:
    with open(OCR / "SOURCES.csv", encoding="utf-8") as f:
        row = next(r for r in csv.DictReader(f) if r["path"] == path)
    return [line for line in row["expected_lines"].split(" | ") if line]


def texts(page) -> list[str]:  # type: ignore[no-untyped-def]
    return [norm(line.text) for line in page.lines]


# -- the pure layer ---------------------------------------------------------------------------

def quad(x: float, y: float, w: float, h: float) -> tuple[tuple[float, float], ...]:
    return ((x, y), (x + w, y), (x + w, y + h), (x, y + h))


def test_bounding_box_and_turns():
    assert bounding_box([(10, 5), (50, 7), (49, 20), (9, 18)]) == Box(9, 5, 41, 15)
    assert turned_180(Box(0, 0, 10, 5), 100, 50) == Box(90, 45, 10, 5)
    assert rotated_back([(0, 0)], 90, 100, 50) == ((0, 50),)
    assert rotated_back([(0, 0)], 180, 100, 50) == ((100, 50),)
    assert rotated_back([(0, 0)], 270, 100, 50) == ((100, 0),)
    # (10, 30) on a 100x50 image is at (50 - 30, 10) once the image is turned 90° clockwise
    assert rotated_back([(20, 10)], 90, 100, 50) == ((10, 30),)


def test_rows_read_top_to_bottom_left_to_right():
    boxes = [Box(60, 0, 40, 10), Box(0, 1, 40, 10), Box(0, 20, 40, 10)]
    assert reading_order(boxes, vertical=False) == [1, 0, 2]


def test_columns_read_right_to_left_top_to_bottom():
    boxes = [Box(0, 0, 10, 40), Box(20, 0, 10, 40), Box(20, 50, 10, 40)]
    assert reading_order(boxes, vertical=True) == [1, 2, 0]


def test_arrange_vertical_page():
    found = [Found(quad(0, 0, 20, 200), "第三列文字", 0.9),
             Found(quad(100, 0, 20, 200), "第一列文字", 0.9),
             Found(quad(50, 0, 20, 200), "第二列文字", 0.9)]
    reading = arrange(found, 120, 200)
    assert reading.vertical and not reading.upside_down
    assert [line.text for line in reading.lines] == ["第一列文字", "第二列文字", "第三列文字"]


def test_arrange_upside_down_page_reads_from_the_bottom_and_keeps_its_pixels():
    # the classifier flipped every line: the page lies upside down, so its first line is the
    # lowest one, and boxes stay in the image's own pixels
    found = [Found(quad(10, 10, 80, 10), "第二行", 0.9, flipped=True),
             Found(quad(10, 80, 80, 10), "第一行", 0.9, flipped=True)]
    reading = arrange(found, 100, 100)
    assert reading.upside_down
    assert [(line.text, line.y) for line in reading.lines] == [("第一行", 80), ("第二行", 10)]


def test_arrange_drops_empty_text_and_rounds_boxes():
    found = [Found(quad(1.4, 2.6, 50.2, 10.1), " 导弹 ", 0.91234),
             Found(quad(0, 40, 9, 9), " ", 0.9)]
    (line,) = arrange(found, 100, 100).lines
    assert (line.text, line.x, line.y, line.w, line.h, line.confidence) == \
        ("导弹", 1, 3, 50, 10, 0.9123)


@pytest.mark.parametrize("size, expected", [((1408, 1984), ("max", 1536)),
                                            ((300, 187), ("min", 736)),
                                            ((349, 51), ("min", 299)),
                                            ((1130, 220), ("min", 398))])
def test_detection_limit(size, expected):
    assert detection_limit(*size) == expected


@pytest.mark.parametrize("size, expected_margin", [
    ((256, 32), 16), ((1890, 503), 252), ((2480, 3508), 74), ((10, 10), 8),
])
def test_margin(size, expected_margin):
    assert margin(*size) == expected_margin


# -- the engine on real images -----------------------------------------------------------------

@needs_corpus
def test_printed_simplified_lines_in_order():
    page = read_page(str(OCR / "cnocr" / "multi-line_cn1.png"))
    want = [norm(line) for line in expected("cnocr/multi-line_cn1.png")]
    got = texts(page)
    assert len(got) == len(want) == 7
    # every line but the one whose dash the label writes as "--" (the image has a long dash)
    clean = [w for w in want if "--" not in w]
    assert [g for g, w in zip(got, want, strict=True) if "--" not in w] == clean
    assert (page.width, page.height, page.rotation, page.vertical) == (300, 187, 0, False)
    first = page.lines[0]
    assert 0 <= first.x < 30 and 0 <= first.y < 15 and first.w > 200 and 15 < first.h < 35
    assert all(0.5 <= line.confidence <= 1 for line in page.lines)


@needs_corpus
def test_printed_traditional_phrases_found():
    got = "".join(texts(read_page(str(OCR / "cnocr" / "fanti.jpg"))))
    phrases = expected("cnocr/fanti.jpg")
    assert sum(norm(p) in got for p in phrases) >= len(phrases) - 1
    assert "般若波羅蜜多" in got  # traditional characters come out traditional


@needs_corpus
def test_upside_down_line_is_turned_and_read():
    page = read_page(str(OCR / "rapidocr" / "text_cls.jpg"))
    assert texts(page) == ["怪我咯"] and page.rotation == 180


@needs_corpus
def test_vertical_columns_read_right_to_left():
    page = read_page(str(OCR / "rapidocr" / "text_vertical_words.png"))
    assert page.vertical
    assert len(page.lines) == 3
    xs = [line.x for line in page.lines]
    assert xs == sorted(xs, reverse=True)  # the rightmost column first
    assert norm(page.lines[-1].text).endswith("取之時不參一人見而")  # the leftmost, per its test


@needs_corpus
@pytest.mark.parametrize("name", ["exif-py/canon-ixus.jpg", "rapidocr/empty_black.jpg"])
def test_image_without_text_has_no_lines(name):
    page = read_page(str(OCR / name))
    assert page.lines == () and page.width > 0


@needs_corpus
def test_transparent_background_is_laid_on_white():
    got = texts(read_page(str(OCR / "rapidocr" / "black_font_color_transparent.png")))
    assert "".join(got).startswith("我是中国")


@needs_corpus
@pytest.mark.parametrize("turn", [Image.Transpose.ROTATE_90, Image.Transpose.ROTATE_270,
                                  Image.Transpose.ROTATE_180])
def test_page_scanned_sideways_or_upside_down_reads_in_order(turn):
    upright = open_page_image(OCR / "cnocr" / "multi-line_cn1.png")
    page = read_image(upright.transpose(turn))
    want = [norm(line) for line in expected("cnocr/multi-line_cn1.png") if "--" not in line]
    got = texts(page)
    assert [g for g in got if g in want] == want  # every clean line, in reading order
    assert (page.width, page.height) == upright.transpose(turn).size  # boxes in its pixels
    for line in page.lines:
        assert line.x + line.w <= page.width + 1 and line.y + line.h <= page.height + 1


@needs_corpus
def test_exif_orientation_is_applied_first(tmp_path: Path):
    # the pixels lie on their side; the EXIF tag (6: turn 90° clockwise) sets them upright
    upright = open_page_image(OCR / "cnocr" / "multi-line_cn1.png")
    exif = Image.Exif()
    exif[0x0112] = 6
    upright.transpose(Image.Transpose.ROTATE_90).save(tmp_path / "tagged.jpg", quality=95,
                                                      exif=exif)
    page = read_page(str(tmp_path / "tagged.jpg"))
    assert (page.width, page.height, page.rotation) == (300, 187, 0)
    assert texts(page)[:2] == [norm(x) for x in expected("cnocr/multi-line_cn1.png")[:2]]


@needs_corpus
def test_scanned_pdf_page_is_drawn_read_and_its_image_kept(tmp_path: Path):
    # a real image-only PDF: the scan at 100 dpi; drawn at 200 dpi for the page image
    scan = open_page_image(OCR / "cnocr" / "multi-line_cn1.png")
    scan.save(tmp_path / "letter.pdf", "PDF", resolution=100)
    page_image = tmp_path / "derivatives" / "ab" / "x.page-1.jpg"
    page = read_page(str(tmp_path / "letter.pdf"), 1, pdf=True, page_image=str(page_image))
    assert not page.text_layer
    with Image.open(page_image) as im:
        assert im.size == (page.width, page.height) == (600, 374)
    got = texts(page)
    want = [norm(x) for x in expected("cnocr/multi-line_cn1.png") if "--" not in x]
    assert [g for g in got if g in want] == want
    assert page.lines[0].w > 400  # boxes in the page image's pixels, not the scan's


def test_pdf_page_with_a_text_layer_is_not_read(tmp_path: Path):
    from benchmarks.generators.samples import make_pdf
    pdf = make_pdf(tmp_path / "typed.pdf", ["钱学森致函导弹研究所，请查收附件。"])
    page = read_page(str(pdf), 1, pdf=True)
    assert page.text_layer and page.lines == ()


@needs_corpus
@pytest.mark.skipif(subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode,
                    reason="cannot make a network namespace here (unshare -rn)")
def test_ocr_runs_with_the_network_unreachable():
    """In a network namespace of its own, with no interface up: any attempt to fetch a model
    fails, so reading a page proves the models come from the installed wheel."""
    code = ("import socket, sys\n"
            "try:\n"
            "    socket.create_connection(('1.1.1.1', 443), timeout=3)\n"
            "    sys.exit('the network is reachable: the test proves nothing')\n"
            "except OSError:\n"
            "    pass\n"
            "from media.ocr import read_page\n"
            f"page = read_page({str(OCR / 'cnocr' / 'multi-line_cn1.png')!r})\n"
            "print(page.lines[0].text)\n")
    env = {**os.environ, "HOME": "/nonexistent", "no_proxy": "", "NO_PROXY": ""}
    done = subprocess.run(["unshare", "-rn", sys.executable, "-c", code], capture_output=True,
                          text=True, timeout=300, env=env, cwd=Path(__file__).parents[1])
    assert done.returncode == 0, done.stderr[-2000:]
    assert norm(done.stdout) == norm("网络支付并无本质的区别，因为")


# -- the benchmark's scoring (benchmarks/ocr.py) -------------------------------------------------

@pytest.mark.parametrize("pattern, text, distance", [
    ("导弹", "研究导弹所", 0), ("导弹研究", "导弹研所", 1), ("abc", "", 3), ("", "x", 0),
])
def test_substring_distance(pattern, text, distance):
    from benchmarks.ocr import substring_distance
    assert substring_distance(pattern, text) == distance


def test_score_image_normalises_as_the_corpus_says():
    from benchmarks.ocr import normalise, score_image
    assert normalise("Hello World！ 你好") == "helloworld!你好"
    # full-width punctuation, spaces and case do not count; a missing character does
    assert score_image("（45元/每公斤） CUDA execution", ["(45元/每公斤)", "cudaexecution"]) == \
        (len("(45元/每公斤)") + len("cudaexecution"), 0)
    assert score_image("南丰", ["南丰站"]) == (3, 1)


def test_each_frame_of_a_multi_page_tiff_is_a_page(tmp_path: Path):
    from benchmarks.generators.samples import SCANNED_PAGE, cjk_font, page_image
    if cjk_font(20) is None:
        pytest.skip("no CJK font to print the scan with (pip install paperang-p2-fonts-cjk)")
    blank, printed = page_image((600, 800), []), page_image((600, 800), SCANNED_PAGE)
    blank.save(tmp_path / "letter.tif", "TIFF", save_all=True, append_images=[printed],
               compression="tiff_lzw")
    assert read_page(str(tmp_path / "letter.tif"), 1).lines == ()
    second = read_page(str(tmp_path / "letter.tif"), 2)
    assert [line.text for line in second.lines][1:] == list(SCANNED_PAGE[1:])
