"""IIIF on the site (#17): every public item's Presentation 3 manifest and the exhibit's at its
own id, checked with iiif-prezi3's models and every resource URL in them fetched; the Image API
over the demo's real scans at several regions and sizes (pixel dimensions checked), its cache,
its refusals (400 with a message), restricted and closed images refused on every IIIF URL, and
CORS headers on IIIF responses only."""
from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from PIL import Image

from archive.errors import ImageRequestError
from archive.standards import iiif_image
from archive.standards.iiif import image_id
from tests.conftest import run
from tests.catalogs import catalog_settings

HOST = "http://localhost"


@pytest.fixture
def client(demo_site):  # type: ignore[no-untyped-def]
    return demo_site[0].test_client()


def records(catalog: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in run(catalog, "export").stdout.splitlines()]


def record(catalog: Path, path_end: str) -> dict[str, Any]:
    return next(r for r in records(catalog) if r["path"].endswith(path_end))


def local(url: str) -> str:
    assert url.startswith(HOST + "/"), url
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def resource_urls(node: Any) -> set[str]:
    """Every resource a viewer would fetch: bodies, thumbnails, renderings, services
    (their info.json); not canvas, page or annotation ids, which only name things."""
    found: set[str] = set()
    if isinstance(node, dict):
        kind = node.get("type")
        if kind in ("Image", "Sound", "Video", "Text") and "id" in node:
            found.add(node["id"])
        if kind == "ImageService3":
            found.add(node["id"] + "/info.json")
        for value in node.values():
            found |= resource_urls(value)
    elif isinstance(node, list):
        for value in node:
            found |= resource_urls(value)
    return found


def manifest(client, url: str) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    from iiif_prezi3 import Manifest
    r = client.get(url)
    assert r.status_code == 200, url
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert r.mimetype == "application/ld+json"
    data = json.loads(r.data)
    Manifest(**data)  # the library's models check the Presentation 3 rules
    assert data["id"] == HOST + url
    return data


def canvases(data: dict[str, Any]) -> list[dict[str, Any]]:
    return data["items"]


def body(canvas: dict[str, Any]) -> dict[str, Any]:
    return canvas["items"][0]["items"][0]["body"]


def pixels(response) -> tuple[int, int]:  # type: ignore[no-untyped-def]
    assert response.status_code == 200, response.data[:200]
    with Image.open(io.BytesIO(response.data)) as im:
        return im.size


# -- manifests ---------------------------------------------------------------------------------

def test_every_public_item_has_a_manifest_whose_every_url_resolves(client, demo_site):
    _, catalog, _ = demo_site
    public = sorted({r["accession"] for r in records(catalog) if r["access"] == "open"})
    assert len(public) >= 10
    fetched = 0
    for acc in public:
        data = manifest(client, f"/items/{acc}/manifest.json")
        for url in resource_urls(data):
            r = client.get(local(url))
            assert r.status_code == 200, f"{acc}: {url} answers {r.status_code}"
            fetched += 1
    assert fetched > 30


def test_a_letters_page_scans_are_image_canvases_with_a_service(client, demo_site):
    _, catalog, _ = demo_site
    letter = record(catalog, "致陈赓_1956_02_17.jpg")
    data = manifest(client, f"/items/{letter['accession']}/manifest.json")
    assert data["label"] == {"zh": ["钱学森致陈赓信（关于建立力学研究所）"]}
    pages = canvases(data)
    assert len(pages) == 2 and [(c["width"], c["height"]) for c in pages] == [(900, 1200)] * 2
    service = body(pages[0])["service"][0]
    assert service["type"] == "ImageService3" and service["profile"] == "level1"
    assert service["id"] == f"{HOST}/iiif/{image_id(letter['accession'], letter['sha256'])}"


def test_a_recording_is_a_time_based_canvas_with_its_transcript_cues(client, demo_site):
    _, catalog, _ = demo_site
    acc = record(catalog, "访谈_1990_第一部分.wav")["accession"]
    (canvas,) = canvases(manifest(client, f"/items/{acc}/manifest.json"))
    assert canvas["duration"] == pytest.approx(20.0, abs=0.1) and "width" not in canvas
    sound = body(canvas)
    assert sound["type"] == "Sound" and sound["id"].endswith("?as=access-audio")
    cues = canvas["annotations"][0]["items"]
    assert [c["motivation"] for c in cues] == ["supplementing"] * 3
    assert [c["target"].split("#")[1] for c in cues] == ["t=0,6", "t=6,13", "t=13,20"]
    assert cues[0]["body"] == {"type": "TextualBody", "value": "我们今天谈谈五十年代的导弹研究。",
                               "format": "text/plain", "language": "zh"}
    assert canvas["rendering"][0]["format"] == "application/x-subrip"


def test_a_video_is_a_time_based_canvas_with_its_size(client, demo_site):
    _, catalog, _ = demo_site
    acc = record(catalog, "lecture_1964.mp4")["accession"]
    (canvas,) = canvases(manifest(client, f"/items/{acc}/manifest.json"))
    assert canvas["duration"] == pytest.approx(5.0, abs=0.2)
    assert (canvas["width"], canvas["height"]) == (320, 240)
    assert body(canvas)["type"] == "Video"


def test_the_exhibit_manifest_is_served_at_its_id_without_restricted_objects(client, demo_site):
    _, catalog, _ = demo_site
    data = manifest(client, "/exhibits/liangdan/manifest.json")
    secret = record(catalog, "restricted_letter_1965.jpg")["accession"]
    assert secret not in json.dumps(data)
    assert data["items"]
    for url in resource_urls(data):
        assert client.get(local(url)).status_code == 200, url
    assert client.get("/exhibits/nothing-here/manifest.json").status_code == 404


# -- the Image API -----------------------------------------------------------------------------

@pytest.fixture
def scan(demo_site) -> str:  # type: ignore[no-untyped-def]
    letter = record(demo_site[1], "致陈赓_1956_02_17.jpg")  # 900 × 1200
    return f"/iiif/{image_id(letter['accession'], letter['sha256'])}"


def test_info_json_describes_the_scan(client, scan):
    r = client.get(f"{scan}/info.json")
    assert r.status_code == 200 and r.headers["Access-Control-Allow-Origin"] == "*"
    info = r.get_json()
    assert (info["id"], info["type"], info["profile"]) == (HOST + scan, "ImageService3",
                                                           "level1")
    assert (info["width"], info["height"]) == (900, 1200)
    assert info["maxWidth"] == iiif_image.MAX_WIDTH and info["maxArea"] == iiif_image.MAX_AREA
    assert info["tiles"][0]["width"] == 512 and 1 in info["tiles"][0]["scaleFactors"]
    base = client.get(scan)
    assert base.status_code == 303 and base.headers["Location"].endswith(f"{scan}/info.json")


@pytest.mark.parametrize("request_path, size", [
    ("full/max/0/default.jpg", (900, 1200)),
    ("full/300,/0/default.jpg", (300, 400)),
    ("full/,600/0/color.png", (450, 600)),
    ("full/!200,200/0/default.jpg", (150, 200)),
    ("full/pct:25/0/default.jpg", (225, 300)),
    ("square/200,200/0/default.jpg", (200, 200)),
    ("0,0,512,512/max/0/default.jpg", (512, 512)),
    ("512,1024,512,512/max/0/default.jpg", (388, 176)),  # an edge tile, clipped
    ("512,512,512,512/194,/0/default.jpg", (194, 256)),  # 388 × 512 at half size
    ("pct:50,50,50,50/max/0/default.jpg", (450, 600)),
    ("0,0,900,600/300,200/90/gray.jpg", (200, 300)),  # turned clockwise
    ("full/90,120/180/default.png", (90, 120)),
])
def test_tiles_of_a_real_scan_have_the_sizes_asked(client, scan, request_path, size):
    r = client.get(f"{scan}/{request_path}")
    assert pixels(r) == size
    assert r.headers["Access-Control-Allow-Origin"] == "*"
    assert r.mimetype == ("image/png" if request_path.endswith(".png") else "image/jpeg")


def test_a_tile_shows_the_region_asked(client, scan):
    """The top-left tile at full size is the same pixels as the top-left of the whole image."""
    whole = Image.open(io.BytesIO(client.get(f"{scan}/full/max/0/default.jpg").data))
    tile = Image.open(io.BytesIO(client.get(f"{scan}/0,0,256,256/max/0/default.jpg").data))
    a, b = whole.crop((0, 0, 256, 256)).convert("L"), tile.convert("L")
    diff = sum(abs(x - y) for x, y in zip(a.getdata(), b.getdata(), strict=True)) / (256 * 256)
    assert diff < 4  # JPEG noise only
    gray = client.get(f"{scan}/full/100,/0/gray.png").data
    assert Image.open(io.BytesIO(gray)).mode == "L"


def test_a_rotated_photo_is_served_as_it_is_seen(client, demo_site):
    photo = record(demo_site[1], "weather_station_1957.jpg")  # 800 × 600, EXIF orientation 6
    ident = f"/iiif/{image_id(photo['accession'], photo['sha256'])}"
    info = client.get(f"{ident}/info.json").get_json()
    assert (info["width"], info["height"]) == (600, 800)
    assert pixels(client.get(f"{ident}/full/max/0/default.jpg")) == (600, 800)
    assert pixels(client.get(f"{ident}/0,0,600,400/300,/0/default.jpg")) == (300, 200)


def test_tiles_are_cached_on_disk(client, scan, demo_site):
    _, catalog, _ = demo_site
    url = f"{scan}/100,100,300,300/150,/0/default.jpg"
    first = client.get(url).data
    cache = Path(str(catalog) + ".derivatives") / "iiif"
    sha = record(catalog, "致陈赓_1956_02_17.jpg")["sha256"]
    kept = [p for p in (cache / sha[:2]).glob(f"{sha}-*.jpg") if p.read_bytes() == first]
    assert len(kept) == 1
    kept[0].write_bytes(first + b"cached")  # the next answer comes from the file, not Pillow
    assert client.get(url).data == first + b"cached"
    kept[0].write_bytes(first)


@pytest.mark.parametrize("request_path, says", [
    ("0,0,0,0/max/0/default.jpg", "empty"),
    ("2000,0,10,10/max/0/default.jpg", "outside"),
    ("left/max/0/default.jpg", "region"),
    ("full/1000,/0/default.jpg", "larger than the region"),
    ("full/^max/0/default.jpg", "upscaling"),
    ("full/big/0/default.jpg", "size"),
    ("full/max/!0/default.jpg", "mirroring"),
    ("full/max/45/default.jpg", "rotation"),
    ("full/max/0/bitonal.jpg", "quality"),
    ("full/max/0/default.gif", "format"),
    ("full/max/0/default", "format"),
])
def test_bad_parameters_are_refused_with_a_message(client, scan, request_path, says):
    r = client.get(f"{scan}/{request_path}")
    assert r.status_code == 400 and says in r.get_data(as_text=True)
    assert "Traceback" not in r.get_data(as_text=True)
    assert r.headers["Access-Control-Allow-Origin"] == "*"


def test_restricted_and_closed_images_are_refused_on_every_iiif_url(client, demo_site):
    _, catalog, _ = demo_site
    for name in ("restricted_letter_1965.jpg", "closed_photo_1966.jpg"):
        secret = record(catalog, name)
        ident = f"/iiif/{image_id(secret['accession'], secret['sha256'])}"
        for url in (ident, f"{ident}/info.json", f"{ident}/full/max/0/default.jpg",
                    f"{ident}/0,0,100,100/50,/0/gray.png",
                    f"/items/{secret['accession']}/manifest.json"):
            r = client.get(url)
            assert r.status_code == 404, url
            assert "Access-Control-Allow-Origin" not in r.headers
    # Another item's image under a public item's number is not reachable either.
    letter = record(catalog, "致陈赓_1956_02_17.jpg")
    closed = record(catalog, "closed_photo_1966.jpg")
    assert client.get(f"/iiif/{image_id(letter['accession'], closed['sha256'])}/info.json") \
        .status_code == 404
    for junk in ("nothing", "QXS-L-00002~zz", "../../etc/passwd"):
        assert client.get(f"/iiif/{junk}/info.json").status_code == 404


def test_cors_is_only_on_iiif_responses(client, demo_site):
    _, catalog, _ = demo_site
    acc = record(catalog, "致陈赓_1956_02_17.jpg")["accession"]
    for url in ("/", f"/items/{acc}", "/exhibits/liangdan", "/api/search?q=导弹"):
        assert "Access-Control-Allow-Origin" not in client.get(url).headers, url


# -- the request parser, without a site ----------------------------------------------------------

def test_regions_and_sizes_follow_the_spec() -> None:
    assert iiif_image.region("full", 1000, 800) == (0, 0, 1000, 800)
    assert iiif_image.region("square", 1000, 800) == (100, 0, 800, 800)
    assert iiif_image.region("square", 800, 1000) == (0, 100, 800, 800)
    assert iiif_image.region("10,20,300,5000", 1000, 800) == (10, 20, 300, 780)
    assert iiif_image.region("pct:50,50,50,50", 1000, 800) == (500, 400, 500, 400)
    assert iiif_image.region("pct:0.5,0,10.5,100", 1000, 800) == (5, 0, 105, 800)
    assert iiif_image.size("max", 3000, 1000) == (3000, 1000)
    assert iiif_image.size("150,", 300, 200) == (150, 100)
    assert iiif_image.size(",100", 300, 200) == (150, 100)
    assert iiif_image.size("!100,100", 300, 200) == (100, 67)
    assert iiif_image.size("pct:10", 300, 200) == (30, 20)
    assert iiif_image.rotation("0") == 0 and iiif_image.rotation("270") == 270


def test_huge_images_are_served_within_the_limits() -> None:
    w, h = iiif_image.size("max", 20000, 15000)
    assert w <= iiif_image.MAX_WIDTH and h <= iiif_image.MAX_HEIGHT
    assert w * h <= iiif_image.MAX_AREA and abs(w / h - 4 / 3) < 0.01
    with pytest.raises(ImageRequestError, match="largest image served"):
        iiif_image.size("5000,", 20000, 15000)
    with pytest.raises(ImageRequestError, match="largest image served"):
        iiif_image.size("3900,3900", 20000, 15000)
    info = iiif_image.info("https://x.example/iiif/a", 20000, 15000)
    assert info["sizes"] == [{"width": w, "height": h}]


def test_the_same_request_has_the_same_cache_name() -> None:
    a = iiif_image.plan("full", "max", "0", "default.jpg", 900, 1200)
    b = iiif_image.plan("0,0,900,1200", "900,", "360", "default.jpg", 900, 1200)
    c = iiif_image.plan("full", "max", "0", "gray.jpg", 900, 1200)
    assert a.cache_name("ab") == b.cache_name("ab") != c.cache_name("ab")


# -- a withdrawn item, a missing scan and a PDF, in a catalog of their own ----------------------

@pytest.fixture
def small_site(tmp_path):  # type: ignore[no-untyped-def]
    from benchmarks.generators.samples import make_jpeg
    from web.app import create_app
    folder = tmp_path / "letters"
    make_jpeg(folder / "letter_1956.jpg", (600, 800))
    make_jpeg(folder / "letter_1956_p2.jpg", (600, 800))  # the letter's second page
    make_jpeg(folder / "withdrawn_1957.jpg", (600, 800))
    catalog = tmp_path / "catalog.db"
    assert run(catalog, "ingest", str(folder), "--quiet").exit_code == 0
    app = create_app(catalog_settings(catalog))
    app.testing = True
    return app.test_client(), catalog, folder


def test_withdrawn_items_and_missing_scans_are_not_served(small_site):
    client, catalog, folder = small_site
    by_path = {r["path"]: r for r in records(catalog)}
    gone = by_path["withdrawn_1957.jpg"]
    ident = f"/iiif/{image_id(gone['accession'], gone['sha256'])}"
    assert client.get(f"{ident}/info.json").status_code == 200  # public until withdrawn
    assert run(catalog, "withdraw", gone["accession"], "--reason", "donor's request") \
        .exit_code == 0
    for url in (f"{ident}/info.json", f"{ident}/full/max/0/default.jpg",
                f"/items/{gone['accession']}/manifest.json"):
        assert client.get(url).status_code == 404, url

    letter = by_path["letter_1956_p2.jpg"]
    assert letter["accession"] == by_path["letter_1956.jpg"]["accession"]
    (folder / "letter_1956_p2.jpg").unlink()  # lost after ingest
    data = manifest(client, f"/items/{letter['accession']}/manifest.json")
    assert len(canvases(data)) == 1 and "letter_1956_p2" not in json.dumps(data)
    for url in resource_urls(data):
        assert client.get(local(url)).status_code == 200, url
    lost = f"/iiif/{image_id(letter['accession'], letter['sha256'])}"
    assert client.get(f"{lost}/info.json").status_code == 404


def test_pdf_pages_are_image_canvases_where_a_page_image_was_rendered(small_site):
    from archive.derivatives import page_image_path
    from benchmarks.generators.samples import make_jpeg, make_pdf
    client, catalog, folder = small_site
    make_pdf(folder / "notes_1958.pdf", ["第一页 page one", "第二页 page two"])
    assert run(catalog, "ingest", str(folder), "--quiet").exit_code == 0
    pdf = next(r for r in records(catalog) if r["path"] == "notes_1958.pdf")
    derivatives = Path(str(catalog) + ".derivatives")
    make_jpeg(page_image_path(derivatives, pdf["sha256"], 1), (850, 1100))  # as a renderer would
    data = manifest(client, f"/items/{pdf['accession']}/manifest.json")
    first, second = canvases(data)
    assert (first["width"], first["height"]) == (850, 1100)
    service = body(first)["service"][0]["id"]
    assert service.endswith(image_id(pdf["accession"], pdf["sha256"], 1))
    assert not second.get("items") and second["rendering"][0]["format"] == "application/pdf"
    for url in resource_urls(data):
        assert client.get(local(url)).status_code == 200, url
    assert pixels(client.get(f"{local(service)}/full/425,/0/default.jpg")) == (425, 550)
    unrendered = local(service)[:-1] + "2"
    assert client.get(f"{unrendered}/info.json").status_code == 404
