"""`archive forget` (#11 Withdrawal and removal): files catalogued by mistake leave the catalog
and search; a deletion event with reason, path and checksum stays; numbers are not reused."""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from sqlalchemy import select
from test_editing import _text, accessions, small  # noqa: F401 - the fixture is used by name

from archive.models import Change, Event, File, FileText, Item


def test_forget_a_catalogued_manifest_and_its_search_hits(cli, small, catalog):  # noqa: F811
    stray = _text(small / "钱学森" / "box" / "manifest.csv",
                  "path,title,access\n信件/letter_1950.jpg,绝密的火箭方案,closed\n")
    checksum = hashlib.sha256(stray.read_bytes()).hexdigest()
    assert cli("ingest", str(small), "--quiet").exit_code == 0
    assert accessions(cli, "火箭方案") == ["QXS-D-00001"]
    assert cli("exhibit", "create", "ex", "--title", "展").exit_code == 0
    assert cli("exhibit", "add", "ex", "QXS-L-00001", "QXS-D-00001").exit_code == 0

    result = cli("forget", str(stray), "--reason", "a manifest, not an item", "--by", "Li Wei")
    assert result.exit_code == 0, result.output
    assert "item QXS-D-00001 removed (no file left)" in result.stdout
    assert accessions(cli, "火箭方案", "--include-restricted") == []
    assert stray.exists()  # the original is never touched
    with catalog.session() as s:
        assert s.scalars(select(Item).where(Item.accession == "QXS-D-00001")).first() is None
        assert s.scalars(select(File).where(File.path.like("%manifest.csv"))).first() is None
        assert len(s.scalars(select(FileText)).all()) == 2  # the two transcripts are left
        event = s.scalars(select(Event).where(Event.kind == "deletion")).one()
        assert (event.item_id, event.file_id, event.agent) == (None, None, "Li Wei")
        assert "a manifest, not an item" in (event.detail or "")
        assert checksum in (event.detail or "")
        assert "QXS-D-00001" in (event.detail or "")
        assert event.old_value and event.old_value.endswith("钱学森/box/manifest.csv")
        assert s.scalars(select(Change.kind).order_by(Change.seq.desc())).first() == "delete"
    assert "QXS-D-00001" not in cli("exhibit", "show", "ex").stdout
    # Its number is never handed out again.
    stray.unlink()
    _text(small / "钱学森" / "box" / "plan.txt", "新的文件")
    assert cli("ingest", str(small), "--quiet").exit_code == 0
    assert accessions(cli, "新的文件") == ["QXS-D-00002"]


def test_forget_one_file_keeps_the_item(cli, small, catalog):  # noqa: F811
    transcript = small / "钱学森" / "信件" / "letter_1950.txt"
    assert accessions(cli, "导弹研究") == ["QXS-L-00001"]
    result = cli("forget", str(transcript), "--reason", "wrong transcript")
    assert result.exit_code == 0, result.output
    assert "(from item QXS-L-00001)" in result.stdout
    assert accessions(cli, "导弹研究") == []
    assert accessions(cli, "title:letter") == ["QXS-L-00001"]
    with catalog.session() as s:
        event = s.scalars(select(Event).where(Event.kind == "deletion")).one()
        item = s.scalars(select(Item).where(Item.accession == "QXS-L-00001")).one()
        assert event.item_id == item.id


def test_forget_a_page_and_the_extent_follows(cli, small, catalog):  # noqa: F811
    from benchmarks.generators.samples import make_jpeg
    page2 = make_jpeg(small / "钱学森" / "信件" / "letter_1950_p2.jpg")
    assert cli("ingest", str(small), "--quiet").exit_code == 0
    with catalog.session() as s:
        assert s.scalars(select(Item.pages).where(Item.accession == "QXS-L-00001")).one() == 2
    assert cli("forget", str(page2), "--reason", "another letter's page").exit_code == 0
    with catalog.session() as s:
        assert s.scalars(select(Item.pages).where(Item.accession == "QXS-L-00001")).one() == 1


def test_forget_an_original_leaves_its_copy_whole(cli, small, catalog, tmp_path):  # noqa: F811
    original = small / "钱学森" / "照片" / "lab_1956.jpg"
    (small / "钱学森" / "照片" / "lab_copy.jpg").write_bytes(original.read_bytes())
    assert cli("ingest", str(small), "--quiet").exit_code == 0
    assert cli("forget", str(original), "--reason", "scanned twice").exit_code == 0
    with catalog.session() as s:
        copy = s.scalars(select(File).where(File.path.like("%lab_copy.jpg"))).one()
        assert copy.duplicate_of_id is None


def test_forget_refuses_what_is_not_catalogued(cli, small, catalog):  # noqa: F811
    known = small / "钱学森" / "照片" / "lab_1956.jpg"
    result = cli("forget", str(known), str(small / "nowhere.jpg"), "--reason", "x")
    assert result.exit_code == 2
    assert "not a catalogued file:" in result.stderr and "nowhere.jpg" in result.stderr
    with catalog.session() as s:
        assert s.scalars(select(File).where(File.path.like("%lab_1956.jpg"))).first()
    result = cli("forget", str(known), "--reason", "")
    assert result.exit_code == 2 and "--reason" in result.stderr


def test_forget_by_a_relative_path(cli, small, catalog, monkeypatch):  # noqa: F811
    monkeypatch.chdir(small / "钱学森")
    assert cli("forget", str(Path("照片") / "lab_1956.jpg"), "--reason", "x").exit_code == 0
    with catalog.session() as s:
        assert s.scalars(select(Item).where(Item.accession == "QXS-P-00001")).first() is None


def test_a_forgotten_file_still_on_disk_stays_out_of_later_ingests(cli, small, catalog):  # noqa: F811
    """#11 leftover: the next ingest skipped nothing and catalogued the file again."""
    stray = _text(small / "钱学森" / "box" / "notes.tmp.txt", "临时文件，不是档案")
    assert cli("ingest", str(small), "--quiet").exit_code == 0
    assert accessions(cli, "临时文件") == ["QXS-D-00001"]
    assert cli("forget", str(stray), "--reason", "an editor's scratch file").exit_code == 0

    for dry in ((), ("--dry-run",)):
        result = cli("ingest", str(small), "--json", *dry)
        assert result.exit_code == 0, result.output
        report = json.loads(result.stdout)
        assert report["new"] == 0 and report["missing"] == []
        skipped = {s["path"]: s["reason"] for s in report["skipped"]}
        assert "an editor's scratch file" in skipped["钱学森/box/notes.tmp.txt"]
        assert "--include-forgotten" in skipped["钱学森/box/notes.tmp.txt"]
    assert accessions(cli, "临时文件", "--include-restricted") == []
    text = cli("ingest", str(small)).stdout
    assert "钱学森/box/notes.tmp.txt: forgotten on " in text

    # Asked for again: catalogued as a new item (numbers are never reused), then kept.
    again = json.loads(cli("ingest", str(small), "--include-forgotten", "--json").stdout)
    assert again["new"] == 1 and again["skipped"] == []
    assert accessions(cli, "临时文件") == ["QXS-D-00002"]
    report = json.loads(cli("ingest", str(small), "--json").stdout)
    assert (report["new"], report["skipped"], report["missing"]) == (0, [], [])
    with catalog.session() as s:
        assert s.scalars(select(File).where(File.path.like("%notes.tmp.txt"))).one()
