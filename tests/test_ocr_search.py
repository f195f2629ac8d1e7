"""Machine-read text on the surfaces (#15 Search and the site, #17 IIIF): the item page opens the
page a query was found on with its lines outlined and the page's text beside the image; the
manifest carries each page's lines as `supplementing` annotations and a Content Search 2.0
service that answers with annotations on `canvas#xywh=…`; a restricted item's machine-read
text appears nowhere. OCR results are written to the catalog's tables directly (the seam with
`archive ocr`)."""
from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

import pytest

from archive.page_text import item_pages, lines_matching, page_string
from tests.catalogs import catalog_env, catalog_settings, catalog_url
from tests.conftest import CORPUS, run, write_manifest
from tests.sites import served
from tests.test_search import ENGINES

HOST = "http://localhost"
SECRET_WORD = "绝密火箭"  # only in the restricted letter's scan, on this line:
SECRET_LINE = SECRET_WORD + "的设计"  # (pages echo a query, never the line)


def add_ocr(catalog: Path, path: str, page: int, size: tuple[int, int],
            lines: list[tuple[str, tuple[int, int, int, int]]]) -> None:
    """Rows as `archive ocr` writes them: one page, its lines in reading order."""
    from archive.catalog import Catalog
    from archive.models import File, OcrLine, OcrPage
    from sqlalchemy import select
    cat = Catalog.open(catalog_settings(catalog))
    try:
        with cat.session() as s:
            f = s.scalars(select(File).where(File.path == path)).one()
            row = OcrPage(file_id=f.id, page=page, width=size[0], height=size[1],
                          engine="rapidocr 3.4.2", model="PP-OCRv5 mobile", status="read")
            row.lines = [OcrLine(line_no=n, text=text, x=x, y=y, w=w, h=h, confidence=0.98)
                         for n, (text, (x, y, w, h)) in enumerate(lines, start=1)]
            s.add(row)
            s.commit()
    finally:
        cat.close()


def records(catalog: Path) -> dict[str, dict[str, Any]]:
    return {r["path"]: r for r in (json.loads(line) for line in
                                   run(catalog, "export").stdout.splitlines())}


@pytest.fixture
def ocr_site(tmp_path):  # type: ignore[no-untyped-def]
    """A two-page letter whose second page alone holds 导弹 (across a line break), a PDF
    whose first page was rendered and read, and a restricted letter with a secret word."""
    from archive.derivatives import page_image_path
    from benchmarks.generators.samples import make_jpeg, make_pdf
    from web.app import create_app
    folder = tmp_path / "letters"
    make_jpeg(folder / "letter_1956.jpg", (600, 800))
    make_jpeg(folder / "letter_1956_p2.jpg", (600, 800))
    make_jpeg(folder / "secret_1965.jpg", (600, 800))
    make_pdf(folder / "notes_1958.pdf", ["page one", "page two"])
    manifest = write_manifest(tmp_path / "m.csv", [
        ["path", "title", "access"],
        ["letter_1956.jpg", "致陈赓信", "open"],
        ["secret_1965.jpg", "密信", "restricted"],
        ["notes_1958.pdf", "笔记", "open"]])
    catalog = tmp_path / "catalog.db"
    assert run(catalog, "ingest", str(folder), "--manifest", str(manifest), "--quiet") \
        .exit_code == 0
    add_ocr(catalog, "letter_1956.jpg", 1, (600, 800), [("敬爱的陈赓同志：", (40, 40, 300, 30))])
    add_ocr(catalog, "letter_1956_p2.jpg", 1, (1200, 1600), [  # read at twice the size
        ("关于建立力学研究所和导", (80, 100, 900, 60)),
        ("弹研究的意见如下。", (80, 180, 800, 60)),
        ("此致 敬礼", (80, 260, 300, 60))])
    add_ocr(catalog, "secret_1965.jpg", 1, (600, 800), [(SECRET_LINE, (40, 40, 300, 30))])
    pdf = records(catalog)["notes_1958.pdf"]
    derivatives = Path(str(catalog) + ".derivatives")
    make_jpeg(page_image_path(derivatives, pdf["sha256"], 1), (850, 1100))  # as rendered
    add_ocr(catalog, "notes_1958.pdf", 1, (850, 1100), [("卫星轨道计算", (100, 100, 400, 50))])
    assert run(catalog, "reindex", "--quiet").exit_code == 0
    app = create_app(catalog_settings(catalog))
    app.testing = True
    return app.test_client(), catalog, records(catalog)


def local(url: str) -> str:
    assert url.startswith(HOST + "/"), url
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


# -- the pure parts ----------------------------------------------------------------------------

def test_a_line_break_between_han_characters_is_no_break_in_the_words() -> None:
    assert page_string(["我们研究导", "弹的问题"]) == ("我们研究导弹的问题", [0, 5])
    assert page_string(["Hello", "world"]) == ("Hello\nworld", [0, 6])
    assert page_string(["第一", "", "第二"]) == ("第一\n\n第二", [0, 3, 4])
    assert lines_matching(["我们研究导", "弹的问题"], ["导弹"]) == [0, 1]
    assert lines_matching(["導彈研究", "卫星"], ["导弹"]) == [0]  # traditional folds
    assert lines_matching(["火箭", "卫星"], ["导弹"]) == []


def test_an_items_pages_follow_its_manifest() -> None:
    from types import SimpleNamespace as F
    files = [F(id=3, path="b.pdf", role="master", mime="application/pdf", pages=2),
             F(id=1, path="a.jpg", role="page", mime="image/jpeg", pages=None),
             F(id=2, path="a.srt", role="transcript", mime="text/plain", pages=None)]
    pages = item_pages(files)  # type: ignore[arg-type]
    assert [(p.number, p.path, p.file_page, p.pdf) for p in pages] == [
        (1, "b.pdf", 1, True), (2, "b.pdf", 2, True), (3, "a.jpg", 1, False)]


# -- IIIF ----------------------------------------------------------------------------------------

def manifest(client, acc: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    from iiif_prezi3 import Manifest
    r = client.get(f"/items/{acc}/manifest.json")
    assert r.status_code == 200
    data = json.loads(r.data)
    Manifest(**data)
    return data


def test_each_pages_lines_are_supplementing_annotations_on_their_box(ocr_site):
    client, _, recs = ocr_site
    acc = recs["letter_1956.jpg"]["accession"]
    data = manifest(client, acc)
    first, second = data["items"]
    (page,) = second["annotations"]
    assert page["label"]["en"] == ["Machine-read text"]
    lines = page["items"]
    assert [a["motivation"] for a in lines] == ["supplementing"] * 3
    assert lines[0]["body"] == {"type": "TextualBody", "value": "关于建立力学研究所和导",
                                "format": "text/plain", "language": "zh"}
    # Read from an image twice the canvas's size: the boxes are halved onto the canvas.
    assert lines[0]["target"] == f"{second['id']}#xywh=40,50,450,30"
    assert first["annotations"][0]["items"][0]["target"] == f"{first['id']}#xywh=40,40,300,30"
    service = data["service"]
    assert service == [{"id": f"{HOST}/items/{acc}/search", "type": "SearchService2"}]
    assert client.get(local(service[0]["id"])).status_code == 200


def test_a_pdf_page_is_an_image_canvas_with_its_lines(ocr_site):
    client, _, recs = ocr_site
    data = manifest(client, recs["notes_1958.pdf"]["accession"])
    first, second = data["items"]
    assert first["items"][0]["items"][0]["body"]["type"] == "Image"
    assert first["annotations"][0]["items"][0]["target"].endswith("#xywh=100,100,400,50")
    assert "annotations" not in second


def search_answer(client, acc: str, query: str, **more: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    from iiif_prezi3 import AnnotationPage
    args = "&".join([f"q={quote(query)}"] + [f"{k}={quote(v)}" for k, v in more.items()])
    r = client.get(f"/items/{acc}/search?{args}")
    assert r.status_code == 200
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert r.mimetype == "application/ld+json"
    answer = json.loads(r.data)
    check_content_search_answer(answer)
    AnnotationPage(**{k: v for k, v in answer.items()
                      if k not in ("@context", "ignored", "partOf", "startIndex", "next",
                                   "prev")})
    return answer


def check_content_search_answer(answer: dict[str, Any]) -> None:
    """The shape IIIF Content Search 2.0 (§4.2) asks of an answer: an AnnotationPage in the
    Presentation 3 context, every annotation embedded whole and aimed at a canvas region;
    match information as `highlighting` annotations with TextQuoteSelectors on those
    annotations, in one AnnotationPage under `annotations`; `ignored` a list of names."""
    presentation = "http://iiif.io/api/presentation/3/context.json"
    if "annotations" in answer or "ignored" in answer:  # search-specific: both (§3.4)
        assert answer["@context"] == [presentation, "http://iiif.io/api/search/2/context.json"]
    else:
        assert answer["@context"] == presentation
    assert answer["type"] == "AnnotationPage" and answer["id"].startswith("http")
    ids = set()
    for a in answer["items"]:
        assert a["type"] == "Annotation" and a["id"].startswith("http")
        assert a["body"]["type"] == "TextualBody" and a["body"]["value"]
        assert re.fullmatch(r"http\S+/canvas/\d+#xywh=\d+,\d+,\d+,\d+", a["target"])
        ids.add(a["id"])
    if "annotations" in answer:
        (extra,) = answer["annotations"]
        assert extra["type"] == "AnnotationPage"
        for h in extra["items"]:
            assert h["type"] == "Annotation" and h["motivation"] == "highlighting"
            target = h["target"]
            assert target["type"] == "SpecificResource" and target["source"] in ids
            (selector,) = target["selector"]
            assert selector["type"] == "TextQuoteSelector" and selector["exact"]
    assert all(isinstance(p, str) for p in answer.get("ignored", []))


def test_content_search_answers_with_the_lines_on_their_canvas(ocr_site):
    client, _, recs = ocr_site
    acc = recs["letter_1956.jpg"]["accession"]
    answer = search_answer(client, acc, "导弹")
    assert answer["id"] == f"{HOST}/items/{acc}/search?q=%E5%AF%BC%E5%BC%B9"
    targets = [a["target"] for a in answer["items"]]
    canvas = f"{HOST}/items/{acc}/canvas/2"
    assert targets == [f"{canvas}#xywh=40,50,450,30", f"{canvas}#xywh=40,90,400,30"]
    assert "annotations" not in answer  # across the line break: no quote within one line
    answer = search_answer(client, acc, "力学")
    (match,) = answer["annotations"][0]["items"]
    assert match["target"]["selector"] == [{"type": "TextQuoteSelector", "prefix": "关于建立",
                                            "exact": "力学", "suffix": "研究所和导"}]
    manifest_lines = {a["id"] for c in manifest(client, acc)["items"]
                      for p in c.get("annotations", []) for a in p["items"]}
    assert {a["id"] for a in answer["items"]} <= manifest_lines
    assert search_answer(client, acc, "卫星")["items"] == []
    assert search_answer(client, acc, "")["items"] == []
    ignored = search_answer(client, acc, "力学", user="https://x.example/u", date="x")
    assert ignored["ignored"] == ["date", "user"] and len(ignored["items"]) == 1
    assert search_answer(client, acc, "力学", motivation="painting")["items"] == []
    assert len(search_answer(client, acc, "力学", motivation="supplementing")["items"]) == 1
    moved = client.get(f"/items/{acc.lower()}/search?q=x")
    assert moved.status_code == 301
    assert moved.headers["Location"].endswith(f"/items/{acc}/search?q=x")


def test_content_search_pages_a_long_answer(ocr_site):
    """IIIF Content Search 2.0 §3.3.2: more matching lines than a page holds are an
    AnnotationCollection of pages, each `partOf` it with `startIndex`, `next` and `prev`."""
    client, _, recs = ocr_site
    acc = recs["letter_1956.jpg"]["accession"]
    whole = search_answer(client, acc, "研究")["items"]
    assert len(whole) == 2
    client.application.config["SEARCH_PAGE_SIZE"] = 1
    base = f"{HOST}/items/{acc}/search?q=%E7%A0%94%E7%A9%B6"
    first = search_answer(client, acc, "研究")
    assert first["id"] == base + "&page=1" and first["startIndex"] == 0
    assert first["partOf"] == {"id": base, "type": "AnnotationCollection", "total": 2,
                               "first": {"id": base + "&page=1", "type": "AnnotationPage"},
                               "last": {"id": base + "&page=2", "type": "AnnotationPage"}}
    assert first["next"] == {"id": base + "&page=2", "type": "AnnotationPage"}
    assert "prev" not in first and first["items"] == whole[:1]
    # each page holds the highlights of its own lines only
    assert [h["target"]["source"] for h in first["annotations"][0]["items"]] \
        == [whole[0]["id"]]
    second = search_answer(client, acc, "研究", page="2")
    assert second["id"] == base + "&page=2" and second["startIndex"] == 1
    assert second["prev"] == {"id": base + "&page=1", "type": "AnnotationPage"}
    assert "next" not in second and second["items"] == whole[1:]
    assert [h["target"]["source"] for h in second["annotations"][0]["items"]] \
        == [whole[1]["id"]]
    past = search_answer(client, acc, "研究", page="3")
    assert past["items"] == [] and past["prev"]["id"] == base + "&page=2"
    for bad in ("0", "x", "-1"):
        r = client.get(f"/items/{acc}/search?q=x&page={bad}")
        assert r.status_code == 400 and "page" in r.get_data(as_text=True)
    secret = recs["secret_1965.jpg"]["accession"]
    r = client.get(f"/items/{secret}/search?q={SECRET_WORD}&page=2")
    assert r.status_code == 404 and SECRET_LINE not in r.get_data(as_text=True)


@pytest.mark.skipif(not (CORPUS / "ocr").is_dir(), reason="needs the OCR models' corpus run")
def test_each_frame_of_a_multi_page_tiff_is_a_page_read_shown_and_found(tmp_path):
    """#15.3: a letter scanned to one TIFF of two frames: the OCR reads both, search finds a
    word only on frame 2 and says page 2, the item page opens that frame's image with its
    lines, the manifest has a canvas per frame, the Image API serves frame 2 itself."""
    from PIL import Image

    from benchmarks.generators.samples import SCANNED_PAGE, cjk_font, page_image
    from web.app import create_app
    if cjk_font(20) is None:
        pytest.skip("no CJK font to print the scan with (pip install paperang-p2-fonts-cjk)")
    folder = tmp_path / "coll" / "信件"
    folder.mkdir(parents=True)
    first = page_image((900, 1200), ["敬爱的陈赓同志："])
    second = page_image((800, 1100), SCANNED_PAGE)  # another size: each frame has its own
    first.save(folder / "letter.tif", save_all=True, append_images=[second],
               compression="tiff_lzw")
    catalog = tmp_path / "catalog.db"
    assert run(catalog, "ingest", str(tmp_path / "coll"), "--quiet").exit_code == 0
    read = run(catalog, "ocr", "--json")
    assert read.exit_code == 0 and json.loads(read.stdout)["pages"] == 2
    (hit,) = json.loads(run(catalog, "search", "风洞", "--json").stdout)["hits"]
    assert (hit["text_source"], hit["page"]) == ("ocr", 2)
    app = create_app(catalog_settings(catalog))
    app.testing = True
    client = app.test_client()
    acc = hit["accession"]
    canvases = manifest(client, acc)["items"]
    assert [(c["width"], c["height"]) for c in canvases] == [(900, 1200), (800, 1100)]
    service = canvases[1]["items"][0]["items"][0]["body"]["service"][0]["id"]
    assert service.endswith("~f2")
    info = json.loads(client.get(local(service) + "/info.json").data)
    assert (info["width"], info["height"]) == (800, 1100)
    r = client.get(local(service) + "/full/max/0/default.png")
    assert r.status_code == 200
    frame = Image.open(io.BytesIO(r.data))
    assert frame.size == (800, 1100)
    assert client.get(local(service)[:-1] + "3/info.json").status_code == 404  # no frame 3
    page = html(client, f"/items/{acc}?q=风洞")
    assert f"/iiif/{service.rsplit('/', 1)[1]}/full/800,/0/default.jpg" in page
    assert 'data-page="2"' in page and "超音速<mark>风洞</mark>的设计图纸已经完成" in page
    answer = search_answer(client, acc, "风洞")
    assert answer["items"][0]["target"].startswith(canvases[1]["id"] + "#xywh=")


def test_a_restricted_items_machine_read_text_appears_nowhere(ocr_site):
    client, catalog, recs = ocr_site
    secret = recs["secret_1965.jpg"]["accession"]
    for url in (f"/items/{secret}", f"/items/{secret}?q={SECRET_WORD}",
                f"/items/{secret}/manifest.json", f"/items/{secret}/search?q={SECRET_WORD}"):
        r = client.get(url)
        assert r.status_code == 404, url
        assert SECRET_LINE not in r.get_data(as_text=True)
    for url in (f"/search?q={SECRET_WORD}", f"/api/search?q={SECRET_WORD}", "/exhibits",
                f"/items/{recs['letter_1956.jpg']['accession']}/search?q={SECRET_WORD}"):
        r = client.get(url)
        assert SECRET_LINE not in r.get_data(as_text=True), url
    assert json.loads(client.get(f"/api/search?q={SECRET_WORD}").data)["total"] == 0
    cli = run(catalog, "search", SECRET_WORD, "--json")
    assert json.loads(cli.stdout)["total"] == 0 and SECRET_LINE not in cli.stdout


# -- search ------------------------------------------------------------------------------------

def cli(catalog: Path, engine: str, *args: str) -> str:
    from click.testing import CliRunner

    from archive.cli import main
    r = CliRunner().invoke(main, ["--catalog", catalog_url(catalog), *args],
                           env={"ARCHIVE_SEARCH_ENGINE": engine, **catalog_env(catalog)},
                           catch_exceptions=False)
    assert r.exit_code == 0, r.output
    return r.stdout


def cli_search(catalog: Path, engine: str, *query: str) -> list[dict[str, Any]]:
    return json.loads(cli(catalog, engine, "search", *query, "--json"))["hits"]


@pytest.mark.parametrize("engine", ENGINES)
def test_a_word_only_in_a_scan_is_found_and_the_hit_says_so(ocr_site, engine):
    _, catalog, recs = ocr_site
    letter = recs["letter_1956.jpg"]["accession"]
    cli(catalog, engine, "reindex", "--quiet")
    (hit,) = cli_search(catalog, engine, "导弹")  # only in page 2's scan, over a line break
    assert (hit["accession"], hit["text_source"], hit["page"]) == (letter, "ocr", 2)
    assert hit["snippet"] == "关于建立力学研究所和<mark>导弹</mark>研究的意见如下。"
    (hit,) = cli_search(catalog, engine, "導彈", "研究")  # traditional, two words
    assert (hit["text_source"], hit["page"]) == ("ocr", 2)
    # The archivist's text first: the title holds 陈赓, and so does page 1's scan.
    (hit,) = cli_search(catalog, engine, "陈赓")
    assert (hit["snippet"], hit["text_source"], hit["page"]) == \
        ("致<mark>陈赓</mark>信", "catalog", 1)
    (hit,) = cli_search(catalog, engine, "笔记")
    assert (hit["text_source"], hit["page"]) == ("catalog", None)
    (hit,) = cli_search(catalog, engine, f"accession:{recs['notes_1958.pdf']['accession']}")
    assert (hit["snippet"], hit["text_source"], hit["page"]) == ("", None, None)
    pdf = cli_search(catalog, engine, "轨道")
    assert [(h["accession"], h["text_source"], h["page"]) for h in pdf] == \
        [(recs["notes_1958.pdf"]["accession"], "ocr", 1)]


def test_the_site_labels_machine_read_hits_and_opens_their_page(ocr_site):
    client, catalog, recs = ocr_site
    letter = recs["letter_1956.jpg"]["accession"]
    (hit,) = json.loads(client.get("/api/search?q=导弹").data)["hits"]
    assert (hit["text_source"], hit["page"]) == ("ocr", 2)
    page = html(client, "/search?q=导弹")
    assert "机器识别 machine-read" in page
    href = f"/items/{letter}?q=%E5%AF%BC%E5%BC%B9&amp;page=2#pages"
    assert f'<a class="title" href="{href}">' in page
    assert "machine-read" not in html(client, "/search?q=陈赓")
    text = run(catalog, "search", "导弹").stdout
    assert "[machine-read, page 2] 关于建立力学研究所和导弹研究的意见如下。" in text


# -- the item page -------------------------------------------------------------------------------

def html(client, url: str) -> str:  # type: ignore[no-untyped-def]
    r = client.get(url)
    assert r.status_code == 200, url
    return r.get_data(as_text=True)


def outlined(page: str) -> list[tuple[str, str, str, str]]:
    return re.findall(r'<rect class="line matched" data-line="\d+" x="(\d+)" y="(\d+)" '
                      r'width="(\d+)" height="(\d+)"/>', page)


def test_a_query_opens_the_page_it_was_found_on_with_its_lines_outlined(ocr_site):
    client, _, recs = ocr_site
    acc = recs["letter_1956.jpg"]["accession"]
    page = html(client, f"/items/{acc}?q=导弹")
    assert 'data-page="2"' in page and 'aria-current="page">2<' in page
    # Both lines of the word split over a line break, in the OCR's pixels (the SVG's box).
    assert outlined(page) == [("80", "100", "900", "60"), ("80", "180", "800", "60")]
    assert 'viewBox="0 0 1200 1600"' in page
    assert "机器识别文字 Machine-read text" in page
    assert "found in the machine-read text of page 2" in page
    assert '<li class="matched" data-line="0">关于建立力学研究所和导</li>' in page
    image = re.search(r'<img src="([^"]+)" data-full="([^"]+)"', page)
    assert image is not None
    for url in image.groups():
        assert client.get(url).status_code == 200, url
    # Traditional characters, a word within one line: marked in the text.
    page = html(client, f"/items/{acc}?q=力學")
    assert "关于建立<mark>力学</mark>研究所和导" in page and len(outlined(page)) == 1


def test_page_picks_a_page_and_the_text_is_labelled_as_machine_read(ocr_site):
    client, _, recs = ocr_site
    acc = recs["letter_1956.jpg"]["accession"]
    first = html(client, f"/items/{acc}")
    assert 'data-page="1"' in first and "敬爱的陈赓同志：" in first and outlined(first) == []
    assert "read by machine" in first
    page = html(client, f"/items/{acc}?q=导弹&page=1")
    assert 'data-page="1"' in page and outlined(page) == []
    assert html(client, f"/items/{acc}?page=99").count('data-page="1"') == 1  # no such page
    assert "not found in the machine-read text" in html(client, f"/items/{acc}?q=卫星")
    assert 'data-page="1"' in html(client, f'/items/{acc}?q="unbalanced')  # never an error


def test_a_pdf_page_is_shown_as_its_rendered_image(ocr_site):
    client, _, recs = ocr_site
    pdf = recs["notes_1958.pdf"]
    page = html(client, f"/items/{pdf['accession']}?q=轨道")
    assert outlined(page) == [("100", "100", "400", "50")]
    src = re.search(r'<img src="([^"]+)"', page)
    assert src is not None and "~p1/full/850,/0/default.jpg" in src.group(1)
    assert client.get(src.group(1)).status_code == 200
    # Page 2 was neither rendered nor read: the viewer does not offer it.
    assert 'aria-current="page"' not in page and 'data-page="1"' in page


# -- in a real browser -------------------------------------------------------------------------

SCAN = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "ocr" / "cnocr" / \
    "multi-line_cn1.png"  # 300 × 187, seven printed lines (corpus SOURCES.csv)
SCAN_LINES = ["网络支付并无本质的区别，因为", "每一个手机号码和邮件地址背后",
              "都会对应着一个账户--这个账", "户可以是信用卡账户、借记卡账",
              "户，也包括邮局汇款、手机代", "收、电话代收、预付费卡和点卡", "等多种形式。"]


@pytest.fixture
def scan_site(tmp_path):  # type: ignore[no-untyped-def]
    """A letter whose only page is a real scan of Chinese text, read by the OCR (its lines as
    rows), and served over HTTP."""
    import shutil

    from web.app import create_app
    if not SCAN.is_file():
        pytest.skip("the shared corpus is not present")
    folder = tmp_path / "letters"
    folder.mkdir()
    shutil.copy(SCAN, folder / "payment_letter_1958.png")
    manifest = write_manifest(tmp_path / "m.csv", [["path", "title", "type"],
                                                   ["payment_letter_1958.png", "一封信", "letter"]])
    catalog = tmp_path / "catalog.db"
    assert run(catalog, "ingest", str(folder), "--manifest", str(manifest), "--quiet") \
        .exit_code == 0
    add_ocr(catalog, "payment_letter_1958.png", 1, (300, 187),
            [(text, (3, 2 + round(26.4 * i), 292, 24)) for i, text in enumerate(SCAN_LINES)])
    assert run(catalog, "reindex", "--quiet").exit_code == 0
    app = create_app(catalog_settings(catalog))
    with served(app) as base:
        yield base


def test_in_a_browser_a_word_only_in_the_scan_is_found_and_outlined(scan_site, tmp_path):
    from tests.sites import CHROMIUM, chromium
    from tests.test_browser import shoot
    if CHROMIUM is None:
        pytest.skip("Chromium is not installed")
    with chromium() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="zh-CN")
        page.goto(scan_site + "/search?q=邮局汇款")
        hit = page.locator("ol.hits li").first
        assert "machine-read" in hit.locator(".machine-tag").inner_text()
        assert hit.locator("mark").inner_text() == "邮局汇款"
        hit.locator("a.title").click()
        page.wait_for_selector("svg.outlines rect.matched")
        image = page.locator(".page-image img").bounding_box()
        box = page.locator("svg.outlines rect.matched").bounding_box()
        assert image is not None and box is not None
        scale = image["width"] / 300  # the outline sits on the fifth line, wherever the image is
        assert abs(box["x"] - (image["x"] + 3 * scale)) < 3  # (the stroke adds a pixel a side)
        assert abs(box["y"] - (image["y"] + (2 + 26.4 * 4) * scale)) < 3
        assert abs(box["height"] - 24 * scale) < 3
        assert page.locator(".ocr-lines li.matched").inner_text() == SCAN_LINES[4]
        assert page.locator(".machine-text h3").inner_text() == "机器识别文字 Machine-read text"
        assert page.locator("#ocr-text").inner_text().split("\n") == SCAN_LINES
        shoot(page, tmp_path, "item-ocr")


def test_a_restricted_scans_text_is_for_those_who_may_see_the_item(ocr_site):
    """Signed in: a researcher without a grant sees the restricted letter's text nowhere; staff
    see its page outlined and its Content Search answers (archive.access.can_see decides)."""
    from tests.test_site_access import PASSWORD, sign_in
    client, catalog, recs = ocr_site
    for name, role in (("ben", "researcher"), ("sue", "staff")):
        r = run_input(catalog, PASSWORD + "\n", "users", "add", name, "--role", role,
                      "--password-stdin")
        assert r.exit_code == 0, r.output
    secret = recs["secret_1965.jpg"]["accession"]
    urls = (f"/items/{secret}?q={SECRET_WORD}", f"/items/{secret}/manifest.json",
            f"/items/{secret}/search?q={SECRET_WORD}")
    ben = client.application.test_client()
    assert sign_in(ben, "ben").status_code == 302
    for url in urls:
        r = ben.get(url)
        assert r.status_code == 404 and SECRET_LINE not in r.get_data(as_text=True), url
    sue = client.application.test_client()
    assert sign_in(sue, "sue").status_code == 302
    page = sue.get(urls[0]).get_data(as_text=True)
    assert len(outlined(page)) == 1 and f"<mark>{SECRET_WORD}</mark>的设计" in page
    (line,) = json.loads(sue.get(urls[2]).data)["items"]
    assert line["body"]["value"] == SECRET_LINE


def run_input(catalog: Path, text: str, *args: str):  # type: ignore[no-untyped-def]
    from click.testing import CliRunner

    from archive.cli import main
    return CliRunner().invoke(main, ["--catalog", catalog_url(catalog), *args], input=text,
                              env=catalog_env(catalog), catch_exceptions=False)


def test_end_to_end_archive_ocr_makes_a_scans_words_findable_and_outlined(tmp_path):
    """The real engine (`archive ocr`), then search and the item page: nothing written by hand."""
    import shutil

    from web.app import create_app
    if not SCAN.is_file():
        pytest.skip("the shared corpus is not present")
    folder = tmp_path / "信件"
    folder.mkdir()
    shutil.copy(SCAN, folder / "letter.png")
    catalog = tmp_path / "catalog.db"
    assert run(catalog, "ingest", str(folder), "--type", "letter", "--quiet").exit_code == 0
    assert run(catalog, "search", "邮局汇款", "--json").stdout.count('"accession"') == 0
    assert run(catalog, "ocr", "--quiet").exit_code == 0
    (hit,) = json.loads(run(catalog, "search", "邮局汇款", "--json").stdout)["hits"]
    assert (hit["text_source"], hit["page"]) == ("ocr", 1)
    assert "<mark>邮局汇款</mark>" in hit["snippet"]
    app = create_app(catalog_settings(catalog))
    app.testing = True
    page = html(app.test_client(), f"/items/{hit['accession']}?q=邮局汇款")
    assert len(outlined(page)) == 1 and "<mark>邮局汇款</mark>" in page
