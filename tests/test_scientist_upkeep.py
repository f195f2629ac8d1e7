"""Scientists after the fact (#11 Scientists, #12.7): merge keeps accession numbers, rename
keeps the old name as a variant, edit corrects facts, and adding a name that is someone's
already is refused with the command to run."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from test_editing import accessions

from archive.models import Event, Item, Scientist
from benchmarks.generators.samples import make_jpeg
from archive.scientist_upkeep import clashes
from archive.scientists import ScientistRecord, upsert_scientist


def names(cli) -> dict[str, list[str]]:
    return {r["name"]: r["variants"] for r in json.loads(cli("scientists", "list", "--json")
                                                         .stdout)}


def test_clash_rule():
    assert clashes("朱光亚", {"Zhu Guangya": ({"zhuguangya"}, {"zhuguangya"})}) == \
        ["Zhu Guangya"]
    assert clashes("王立", {"王力": ({"王力", "wangli", "liwang"}, {"王力"})}) == []
    assert clashes("Qian Xuesen", {"钱学森": ({"钱学森", "qianxuesen"}, {"钱学森"})}) == \
        ["钱学森"]


def test_adding_a_name_someone_has_is_refused_with_the_command(cli):
    assert cli("scientists", "add", "Zhu Guangya").exit_code == 0
    result = cli("scientists", "add", "朱光亚", "--variant", "Zhu Guangya")
    assert result.exit_code == 2
    assert len(result.stderr.strip().splitlines()) == 1
    assert "matches the existing scientist 'Zhu Guangya'" in result.stderr
    assert 'archive scientists rename "Zhu Guangya" 朱光亚' in result.stderr
    assert "archive scientists merge" in result.stderr
    assert list(names(cli)) == ["Zhu Guangya"]
    # Even when 朱光亚 is recorded as its variant already.
    assert cli("scientists", "add", "Zhu Guangya", "--variant", "朱光亚").exit_code == 0
    result = cli("scientists", "add", "朱光亚")
    assert result.exit_code == 2 and "'Zhu Guangya'" in result.stderr
    assert list(names(cli)) == ["Zhu Guangya"]
    # Adding facts or a new variant to an existing scientist still works.
    assert cli("scientists", "add", "Zhu Guangya", "--born", "1924").exit_code == 0
    # Same sound, different characters: a different person may be added.
    assert cli("scientists", "add", "王力").exit_code == 0
    assert cli("scientists", "add", "王立").exit_code == 0


def test_two_records_of_one_person_merge_keeping_accession_numbers(cli, tmp_path, catalog):
    coll = tmp_path / "coll"
    make_jpeg(coll / "朱光亚" / "照片" / "a_1950.jpg")
    make_jpeg(coll / "Zhu Guangya" / "照片" / "b_1960.jpg")
    make_jpeg(coll / "Zhu Guangya" / "照片" / "c_1961.jpg")
    assert cli("scientists", "add", "朱光亚", "--born", "1924").exit_code == 0
    with catalog.session() as s:  # a second record, as the old `scientists add` made (#12.7)
        upsert_scientist(s, ScientistRecord("Zhu Guangya", ("Guangya Zhu",), died=2011))
    assert cli("ingest", str(coll), "--quiet").exit_code == 0
    with catalog.session() as s:
        before = {i.accession: i.scientist.name for i in s.scalars(select(Item))
                  if i.scientist}
    assert sorted(before.values()) == ["Zhu Guangya", "Zhu Guangya", "朱光亚"]

    result = cli("scientists", "merge", "Zhu Guangya", "朱光亚", "--by", "Li Wei")
    assert result.exit_code == 0, result.output
    assert "2 item(s) moved" in result.stdout
    with catalog.session() as s:
        after = {i.accession: i.scientist.name for i in s.scalars(select(Item))
                 if i.scientist}
        assert set(after) == set(before)  # accession numbers do not change
        assert set(after.values()) == {"朱光亚"}
        merged = s.scalars(select(Scientist)).one()
        assert (merged.born, merged.died) == (1924, 2011)
        events = s.scalars(select(Event).where(Event.kind == "merge",
                                               Event.item_id.is_not(None))).all()
        assert len(events) == 2 and {e.agent for e in events} == {"Li Wei"}
    assert set(names(cli)["朱光亚"]) >= {"Zhu Guangya", "Guangya Zhu"}
    found = accessions(cli, 'scientist:"Guangya Zhu"')
    assert sorted(found) == sorted(before)
    assert cli("scientists", "merge", "朱光亚", "Zhu Guangya").exit_code == 2  # one now


def test_rename_keeps_the_old_name_as_a_variant(cli, tmp_path, catalog):
    make_jpeg(tmp_path / "coll" / "Zhu Guangya" / "照片" / "a_1950.jpg")
    assert cli("scientists", "add", "Zhu Guangya").exit_code == 0
    assert cli("ingest", str(tmp_path / "coll"), "--quiet").exit_code == 0
    result = cli("scientists", "rename", "Zhu Guangya", "朱光亚")
    assert result.exit_code == 0, result.output
    assert names(cli) == {"朱光亚": ["Zhu Guangya"]}
    assert accessions(cli, "scientist:朱光亚") == ["ZG-P-00001"]  # the code stays
    assert accessions(cli, 'scientist:"Zhu Guangya"') == ["ZG-P-00001"]
    result = cli("search", "scientist:朱光亚", "--json")
    assert json.loads(result.stdout)["hits"][0]["scientist"] == "朱光亚"
    assert cli("scientists", "add", "钱学森").exit_code == 0
    result = cli("scientists", "rename", "朱光亚", "钱学森")
    assert result.exit_code == 2 and "archive scientists merge" in result.stderr


@pytest.mark.parametrize("args, expected", [
    (("--born", "1924", "--died", "2011", "--field", "核物理"),
     {"born": 1924, "died": 2011, "field": "核物理"}),
])
def test_edit_facts(cli, catalog, args, expected):
    assert cli("scientists", "add", "朱光亚", "--variant", "Zhu Guangya").exit_code == 0
    result = cli("scientists", "edit", "zhu guangya", *args, "--biography", "两弹一星元勋")
    assert result.exit_code == 0, result.output
    assert "朱光亚" not in result.stdout or "born: ∅ → 1924" in result.stdout
    with catalog.session() as s:
        sci = s.scalars(select(Scientist)).one()
        assert {k: getattr(sci, k) for k in expected} == expected
        assert sci.biography == "两弹一星元勋"
        assert len(s.scalars(select(Event)).all()) == 4
    result = cli("scientists", "edit", "朱光亚", "--died", "1900")
    assert result.exit_code == 2 and "before born" in result.stderr
    assert cli("scientists", "edit", "Nobody", "--born", "1900").exit_code == 2


def test_readme_documents_the_commands():
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text("utf-8")
    for text in ("archive scientists merge FROM INTO", "archive scientists rename NAME",
                 "archive scientists edit NAME"):
        assert text in readme
