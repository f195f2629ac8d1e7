"""Sealed items (#16 Access requests, sealing): `access_until` is read as a manifest cell and an
`archive edit` option alike, recorded as an event, shown ("sealed until 2051-01-01") and
exported, and the item opens by itself on that day: the search index keeps the date, so no
reindex is needed when it comes."""
from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest
from sqlalchemy import select, update

from archive.access import sealing_note, today
from archive.cells import read_cell, read_sealed_until
from archive.models import Event, Item
from conftest import write_manifest
from search.compile import compile_tree, public_only
from search.documents import day_number
from search.query import Field
from search.searcher import SearchService
from test_search import ENGINES
from test_editing import accessions, item, small  # noqa: F401 - the fixture is used by name


def test_sealing_dates_are_read_as_cells():
    assert read_sealed_until("2051") == dt.date(2051, 1, 1)
    assert read_sealed_until("2051-06") == dt.date(2051, 6, 1)
    assert read_sealed_until("2051/6/30") == dt.date(2051, 6, 30)
    assert read_sealed_until("2051年6月") == dt.date(2051, 6, 1)
    assert read_sealed_until("2101") == dt.date(2101, 1, 1)  # beyond the item dates' years
    assert read_cell("access_until", "", lambda name: False) is None
    for bad in ("circa 2051", "2051..2055", "2051-13", "soon"):
        with pytest.raises(ValueError, match="sealing date is one day, month or year"):
            read_sealed_until(bad)


def test_sealing_note_says_so_beforehand_and_after():
    day = dt.date(2051, 1, 1)
    assert sealing_note("closed", day, dt.date(2026, 12, 1)) == "sealed until 2051-01-01"
    assert sealing_note("restricted", day, day) == "open since 2051-01-01 (sealing date)"
    assert sealing_note("open", day, dt.date(2026, 12, 1)) is None
    assert sealing_note("closed", None, dt.date(2026, 12, 1)) is None


def test_edit_seals_and_unseals_with_events_show_and_export(cli, catalog, small):  # noqa: F811
    result = cli("edit", "QXS-L-00001", "--access", "restricted", "--access-until", "2051",
                 "--by", "Li Wei")
    assert result.exit_code == 0, result.output
    assert "QXS-L-00001: access_until: ∅ → 2051-01-01" in result.stdout
    assert item(catalog, "QXS-L-00001").access_until == dt.date(2051, 1, 1)
    shown = cli("show", "QXS-L-00001").stdout
    assert "sealing      sealed until 2051-01-01" in shown
    rec = json.loads(cli("show", "QXS-L-00001", "--json").stdout)
    assert (rec["access_until"], rec["sealing"]) == ("2051-01-01", "sealed until 2051-01-01")
    exported = [json.loads(x) for x in cli("export").stdout.splitlines()]
    mine = [r for r in exported if r["accession"] == "QXS-L-00001"]
    assert mine and all(r["access_until"] == "2051-01-01" for r in mine)
    assert all(r["access_until"] is None for r in exported if r["accession"] != "QXS-L-00001")
    listed = {x["accession"]: x["access_until"] for x in
              map(json.loads, cli("items", "list", "--json").stdout.splitlines())}
    assert listed["QXS-L-00001"] == "2051-01-01" and listed["QXS-P-00001"] is None
    with catalog.session() as s:
        events = s.scalars(select(Event).where(Event.field == "access_until")).all()
        assert [(e.old_value, e.new_value, e.agent) for e in events] == \
            [(None, "2051-01-01", "Li Wei")]
    assert accessions(cli, "导弹") == []  # restricted, sealed: not public
    bad = cli("edit", "QXS-L-00001", "--access-until", "someday")
    assert bad.exit_code == 2 and "as a sealing date" in bad.stderr
    assert cli("edit", "QXS-L-00001", "--access-until", "").exit_code == 0  # unseal
    assert item(catalog, "QXS-L-00001").access_until is None


@pytest.mark.parametrize("engine", ENGINES)
def test_a_past_sealing_date_opens_the_item(engine, monkeypatch, cli, catalog,
                                            small):  # noqa: F811
    monkeypatch.setenv("ARCHIVE_SEARCH_ENGINE", engine)
    assert cli("reindex", "--quiet").exit_code == 0
    assert cli("edit", "QXS-L-00001", "--access", "closed").exit_code == 0
    assert accessions(cli, "导弹") == []
    result = cli("edit", "QXS-L-00001", "--access-until", "2020-06-30")
    assert result.exit_code == 0, result.output
    assert accessions(cli, "导弹") == ["QXS-L-00001"]  # the index caught up, and honours it
    assert "open since 2020-06-30 (sealing date)" in cli("show", "QXS-L-00001").stdout


def test_the_index_opens_a_sealed_item_on_its_day_without_reindexing(cli, catalog,
                                                                     small):  # noqa: F811
    tomorrow = today() + dt.timedelta(days=1)
    assert cli("edit", "QXS-L-00001", "--access", "restricted",
               "--access-until", tomorrow.isoformat()).exit_code == 0
    assert accessions(cli, "导弹") == []
    with catalog.session() as s:
        item_id = s.scalar(select(Item.id).where(Item.accession == "QXS-L-00001"))
    only_it = Field("accession", "QXS-L-00001")
    with SearchService(catalog) as service:
        searcher = service._current()
        query = compile_tree(only_it, searcher.compiler())
        everyone = searcher.run(query, None, False, 10, 0, False)
        on_the_day = {day: searcher.run(query, public_only(day_number(day)), False, 10, 0, False)
                      for day in (today(), tomorrow)}
    assert [fields["item_id"] for _, fields in everyone.page] == [item_id]
    assert on_the_day[today()].total == 0
    assert on_the_day[tomorrow].total == 1  # the same index, the next day: open


def test_manifest_column_access_until(cli, catalog, small, tmp_path: Path):  # noqa: F811
    manifest = write_manifest(tmp_path / "m.csv", [
        ["path", "access", "access_until"],
        ["钱学森/照片/lab_1956.jpg", "closed", "2051年"]])
    result = cli("ingest", str(small), "--manifest", str(manifest), "--quiet")
    assert result.exit_code == 0, result.output
    assert item(catalog, "QXS-P-00001").access_until == dt.date(2051, 1, 1)
    bad = write_manifest(tmp_path / "bad.csv", [
        ["path", "access_until"], ["钱学森/照片/lab_1956.jpg", "circa 2051"]])
    result = cli("ingest", str(small), "--manifest", str(bad), "--quiet")
    assert result.exit_code == 2
    assert "row 2: cannot read 'circa 2051' as a sealing date" in result.stderr
    with catalog.session() as s:  # a date passing is no change: the rule reads it
        s.execute(update(Item).where(Item.accession == "QXS-P-00001")
                  .values(access_until=dt.date(2000, 1, 1)))
    assert "open since 2000-01-01" in cli("show", "QXS-P-00001").stdout
