"""The researchers' site through Flask's test client: pages, API, media, and the public-only
rule (restricted and closed items do not exist here), path traversal included."""
from __future__ import annotations

import json
import os
import re
import shutil
from pathlib import Path

import pytest
from tests.conftest import run


@pytest.fixture
def client(demo_site):
    return demo_site[0].test_client()


def accession(catalog: Path, path_end: str) -> str:
    for line in run(catalog, "export").stdout.splitlines():
        record = json.loads(line)
        if record["path"].endswith(path_end):
            return record["accession"]
    raise AssertionError(path_end)


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def test_search_page_with_snippets_and_facets(client):
    r = client.get("/search?q=导弹")
    page = text(r)
    assert r.status_code == 200 and "<mark>导弹</mark>" in page
    assert 'data-facet="type"' in page and "/search?q=%E5%AF%BC%E5%BC%B9&amp;type=audio" in page
    narrowed = text(client.get("/search?q=导弹&type=audio"))
    assert "共 <strong>1</strong> 条结果" in narrowed
    assert "▶ 00:00" in narrowed  # the moment in the interview, linked with ?t=


def test_home_lists_everything_public(client, demo_site):
    page = text(client.get("/"))
    assert "共 <strong>15</strong> 条结果" in page  # 17 items, less the restricted and closed
    assert "绝密" not in page and "封存" not in page


def test_bad_query_is_a_page_not_a_traceback(client):
    r = client.get('/search?q="导弹')
    assert r.status_code == 400 and "unbalanced quote" in text(r)
    api = client.get("/api/search?q=colour:red")
    assert api.status_code == 400 and "unknown field" in api.get_json()["error"]


def test_api_matches_the_cli(client, demo_site):
    _, catalog, _ = demo_site
    api = client.get("/api/search?q=卫星").get_json()
    cli = json.loads(run(catalog, "search", "卫星", "--json").stdout)
    assert api == cli
    faceted = client.get("/api/search?q=卫星&facets=1").get_json()
    assert faceted["facets"]["type"] == {"audio": 1, "letter": 1}


def test_scientist_page(client):
    page = text(client.get("/scientists/钱学森"))
    assert "Tsien Hsue-shen" in page and "1911–2009" in page
    # 9 items are his; the restricted manuscript, letter and the closed photo are not counted
    assert "馆藏 Holdings · 6" in page
    assert "<strong>0.3</strong> 分钟" in page  # 20 s of interview
    assert 'class="bar h10"' in page
    r = client.get("/scientists/Qian Xuesen")
    assert r.status_code == 301 and r.headers["Location"].endswith(
        "/scientists/%E9%92%B1%E5%AD%A6%E6%A3%AE")
    assert client.get("/scientists/Nobody").status_code == 404


def test_item_page_player_and_transcript(client, demo_site):
    _, catalog, _ = demo_site
    acc = accession(catalog, "访谈_1990_第一部分.wav")
    page = text(client.get(f"/items/{acc}?t=6"))
    assert '<audio id="player"' in page and 'data-start="6.0"' in page
    assert "?as=access-audio" in page and "?as=waveform" in page
    assert page.count('class="cue"') == 3 and 'data-time="6.0"' in page
    letter = text(client.get(f"/items/{accession(catalog, '致陈赓_1956_02_17.jpg')}"))
    assert letter.count('class="zoomable"') == 2 and "陈赓同志" in letter


def test_media_and_derivatives(client, demo_site):
    _, catalog, coll = demo_site
    acc = accession(catalog, "访谈_1990_第一部分.wav")
    path = "钱学森/录音/访谈_1990_第一部分.wav"
    full = client.get(f"/items/{acc}/files/{path}")
    assert full.status_code == 200 and full.mimetype == "audio/wav"
    assert full.data == (coll / path).read_bytes()
    part = client.get(f"/items/{acc}/files/{path}", headers={"Range": "bytes=0-99"})
    assert part.status_code == 206 and len(part.data) == 100  # players can seek
    assert client.get(f"/items/{acc}/files/{path}?as=waveform").mimetype == "image/png"
    assert client.get(f"/items/{acc}/files/{path}?as=access-audio").status_code == 200
    assert client.get(f"/items/{acc}/files/{path}?as=nonsense").status_code == 404


def test_restricted_and_closed_do_not_exist(client, demo_site):
    _, catalog, _ = demo_site
    for name in ("restricted_letter_1965.jpg", "closed_photo_1966.jpg"):
        acc = accession(catalog, name)
        assert client.get(f"/items/{acc}").status_code == 404
        folder = "信件" if "letter" in name else "照片"
        assert client.get(f"/items/{acc}/files/钱学森/{folder}/{name}").status_code == 404
        assert client.get(f"/items/{acc}/files/钱学森/{folder}/{name}?as=thumbnail").status_code \
            == 404
        assert client.get(f"/api/search?q=accession:{acc}").get_json()["total"] == 0
    api = client.get("/api/search?q=绝密&facets=1").get_json()
    assert api == {"total": 0, "hits": [], "facets": {"type": {}, "scientist": {},
                                                          "decade": {}}}
    exhibit = text(client.get("/exhibits/liangdan"))
    assert "绝密" not in exhibit and "说明" in exhibit


@pytest.mark.parametrize("evil", [
    "..%2F..%2F..%2F..%2Fetc%2Fpasswd", "%2e%2e/%2e%2e/etc/passwd", "/etc/passwd",
    "钱学森/../../../../../etc/passwd", "钱学森/信件/../../manifest.csv",
])
def test_path_traversal_is_impossible(client, demo_site, evil):
    _, catalog, _ = demo_site
    acc = accession(catalog, "致陈赓_1956_02_17.jpg")
    r = client.get(f"/items/{acc}/files/{evil}", follow_redirects=True)
    assert r.status_code == 404 and b"root:" not in r.data


def test_another_items_file_is_not_served(client, demo_site):
    _, catalog, _ = demo_site
    acc = accession(catalog, "致陈赓_1956_02_17.jpg")
    other = "钱学森/录音/访谈_1990_第一部分.wav"
    assert client.get(f"/items/{acc}/files/{other}").status_code == 404


def test_a_link_planted_after_ingest_is_not_followed(client, demo_site, tmp_path):
    _, catalog, coll = demo_site
    acc = accession(catalog, "力学所_1956.jpg")
    photo = coll / "钱学森" / "照片" / "力学所_1956.jpg"
    saved = tmp_path / "saved.jpg"
    shutil.move(photo, saved)
    secret = tmp_path / "secret.txt"
    secret.write_text("not for the public")
    os.symlink(secret, photo)
    try:
        r = client.get(f"/items/{acc}/files/钱学森/照片/力学所_1956.jpg")
        assert r.status_code == 404 and b"not for the public" not in r.data
    finally:
        photo.unlink()
        shutil.move(saved, photo)


def test_pages_are_light_and_self_contained(client, demo_site):
    _, catalog, _ = demo_site
    acc = accession(catalog, "访谈_1990_第一部分.wav")
    for url in ("/", "/search?q=导弹", "/scientists/钱学森", f"/items/{acc}",
                "/exhibits/liangdan", "/exhibits/", "/scientists/"):
        r = client.get(url)
        page = text(r)
        assert r.status_code == 200, url
        assert len(r.data) < 60_000, url
        assert "default-src 'self'" in r.headers["Content-Security-Policy"]
        for ref in re.findall(r'(?:src|href)="([^"]+)"', page):
            assert not ref.startswith(("http:", "https:", "//")), (url, ref)
        assert "<script>" not in page and "onerror" not in page and "onclick" not in page
    css = client.get("/static/site.css")
    assert css.status_code == 200 and "@import" not in text(css) and "url(" not in text(css)


def test_unknown_pages_are_404(client):
    assert client.get("/items/NOPE-1").status_code == 404
    assert client.get("/exhibits/nope").status_code == 404
    assert client.get("/nothing/here").status_code == 404
