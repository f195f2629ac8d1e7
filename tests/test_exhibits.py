"""Exhibits: every command, every export format parsed back, hostile metadata, Chinese text,
missing thumbnails and restricted objects."""
from __future__ import annotations

import csv
import io
import json
from html.parser import HTMLParser

import pytest

from archive.csvfiles import neutralise_cell
from benchmarks.generators.samples import exif_block, make_audio, make_jpeg, make_photo, make_video
from tests.conftest import write_manifest
from tests.catalogs import catalog_execute

HOSTILE_TITLE = "=HYPERLINK(\"http://evil.example\",\"点我\")"


@pytest.fixture
def museum(cli, tmp_path):
    """A small ingested collection with hostile metadata, and its derivatives."""
    folder = tmp_path / "coll"
    make_jpeg(folder / "信件" / "letter_1956.jpg", (600, 800))
    make_jpeg(folder / "信件" / "letter_1956_p2.jpg", (600, 800))
    make_photo(folder / "照片" / "lab.jpg", exif=exif_block(
        "Leica", "M3", description="<script>alert('exif')</script> 实验室"))
    make_audio(folder / "录音" / "talk.mp3", 3.0)
    make_video(folder / "视频" / "lecture.mp4", 2.0)
    make_jpeg(folder / "secret.jpg")
    manifest = write_manifest(tmp_path / "m.csv", [
        ["path", "title", "date", "description", "access", "location", "rights"],
        ["信件/letter_1956.jpg", "钱学森致陈赓信", "1956-02-17",
         "<b>bold?</b> & \"quotes\"", "open", "Box 3", "© 家属"],
        ["照片/lab.jpg", HOSTILE_TITLE, "1956", "", "open", "-1950 shelf", "@rights"],
        ["secret.jpg", "绝密照片", "1965", "", "restricted", "", ""],
    ])
    assert cli("ingest", str(folder), "--manifest", str(manifest)).exit_code == 0
    assert cli("derive").exit_code == 0
    return tmp_path


def accession_of(cli, path_end: str) -> str:
    for line in cli("export").stdout.splitlines():
        record = json.loads(line)
        if record["path"].endswith(path_end):
            return record["accession"]
    raise AssertionError(path_end)


def build(cli, slug: str = "liangdan") -> dict[str, str]:
    acc = {name: accession_of(cli, name) for name in
           ("letter_1956.jpg", "lab.jpg", "talk.mp3", "lecture.mp4")}
    assert cli("exhibit", "create", slug, "--title", "两弹一星",
               "--description", "展览说明 <i>not markup</i>").exit_code == 0
    assert cli("exhibit", "add", slug, acc["letter_1956.jpg"], acc["lab.jpg"],
               "--section", "第一展厅", "--caption", "说明文字").exit_code == 0
    assert cli("exhibit", "add", slug, acc["talk.mp3"], acc["lecture.mp4"],
               "--section", "第二展厅").exit_code == 0
    return acc


def test_create_list_show_delete(cli, museum):
    build(cli)
    listed = json.loads(cli("exhibit", "list", "--json").stdout)
    assert listed[0]["slug"] == "liangdan" and listed[0]["objects"] == 4
    shown = cli("exhibit", "show", "liangdan").stdout
    assert "[第一展厅]" in shown and "[第二展厅]" in shown and "说明文字" in shown
    kept = cli("exhibit", "delete", "liangdan", input="n\n")
    assert kept.exit_code == 1 and "Aborted" in kept.output
    assert cli("exhibit", "show", "liangdan").exit_code == 0
    assert cli("exhibit", "delete", "liangdan", input="y\n").exit_code == 0
    assert cli("exhibit", "show", "liangdan").exit_code == 2


def test_delete_with_yes(cli, museum):
    build(cli)
    assert cli("exhibit", "delete", "liangdan", "--yes").exit_code == 0
    assert json.loads(cli("exhibit", "list", "--json").stdout) == []


@pytest.mark.parametrize("args, message", [
    (["create", "两弹一星", "--title", "x"], "use lower-case letters"),
    (["add", "nope", "X-1"], "no exhibit 'nope'"),
    (["show", "nope"], "no exhibit 'nope'"),
])
def test_usage_errors(cli, museum, args, message):
    r = cli("exhibit", *args)
    assert r.exit_code == 2 and message in r.stderr


def test_add_query_order_move_remove_caption(cli, museum):
    acc = build(cli)
    again = cli("exhibit", "add", "liangdan", acc["talk.mp3"])
    assert f"already there: {acc['talk.mp3']}" in again.stdout
    missing = cli("exhibit", "add", "liangdan", "NOPE-X-1")
    assert missing.exit_code == 2 and "NOPE-X-1" in missing.stderr
    cli("exhibit", "create", "q", "--title", "by query")
    assert "Added 2 object(s)" in cli("exhibit", "add", "q", "--query", "type:letter OR "
                                      "type:audio").stdout
    assert "Added 0" not in cli("exhibit", "add", "q", "--query", "绝密",
                                "--include-restricted").stdout
    # a new object in the first section goes to that section's end, before the second
    cli("exhibit", "add", "liangdan", accession_of(cli, "secret.jpg"), "--section", "第一展厅")
    order = [o["accession"] for o in
             json.loads(cli("exhibit", "show", "liangdan", "--json").stdout)["objects"]]
    assert order[2] == accession_of(cli, "secret.jpg")
    cli("exhibit", "move", "liangdan", acc["lecture.mp4"], "--to", "1", "--section", "序厅")
    cli("exhibit", "remove", "liangdan", accession_of(cli, "secret.jpg"))
    cli("exhibit", "caption", "liangdan", acc["talk.mp3"], "口述：五十年代")
    objects = json.loads(cli("exhibit", "show", "liangdan", "--json").stdout)["objects"]
    assert [o["position"] for o in objects] == [1, 2, 3, 4]
    assert [o["accession"] for o in objects] == [acc["lecture.mp4"], acc["letter_1956.jpg"],
                                                 acc["lab.jpg"], acc["talk.mp3"]]
    assert objects[0]["section"] == "序厅" and objects[3]["caption"] == "口述：五十年代"
    assert cli("exhibit", "move", "liangdan", acc["talk.mp3"], "--to", "9").exit_code == 2


def test_neutralise_cell():
    assert neutralise_cell("=1+1") == "'=1+1"
    for bad in ("+1", "-1950 shelf", "@SUM(A1)", "\tx", "\rx", "\0x"):
        assert neutralise_cell(bad).startswith("'")
    assert neutralise_cell(12) == 12 and neutralise_cell("钱学森") == "钱学森"


def test_csv_for_excel(cli, museum, tmp_path):
    build(cli)
    out = tmp_path / "x.csv"
    assert cli("exhibit", "export", "liangdan", "--format", "csv", "-o", str(out)).exit_code == 0
    raw = out.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for UTF-8
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"))))
    assert [r["No."] for r in rows] == ["1", "2", "3", "4"]
    assert rows[0]["title"] == "钱学森致陈赓信" and rows[0]["extent"] == "2 pages"
    assert rows[0]["description"] == "<b>bold?</b> & \"quotes\""
    assert rows[1]["title"] == "'" + HOSTILE_TITLE
    assert rows[1]["location"] == "'-1950 shelf" and rows[1]["rights"] == "'@rights"
    assert rows[2]["extent"] == "0:00:03" and rows[3]["type"] == "video"
    assert raw.decode("utf-8-sig").splitlines()[1].startswith("1,")  # a number, unquoted


def test_xlsx(cli, museum, tmp_path):
    from openpyxl import load_workbook
    build(cli)
    out = tmp_path / "x.xlsx"
    assert cli("exhibit", "export", "liangdan", "--format", "xlsx", "-o", str(out)).exit_code == 0
    ws = load_workbook(out).active
    assert ws.freeze_panes == "A2" and ws["A1"].value == "No." and ws["A1"].font.bold
    assert ws["A2"].value == 1 and ws["D2"].value == "钱学森致陈赓信"
    hostile = ws["D3"]
    assert hostile.value == HOSTILE_TITLE and hostile.data_type == "s"  # text, not a formula
    assert len(ws._images) == 4 and ws.column_dimensions["D"].width == 40


def test_json(cli, museum, tmp_path):
    build(cli)
    out = tmp_path / "x.json"
    cli("exhibit", "export", "liangdan", "--format", "json", "-o", str(out))
    data = json.loads(out.read_text("utf-8"))
    assert data["schema"] == "archive-exhibit/1"
    assert data["exhibit"]["sections"] == ["第一展厅", "第二展厅"]
    first = data["objects"][0]
    assert (first["title"], first["pages"], first["extent"], first["caption"]) == (
        "钱学森致陈赓信", 2, "2 pages", "说明文字")
    assert first["files"][0]["path"] == "信件/letter_1956.jpg" and len(first["sha256"]) == 64
    assert data["objects"][2]["duration_seconds"] == pytest.approx(3.0, abs=0.1)


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.images: list[str] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):  # type: ignore[no-untyped-def]
        self.tags.append(tag)
        if tag == "img":
            self.images.append(dict(attrs)["src"])
        for name, _ in attrs:
            assert not name.startswith("on"), f"event handler attribute {name}"

    def handle_data(self, data):  # type: ignore[no-untyped-def]
        self.text.append(data)


def test_html_catalogue_is_escaped_and_self_contained(cli, museum, tmp_path):
    build(cli)
    folder = tmp_path / "catalogue"
    cli("exhibit", "export", "liangdan", "--format", "html", "-o", str(folder))
    page = _Page()
    page.feed((folder / "index.html").read_text("utf-8"))
    text = "".join(page.text)
    assert "script" not in page.tags and "b" not in page.tags and "i" not in page.tags
    assert "<script>alert('exif')</script> 实验室" in text  # the EXIF description, as text
    assert "<b>bold?</b>" in text and "<i>not markup</i>" in text
    assert "第一展厅" in text and "两弹一星" in text and "说明文字" in text
    assert len(page.images) == 4
    for src in page.images:
        assert not src.startswith(("http", "/")) and (folder / src).exists()
    assert "@page { size: A4" in (folder / "index.html").read_text("utf-8")


def test_html_without_thumbnails(cli, museum, tmp_path):
    import shutil
    build(cli)
    shutil.rmtree(tmp_path / "catalog.db.derivatives")
    folder = tmp_path / "bare"
    r = cli("exhibit", "export", "liangdan", "--format", "html", "-o", str(folder))
    assert "4 without a thumbnail: run `archive derive`" in r.stdout
    page = _Page()
    page.feed((folder / "index.html").read_text("utf-8"))
    assert page.images == [] and "".join(page.text).count("no image") == 4


def test_iiif_manifest_validates(cli, museum, tmp_path):
    from iiif_prezi3 import Manifest
    build(cli)
    out = tmp_path / "m.json"
    cli("exhibit", "export", "liangdan", "--format", "iiif", "-o", str(out),
        "--base-url", "https://archive.example.org")
    data = json.loads(out.read_text("utf-8"))
    manifest = Manifest(**data)  # the library's models check the Presentation 3 rules
    assert manifest.id == "https://archive.example.org/exhibits/liangdan/manifest.json"
    assert data["label"] == {"zh": ["两弹一星"]}
    canvases = data["items"]
    assert len(canvases) == 5  # two letter pages, a photograph, a recording, a video
    kinds = [c["items"][0]["items"][0]["body"]["type"] for c in canvases]
    assert kinds == ["Image", "Image", "Image", "Sound", "Video"]
    assert canvases[3]["duration"] == pytest.approx(3.0, abs=0.1)
    assert canvases[4]["width"] == 320 and canvases[4]["duration"] == pytest.approx(2.0, abs=0.1)
    assert canvases[0]["items"][0]["items"][0]["body"]["id"].startswith(
        "https://archive.example.org/items/")
    assert [r["label"] for r in data["structures"]] == [{"zh": ["第一展厅"]}, {"zh": ["第二展厅"]}]


@pytest.mark.parametrize("fmt", ["csv", "xlsx", "json", "html", "iiif"])
def test_restricted_objects_stop_every_export(cli, museum, tmp_path, fmt):
    build(cli)
    secret = accession_of(cli, "secret.jpg")
    cli("exhibit", "add", "liangdan", secret)
    out = tmp_path / f"out.{fmt}"
    refused = cli("exhibit", "export", "liangdan", "--format", fmt, "-o", str(out))
    assert refused.exit_code == 2 and f"{secret} (restricted)" in refused.stderr
    assert not out.exists()
    allowed = cli("exhibit", "export", "liangdan", "--format", fmt, "-o", str(out),
                  "--include-restricted")
    assert allowed.exit_code == 0 and out.exists()


def _updated(cli, slug: str = "liangdan") -> str:
    return json.loads(cli("exhibit", "list", "--json").stdout)[0]["updated"]


def _age(catalog_path, slug: str = "liangdan") -> None:
    """Set the exhibit's updated time a year back, so any change shows without waiting."""
    catalog_execute(catalog_path, "UPDATE exhibits SET updated_at = '2000-01-01 00:00:00' "
                    "WHERE slug = :slug", {"slug": slug})


def test_every_change_moves_updated(cli, museum, catalog_path):
    """#12.12: add, remove, move and caption each change the exhibit's `updated` time."""
    acc = build(cli)
    for args in (["add", "liangdan", accession_of(cli, "secret.jpg")],
                 ["remove", "liangdan", accession_of(cli, "secret.jpg")],
                 ["move", "liangdan", acc["lab.jpg"], "--to", "1"],
                 ["caption", "liangdan", acc["lab.jpg"], "新说明"]):
        _age(catalog_path)
        assert _updated(cli).startswith("2000-"), args
        assert cli("exhibit", *args).exit_code == 0, args
        assert not _updated(cli).startswith("2000-"), args


def _order(cli) -> list[tuple[str | None, str]]:
    objects = json.loads(cli("exhibit", "show", "liangdan", "--json").stdout)["objects"]
    assert [o["position"] for o in objects] == list(range(1, len(objects) + 1))
    return [(o["section"], o["accession"]) for o in objects]


def test_move_within_a_section_keeps_sections_together(cli, museum):
    """#12.18: with --section, --to counts within the section; sections are never split."""
    acc = build(cli)
    letter, lab, talk, lecture = (acc[k] for k in ("letter_1956.jpg", "lab.jpg", "talk.mp3",
                                                   "lecture.mp4"))
    first, second = "第一展厅", "第二展厅"
    assert cli("exhibit", "move", "liangdan", lecture, "--to", "1", "--section", second) \
        .exit_code == 0
    assert _order(cli) == [(first, letter), (first, lab), (second, lecture), (second, talk)]
    # into another section, at its first place: the section does not move
    assert cli("exhibit", "move", "liangdan", talk, "--to", "1", "--section", first) \
        .exit_code == 0
    assert _order(cli) == [(first, talk), (first, letter), (first, lab), (second, lecture)]
    # without --section the position counts in the whole exhibit, inside the object's section
    assert cli("exhibit", "move", "liangdan", lab, "--to", "1").exit_code == 0
    assert _order(cli)[0] == (first, lab)
    outside = cli("exhibit", "move", "liangdan", lab, "--to", "4")
    assert outside.exit_code == 2 and "--section" in outside.stderr
    too_far = cli("exhibit", "move", "liangdan", lab, "--to", "5", "--section", second)
    assert too_far.exit_code == 2 and "1..2" in too_far.stderr
    assert _order(cli)[0] == (first, lab)  # a refused move changes nothing


def test_accession_numbers_are_not_case_sensitive(cli, museum):
    """#12.23: `show`, exhibits and their commands take a number however it is typed."""
    acc = build(cli)
    lower = acc["talk.mp3"].lower()
    shown = cli("show", lower)
    assert shown.exit_code == 0 and shown.stdout.startswith(acc["talk.mp3"])
    assert cli("show", "Ｕ" + lower[1:]).exit_code == 0  # full-width, from a Chinese keyboard
    assert cli("exhibit", "caption", "liangdan", lower, "小写").exit_code == 0
    assert cli("exhibit", "move", "liangdan", lower, "--to", "4").exit_code == 0
    assert cli("exhibit", "remove", "liangdan", lower).exit_code == 0
    added = cli("exhibit", "add", "liangdan", lower, acc["lab.jpg"].lower())
    assert added.exit_code == 0 and f"already there: {acc['lab.jpg']}" in added.stdout
    assert acc["talk.mp3"] in [a for _, a in _order(cli)]


def test_each_format_has_its_own_default_name(cli, museum, tmp_path, monkeypatch):
    """#12.10: json and then iiif wrote SLUG.json twice, the second over the first."""
    build(cli)
    out = tmp_path / "here"
    out.mkdir()
    monkeypatch.chdir(out)
    for fmt in ("csv", "xlsx", "json", "html", "iiif"):
        assert cli("exhibit", "export", "liangdan", "--format", fmt).exit_code == 0, fmt
    assert sorted(p.name for p in out.iterdir()) == [
        "liangdan-catalogue", "liangdan.csv", "liangdan.iiif.json", "liangdan.json",
        "liangdan.xlsx"]
    assert json.loads((out / "liangdan.json").read_text("utf-8"))["schema"] == \
        "archive-exhibit/1"
    assert json.loads((out / "liangdan.iiif.json").read_text("utf-8"))["type"] == "Manifest"


def test_exports_name_types_in_both_languages(cli, museum, tmp_path):
    """#12.26: the printable catalogue and the IIIF metadata say 信件 Letter, from the one
    registry (archive/fields.py); the data formats keep the type's code."""
    build(cli)
    cli("exhibit", "export", "liangdan", "--format", "html", "-o", str(tmp_path / "c"))
    page = (tmp_path / "c" / "index.html").read_text("utf-8")
    assert "<dd>信件 Letter</dd>" in page and "<dd>录音 Audio</dd>" in page
    cli("exhibit", "export", "liangdan", "--format", "iiif", "-o", str(tmp_path / "m.json"))
    metadata = json.loads((tmp_path / "m.json").read_text("utf-8"))["items"][0]["metadata"]
    assert {"label": {"zh": ["类型"], "en": ["Type"]},
            "value": {"zh": ["信件"], "en": ["Letter"]}} in metadata
    cli("exhibit", "export", "liangdan", "--format", "json", "-o", str(tmp_path / "x.json"))
    assert json.loads((tmp_path / "x.json").read_text("utf-8"))["objects"][0]["type"] == \
        "letter"
