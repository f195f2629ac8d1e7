"""The field registry (#13.3): each item field declared once in archive/fields.py reaches the
manifest, `archive edit`, the spreadsheet, the query parser (English and Chinese names), the
facets, the exhibit rows and the site's labels; `items.collection`, queried but never
written before, is written by the manifest and travels to every export (#13.10)."""
from __future__ import annotations

import csv
import json
import re
from pathlib import Path

from archive.cli import main
from archive.exhibit_export.rows import COLUMNS
from archive.fields import (
    EDITABLE_FIELDS, EXHIBIT_FIELDS, FACETS, ITEM_FIELDS, QUERY_NAMES, field_label,
)
from archive.spreadsheet import SHEET_COLUMNS
from benchmarks.generators.samples import make_jpeg
from ingest.manifest import MANIFEST_COLUMNS
from search.facets import CODE_FIELDS
from search.query import Field, Range, Text, parse_query
from tests.catalogs import catalog_settings
from tests.conftest import write_manifest


def test_every_declared_field_reaches_each_surface():
    for f in ITEM_FIELDS:
        target = f.searched_as or f.name
        for name in f.query:  # English and Chinese names alike
            node = parse_query(f"{name}:{'30m' if target == 'duration' else '1950'}")
            assert isinstance(node, (Field, Range, Text)), name
            assert node.field == target, name
        assert field_label(f.name) == f"{f.zh} {f.en}"
    for name in EDITABLE_FIELDS:
        assert name in MANIFEST_COLUMNS and name in SHEET_COLUMNS
        assert f"--{name.replace('_', '-')}" in _help("edit")
    assert set(EXHIBIT_FIELDS) <= set(COLUMNS)
    assert tuple(CODE_FIELDS) == FACETS == ("type", "scientist", "decade")
    assert QUERY_NAMES["全宗"] == QUERY_NAMES["collection"] == "collection"


def _help(command: str) -> str:
    from click.testing import CliRunner
    result = CliRunner().invoke(main, [command, "--help"])
    assert result.exit_code == 0
    return result.output


def test_the_manifest_writes_the_collection_and_every_export_carries_it(cli, tmp_path: Path,
                                                                        catalog_path: Path):
    coll = tmp_path / "coll"
    make_jpeg(coll / "钱学森" / "信件" / "letter_1950.jpg")
    make_jpeg(coll / "钱学森" / "照片" / "lab_1956.jpg")
    manifest = write_manifest(tmp_path / "m.csv", [
        ["path", "title", "collection"],
        ["钱学森/信件/letter_1950.jpg", "致友人信", "钱学森书信全宗"],
    ])
    assert cli("ingest", str(coll), "--manifest", str(manifest)).exit_code == 0
    hits = json.loads(cli("search", "collection:钱学森书信全宗", "--json").stdout)["hits"]
    assert [h["title"] for h in hits] == ["致友人信"]
    accession = hits[0]["accession"]
    assert json.loads(cli("search", "全宗:书信", "--json").stdout)["total"] == 1

    record = json.loads(cli("show", accession, "--json").stdout)
    assert record["collection"] == "钱学森书信全宗" and "collection" not in (record["extra"] or {})
    assert "collection   钱学森书信全宗" in cli("show", accession).stdout
    exported = [json.loads(line) for line in cli("export").stdout.splitlines()]
    assert {r["path"]: r["collection"] for r in exported} == {
        "钱学森/信件/letter_1950.jpg": "钱学森书信全宗", "钱学森/照片/lab_1956.jpg": None}

    sheet = tmp_path / "items.csv"
    assert cli("items", "export", "-o", str(sheet)).exit_code == 0
    rows = list(csv.DictReader(sheet.read_text("utf-8-sig").splitlines()))
    assert {r["accession"]: r["collection"] for r in rows}[accession] == "钱学森书信全宗"

    result = cli("edit", accession, "--collection", "钱学森档案·书信")
    assert result.exit_code == 0 and "collection: 钱学森书信全宗 → 钱学森档案·书信" in result.stdout
    assert json.loads(cli("search", "collection:档案", "--json").stdout)["total"] == 1

    assert cli("exhibit", "create", "x", "--title", "展").exit_code == 0
    assert cli("exhibit", "add", "x", accession).exit_code == 0
    out = tmp_path / "x.csv"
    assert cli("exhibit", "export", "x", "--format", "csv", "-o", str(out)).exit_code == 0
    row = next(csv.DictReader(out.read_text("utf-8-sig").splitlines()))
    assert row["collection"] == "钱学森档案·书信"
    page = tmp_path / "x-html"
    assert cli("exhibit", "export", "x", "--format", "html", "-o", str(page)).exit_code == 0
    html = (page / "index.html").read_text("utf-8")
    assert "<dt>全宗 Collection</dt><dd>钱学森档案·书信</dd>" in html
    assert "<dt>档号 Accession</dt>" in html

    from web.app import create_app
    client = create_app(catalog_settings(catalog_path)).test_client()
    item_page = client.get(f"/items/{accession}").get_data(as_text=True)
    assert re.search(r"<dt>全宗 Collection</dt><dd>钱学森档案·书信</dd>", item_page)
    search_page = client.get("/search?q=信").get_data(as_text=True)
    assert "<h3>类型 Type</h3>" in search_page
