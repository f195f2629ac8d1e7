"""Editing items after ingest (#11 Editing): `archive edit` validates as a manifest does, records
one event per changed field, and search follows at once."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from archive.cells import read_cell
from archive.edits import read_values
from archive.models import Event, Item
from benchmarks.generators.samples import make_jpeg


def _text(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


@pytest.fixture
def small(cli, tmp_path: Path) -> Path:
    """Two scientists and four real files, ingested and indexed."""
    coll = tmp_path / "coll"
    make_jpeg(coll / "钱学森" / "信件" / "letter_1950.jpg")
    _text(coll / "钱学森" / "信件" / "letter_1950.txt", "关于导弹研究的信。")
    make_jpeg(coll / "钱学森" / "照片" / "lab_1956.jpg")
    _text(coll / "赵九章" / "信件" / "note_1958.txt", "人造卫星的设想。")
    assert cli("scientists", "add", "钱学森", "--variant", "Qian Xuesen").exit_code == 0
    assert cli("scientists", "add", "赵九章", "--variant", "Zhao Jiuzhang").exit_code == 0
    result = cli("ingest", str(coll), "--quiet")
    assert result.exit_code == 0, result.output
    return coll


def accessions(cli, query: str, *options: str) -> list[str]:
    result = cli("search", query, "--json", *options)
    assert result.exit_code == 0, result.output
    return [h["accession"] for h in json.loads(result.stdout)["hits"]]


def item(catalog, accession: str) -> Item:
    with catalog.session() as s:
        found = s.scalars(select(Item).where(Item.accession == accession)).one()
        assert found.scientist is None or found.scientist.name  # loaded while open
        return found


def test_cells_are_read_as_manifest_cells_are():
    def known(name: str) -> bool:
        return name == "钱学森"
    assert read_cell("type", "信件", known) == "letter"
    assert read_cell("access", "保密", known) == "closed"
    assert read_cell("date", "1950年3月", known).text == "1950-03"
    assert read_cell("description", "  ", known) is None
    with pytest.raises(ValueError, match="unknown type 'poem'"):
        read_cell("type", "poem", known)
    with pytest.raises(ValueError, match="unknown scientist 'Nobody'"):
        read_cell("scientist", "Nobody", known)
    with pytest.raises(ValueError, match="longer than 500"):
        read_cell("title", "x" * 501, known)
    with pytest.raises(ValueError, match="the title cannot be empty"):
        read_values({"title": " "}, known)
    assert read_values({"date": ""}, known) == {"date": None}


def test_edit_changes_what_search_finds_at_once(cli, small, catalog):
    assert accessions(cli, "工程控制论") == []
    result = cli("edit", "qxs-l-00001", "--title", "工程控制论的信", "--date", "1951年3月",
                 "--access", "公开", "--location", "Box 7", "--by", "Li Wei")
    assert result.exit_code == 0, result.output
    assert "QXS-L-00001: title: letter 1950 → 工程控制论的信" in result.stdout
    assert "QXS-L-00001: date: 1950 → 1951-03" in result.stdout
    assert "access" not in result.stdout  # already open: not a change
    assert "Warning" not in result.stderr
    assert accessions(cli, "工程控制论") == ["QXS-L-00001"]
    assert accessions(cli, "date:1951") == ["QXS-L-00001"]
    letter = item(catalog, "QXS-L-00001")
    assert (letter.date_start.isoformat(), letter.location) == ("1951-03-01", "Box 7")
    with catalog.session() as s:
        events = s.scalars(select(Event).where(Event.item_id == letter.id,
                                               Event.kind == "metadata modification")
                           .order_by(Event.id)).all()
        assert [(e.field, e.old_value, e.new_value, e.agent) for e in events] == [
            ("title", "letter 1950", "工程控制论的信", "Li Wei"),
            ("date", "1950", "1951-03", "Li Wei"),
            ("location", None, "Box 7", "Li Wei")]


def test_edit_scientist_type_and_restricting_leaves_public_search(cli, small, catalog):
    result = cli("edit", "QXS-L-00001", "--scientist", "zhao jiuzhang", "--type", "手稿",
                 "--access", "restricted")
    assert result.exit_code == 0, result.output
    letter = item(catalog, "QXS-L-00001")  # the accession number stays
    assert (letter.type, letter.type_source, letter.access) == ("manuscript", "edit",
                                                               "restricted")
    assert letter.scientist is not None and letter.scientist.name == "赵九章"
    assert accessions(cli, "导弹") == []
    assert accessions(cli, "导弹", "--include-restricted") == ["QXS-L-00001"]
    assert accessions(cli, "scientist:赵九章 type:manuscript", "--include-restricted") == \
        ["QXS-L-00001"]
    # Clearing a field is a change too; naming the same scientist by a variant is not.
    result = cli("edit", "QXS-L-00001", "--scientist", "Zhao Jiuzhang", "--location", "")
    assert result.stdout.strip() == "Nothing changed: the item already has these values."


@pytest.mark.parametrize("args, message", [
    (("--type", "poem"), "unknown type 'poem' (use letter, manuscript"),
    (("--access", "secret"), "unknown access 'secret' (use open, restricted or closed)"),
    (("--date", "spring"), "cannot read 'spring' as a date"),
    (("--scientist", "Nobody"), "unknown scientist 'Nobody'"),
    (("--title", ""), "the title cannot be empty"),
    ((), "nothing to change"),
])
def test_bad_values_change_nothing(cli, small, catalog, args, message):
    result = cli("edit", "QXS-L-00001", "--title", "ok", *args) if args and args[0] != "--title" \
        else cli("edit", "QXS-L-00001", *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1
    assert item(catalog, "QXS-L-00001").title == "letter 1950"


def test_unknown_accession(cli, small):
    result = cli("edit", "QXS-L-09999", "--title", "x")
    assert result.exit_code == 2
    assert "no item with accession number 'QXS-L-09999'" in result.stderr


def test_an_index_problem_does_not_undo_the_edit(cli, small, catalog, monkeypatch):
    from tests.test_search import hold_writer
    monkeypatch.setenv("ARCHIVE_INDEX_WAIT", "0")
    release = hold_writer(catalog)  # another process is writing the index (either engine)
    try:
        result = cli("edit", "QXS-L-00001", "--title", "新标题")
    finally:
        release()
    assert result.exit_code == 0
    assert "the search index was not updated" in result.stderr
    assert "run `archive reindex`" in result.stderr
    assert item(catalog, "QXS-L-00001").title == "新标题"
    assert accessions(cli, "新标题") == ["QXS-L-00001"]  # the next search catches up


def test_show_prints_who_changed_what(cli, small):
    assert cli("edit", "QXS-L-00001", "--title", "新标题", "--by", "Li Wei").exit_code == 0
    assert cli("withdraw", "QXS-L-00001", "--reason", "重复").exit_code == 0
    out = cli("show", "qxs-l-00001").stdout
    assert "metadata modification  success  Li Wei  title: letter 1950 → 新标题" in out
    assert "WITHDRAWN" in out and "重复" in out
    rec = json.loads(cli("show", "QXS-L-00001", "--json").stdout)
    edit = next(e for e in rec["events"] if e["kind"] == "metadata modification")
    assert (edit["agent"], edit["field"], edit["old"], edit["new"]) == \
        ("Li Wei", "title", "letter 1950", "新标题")
    assert rec["withdrawn_reason"] == "重复"
