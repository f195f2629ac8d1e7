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
from tests.catalogs import catalog_settings


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
    # 16 items (the manifest used by the first ingest is never one, #12.1), less the
    # restricted and the closed
    assert "共 <strong>14</strong> 条结果" in page
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


@pytest.mark.parametrize("query, parameter", [
    ("offset=-1", "offset"), ("offset=abc", "offset"), ("offset=1e3", "offset"),
    ("limit=0", "limit"), ("limit=abc", "limit"), ("limit=5000", "limit"),
    ("limit=" + "9" * 5000, "limit"), ("from=abc", "from"), ("to=19x", "to"),
    ("from=1990&to=1950", "from 1990 is after to 1950"), ("facets=maybe", "facets"),
    ("type=nonsense", "type"), ("q=" + "导" * 10_000, "q is 10000 characters long"),
])
def test_api_checks_every_parameter(client, query, parameter):
    """#12.11: a bad parameter is a 400 whose message names it (as the URL spells it), never
    a wrong answer, a CLI option's name, a wrong figure or a traceback."""
    r = client.get("/api/search?q=导弹&" + query if not query.startswith("q=") else
                   "/api/search?" + query)
    assert r.status_code == 400, query
    error = r.get_json()["error"]
    assert error.startswith(parameter) or parameter in error, error
    assert "--" not in error and "is not a year" not in error and "2000" not in error
    if parameter not in ("limit", "facets"):  # the page pages by `page`, always with facets
        page = client.get("/search?" + query.replace("offset", "page"))
        assert page.status_code == 400 and 'class="error"' in text(page), query
        assert parameter.replace("offset", "page") in text(page)


def test_api_offset_pages_through_the_hits(client):
    everything = client.get("/api/search?limit=1000").get_json()
    assert everything["total"] == 14  # the public items (the manifest is none, #12.1)
    last = client.get("/api/search?offset=13&limit=5").get_json()["hits"]
    assert [h["accession"] for h in last] == [everything["hits"][-1]["accession"]]
    assert client.get("/api/search?offset=14").get_json()["hits"] == []
    assert client.get("/search?page=2").status_code == 200


def test_accession_numbers_in_urls_are_not_case_sensitive(client, demo_site):
    """#12.23: the site answers any typing of a number with its catalogued address."""
    _, catalog, _ = demo_site
    acc = accession(catalog, "访谈_1990_第一部分.wav")
    r = client.get(f"/items/{acc.lower()}?t=6")
    assert r.status_code == 301 and r.headers["Location"].endswith(f"/items/{acc}?t=6")
    assert client.get(f"/items/{acc.lower()}", follow_redirects=True).status_code == 200
    path = "钱学森/录音/访谈_1990_第一部分.wav"
    f = client.get(f"/items/ {acc.lower()}/files/{path}?as=waveform", follow_redirects=True)
    assert f.status_code == 200 and f.mimetype == "image/png"
    for name in ("restricted_letter_1965.jpg", "closed_photo_1966.jpg"):  # still not here
        hidden = accession(catalog, name).lower()
        assert client.get(f"/items/{hidden}", follow_redirects=True).status_code == 404


def test_material_types_are_bilingual(client, demo_site):
    """#12.26: types read 信件 Letter, 录音 Audio ... wherever the site names them."""
    _, catalog, _ = demo_site
    page = text(client.get("/search?q=导弹"))
    assert ">录音 Audio</a>" in page and "· 录音 Audio" in page  # the facet and the hit
    item = text(client.get(f"/items/{accession(catalog, '致陈赓_1956_02_17.jpg')}"))
    assert "<dd>信件 Letter</dd>" in item
    assert ">照片 Photograph</a>" in text(client.get("/scientists/钱学森"))
    assert "信件 Letter" in text(client.get("/exhibits/liangdan"))


@pytest.mark.sqlite_only("makes its catalog as a copy of the site's catalog file")
def test_the_site_never_writes(demo_site, tmp_path):
    """#13.4: a request never writes: not even an index behind the catalog is brought up to
    date (that is the writers' job); a request's search service is its own and goes back to
    the site's pool when the request ends, the pool closing them when the site stops."""
    import sqlite3

    from search.searcher import SearchOptions
    from web.app import create_app
    from web.views import context
    _, catalog, _ = demo_site
    copy = tmp_path / "catalog.db"
    with sqlite3.connect(catalog) as src, sqlite3.connect(copy) as dst:
        src.backup(dst)
        # the catalog moves on after the index was built, as when an edit is not indexed yet
        dst.execute("UPDATE items SET title = '新标题', updated_at = datetime('now', '+1 day') "
                    "WHERE id = 1")
        dst.execute("INSERT INTO changes (item_id, kind, at) VALUES (1, 'update', "
                    "datetime('now'))")
    shutil.copytree(str(catalog) + ".index", str(copy) + ".index")
    index = Path(str(copy) + ".index")
    before = {p.name: p.stat().st_mtime_ns for p in index.iterdir()}
    app = create_app(catalog_settings(copy))
    with app.test_client() as c:
        page = c.get("/search?q=导弹")
        assert page.status_code == 200 and "behind the catalog by 1 item(s)" in text(page)
        assert c.get("/api/search?q=卫星").get_json()["total"] == 2
    assert {p.name: p.stat().st_mtime_ns for p in index.iterdir()} == before
    with app.test_request_context("/"):
        service = context.searcher()
        service.search(SearchOptions(query="导弹"))
        assert context.searcher() is service and service._searcher is not None
    pool = app.extensions["archive"].searches
    assert pool._idle[-1] is service  # given back at teardown, for the next request only
    with app.test_request_context("/"):
        assert context.searcher() is service and pool._idle.count(service) == 0
    pool.close()
    assert service._searcher is None and pool._idle == []


def test_a_scientist_link_always_works(tmp_path):
    """#12.7: the site links scientists by preferred name; `/scientists/Zhu%20Guangya` must
    answer even when another scientist's variant folds to the same key."""
    from archive.catalog import Catalog
    from archive.models import Scientist, ScientistName
    from web.app import create_app
    settings = catalog_settings(tmp_path / "c.db")
    catalog = Catalog.open(settings)
    with catalog.session() as s:  # the clash `scientists add` used to make, written as rows
        zhu = Scientist(name="Zhu Guangya", code="ZG")
        zhu.names.append(ScientistName(name="Zhu Guangya", key="zhuguangya", kind="preferred"))
        other = Scientist(name="朱光亚", code="ZGY")
        other.names.append(ScientistName(name="朱光亚", key="朱光亚", kind="preferred"))
        other.names.append(ScientistName(name="Zhu Guangya", key="zhuguangya", kind="variant"))
        s.add_all([zhu, other])
    catalog.close()
    client = create_app(settings).test_client()
    listing = text(client.get("/scientists/"))
    links = re.findall(r'href="(/scientists/[^"]+)"', listing)
    assert "/scientists/Zhu%20Guangya" in links
    for link in links:
        assert client.get(link).status_code == 200, link
    assert "<h1>Zhu Guangya</h1>" in text(client.get("/scientists/Zhu%20Guangya"))


def test_one_duration_everywhere(cli, catalog_path, tmp_path):
    """#12.19: a 0.956 s recording is 00:01 long in the CLI, on its item page and in the hit
    list alike (archive/durations.py), and 0:00:01 as an exhibit extent."""
    from benchmarks.generators.samples import make_wav
    from web.app import create_app
    make_wav(tmp_path / "coll" / "录音" / "short.wav", seconds=0.956)
    assert cli("ingest", str(tmp_path / "coll")).exit_code == 0
    hit = json.loads(cli("search", "type:audio", "--json").stdout)["hits"][0]
    assert "00:01" in cli("search", "type:audio").stdout
    assert "0.956 (00:01)" in cli("show", hit["accession"]).stdout
    client = create_app(catalog_settings(catalog_path)).test_client()
    page = text(client.get(f"/items/{hit['accession']}"))
    assert "<dd>00:01</dd>" in page and "short.wav · 00:01" in page
    assert "· 00:01" in text(client.get("/search?q=type:audio"))
    cli("exhibit", "create", "x", "--title", "x")
    cli("exhibit", "add", "x", hit["accession"])
    out = tmp_path / "x.json"
    assert cli("exhibit", "export", "x", "--format", "json", "-o", str(out)).exit_code == 0
    assert json.loads(out.read_text("utf-8"))["objects"][0]["extent"] == "0:00:01"


def test_durations_read_the_same():
    from archive.durations import clock, hms, length
    assert [length(0.956), hms(0.956), clock(0.956)] == ["00:01", "0:00:01", "00:00"]
    assert [length(3723.4), hms(3723.4), length(None)] == ["1:02:03", "1:02:03", ""]
    assert clock(125.9) == "02:05"  # a moment plays from where it starts


def test_query_string_checks_without_a_site():
    """web/params.py is pure: the docstring's table, checked."""
    from archive.errors import QueryError
    from web.params import api_options, page_options
    ok = api_options({"q": "导弹", "limit": "5", "offset": "10", "facets": "1", "from": "1950"})
    assert (ok.query, ok.limit, ok.offset, ok.facets, ok.year_from) == ("导弹", 5, 10, True, 1950)
    assert (page_options({"page": "3"}, 20).offset, page_options({}, 20).offset) == (40, 0)
    for args, message in (({"offset": "-1"}, "offset must be a whole number 0 or more"),
                          ({"limit": "1001"}, "limit must be a whole number from 1 to 1000"),
                          ({"page": "0"}, "page must be"), ({"to": "1e3"}, "to must be a year")):
        with pytest.raises(QueryError, match=message):
            page_options(args, 20) if "page" in args else api_options(args)


def test_every_type_has_both_labels():
    from archive.fields import MATERIAL_TYPES, TYPE_LABELS, type_label
    assert set(TYPE_LABELS) == set(MATERIAL_TYPES)
    assert all(zh and en for zh, en in TYPE_LABELS.values())
    assert type_label("letter") == "信件 Letter" and type_label("unknown") == "unknown"
