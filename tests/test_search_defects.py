"""Search defects found by a new user (#12.8, #12.20, #12.21, #12.22), typed index errors
(#13.5) and the read-only search service the site uses (#13.4), on the gold records of
test_search plus a scientist known by a romanised name."""
from __future__ import annotations

import datetime as dt
import json
import os
import stat

import pytest
from click.testing import CliRunner

from archive.cli import main
from archive.errors import IndexBusy, IndexDamaged, IndexMissing, IndexProblem
from archive.models import Item
from archive.names import name_parts
from archive.scientists import ScientistRecord
from search.index import open_index, rebuild, update
from search.query import Range, complete_names, filters_only, parse_query
from search.searcher import SearchOptions, SearchService, search
from tests.damage import damage_index
from tests.test_search import (
    QIAN, RECORDS, SCIENTISTS, _add_records, _open, cli_env, engine, needs_tantivy,
)

__all__ = ["engine"]  # the fixture: tests taking `names` run on both engines

HUA = ("HLG-M-00001", "华罗庚", "manuscript", "1957", "数论导引", "", "关于堆垒素数论的讲义。",
       None, "open", None)


@pytest.fixture(scope="module")
def names(tmp_path_factory, engine):
    SCIENTISTS.append(ScientistRecord("华罗庚", ("Hua Luogeng",)))
    try:
        catalog = _open(tmp_path_factory.mktemp("names"), engine)
        _add_records(catalog, [*RECORDS, HUA])
    finally:
        SCIENTISTS.pop()
    rebuild(catalog)
    return catalog


def found(catalog, query="", **kw) -> set[str]:
    return {h["accession"] for h in search(catalog, SearchOptions(query=query, limit=100,
                                                                  **kw)).hits}


def run(catalog, *args: str):
    return CliRunner(env=cli_env(catalog)).invoke(main, ["--catalog", catalog.settings.catalog,
                                                        *args])


# -- #12.8 filter-only queries typed as text ---------------------------------------------------

@pytest.mark.parametrize("query, option", [
    ("type:letter", {"type": "letter"}),
    ("scientist:qianxuesen", {"scientist": "qianxuesen"}),
    ("date:1940..1960", {"year_from": 1940, "year_to": 1960}),
    ("type:letter date:1940..1960", {"type": "letter", "year_from": 1940, "year_to": 1960}),
])
def test_filter_only_query_is_in_date_order_without_score(names, query, option):
    typed = search(names, SearchOptions(query=query, limit=100)).hits
    given = search(names, SearchOptions(limit=100, **option)).hits
    assert [h["accession"] for h in typed] == [h["accession"] for h in given]
    assert len(typed) >= 2 and all(h["score"] is None for h in typed)


def test_filter_only_order_is_by_date(names):
    hits = search(names, SearchOptions(query="type:letter", limit=100)).hits
    assert [h["date"] for h in hits] == ["1950-03", "1956-02-17", "1958-05", "1960"]


def test_words_still_rank(names):
    hits = search(names, SearchOptions(query="导弹 type:letter", limit=100)).hits
    assert hits and all(isinstance(h["score"], float) for h in hits)


def test_filters_only_is_decided_by_the_query_tree():
    for q in ("type:photograph", "scientist:qianxuesen date:1940..1960",
              "type:letter OR type:audio", "-type:letter", "(type:letter) -access:closed"):
        assert filters_only(parse_query(q)), q
    for q in ("火箭 type:letter", "title:火箭", "type:letter OR 火箭", "scientist:钱学森 Xuesen"):
        assert not filters_only(parse_query(q)), q


def test_exhibit_query_of_filters_adds_in_date_order(names, tmp_path):
    assert run(names, "exhibit", "create", "letters", "--title", "Letters").exit_code == 0
    assert run(names, "exhibit", "add", "letters", "--query", "type:letter").exit_code == 0
    shown = json.loads(run(names, "exhibit", "show", "letters", "--json").stdout)
    objects = shown["objects"] if isinstance(shown, dict) else shown
    order = [o["accession"] for o in objects]
    assert order == [h["accession"] for h in search(names, SearchOptions(type="letter")).hits]
    assert order[0] == "QXS-L-00001"  # 1950-03 first


# -- #12.20 a query may start with '-' ---------------------------------------------------------

def test_cli_query_may_start_with_a_dash(names):
    everything = json.loads(run(names, "search", "--json", "--limit", "100").stdout)["total"]
    for args in (["-火箭", "--json"], ["--json", "-火箭"], ["--json", "--", "-火箭"]):
        r = run(names, "search", "--limit", "100", *args)
        assert r.exit_code == 0, r.output
        data = json.loads(r.stdout)
        assert data["total"] == everything - 1
        assert "ZJZ-V-00001" not in {h["accession"] for h in data["hits"]}
    # unquoted words with an exclusion, options after them
    r = run(names, "search", "导弹", "-scientist:钱学森", "--json")
    assert {h["accession"] for h in json.loads(r.stdout)["hits"]} == {"QSQ-L-00001",
                                                                     "ZJZ-L-00001"}
    # a word that starts like the help option is still a query word
    assert run(names, "search", "-help", "--json").exit_code == 0


def test_cli_mistyped_long_option_is_still_an_error(names):
    r = run(names, "search", "火箭", "--limt", "5")
    assert r.exit_code == 2 and "No such option '--limt'" in r.output
    assert "--limit" in r.output  # did you mean


# -- #12.21 romanised names alone ---------------------------------------------------------------

def test_name_parts():
    assert name_parts("钱学森") == {"qian", "xuesen"}
    assert name_parts("Tsien Hsue-shen") == {"tsien", "hsueshen"}
    assert name_parts("欧阳自远") == {"ouyang", "ziyuan"}
    assert name_parts("曾庆存") == {"zeng", "ceng", "qingcun"}
    assert name_parts("Qian") == set()


@pytest.mark.parametrize("query, expected", [
    ("Tsien", QIAN), ("Xuesen", QIAN), ("xuesen", QIAN), ("Hsue-shen", QIAN),
    ("scientist:Tsien", QIAN), ("scientist:xuesen", QIAN),
    ("qian", QIAN | {"QSQ-L-00001"}),  # a surname finds every scientist it can belong to
    ("scientist:qian", QIAN | {"QSQ-L-00001"}),
    ("Hua", {"HLG-M-00001"}), ("Luogeng", {"HLG-M-00001"}),
    ("scientist:Hua Luogeng", {"HLG-M-00001"}),  # the following word completes the name
    ("scientist:Hua Luogeng 讲义", {"HLG-M-00001"}),
    ("scientist:Hua Luogeng 导弹", set()),
    ("scientist:华罗庚", {"HLG-M-00001"}),
    # whole names stay whole: one Qian's full name never finds the other
    ("scientist:qianxuesen", QIAN), ("scientist:钱三强", {"QSQ-L-00001"}),
    ("学森", {"QXS-L-00002", "ZJZ-L-00001"}),  # characters alone stay text
])
def test_romanised_names_alone(names, query, expected):
    assert found(names, query) == expected


def test_completed_name_is_a_filter(names):
    hits = search(names, SearchOptions(query="scientist:Hua Luogeng")).hits
    assert [h["score"] for h in hits] == [None]
    tree = complete_names(parse_query("scientist:Hua Luogeng 数学"),
                          lambda name: name == "Hua Luogeng")
    assert str(tree) == ("And(nodes=(Field(field='scientist', value='Hua Luogeng'), "
                         "Text(value='数学', phrase=False, field=None)))")


def test_unquoted_unknown_name_gets_a_hint(names):
    r = search(names, SearchOptions(query="scientist:Hua Xiaoming"))
    assert r.total == 0
    assert 'scientist:"Hua Xiaoming"' in r.index_note
    cli = run(names, "search", "scientist:Hua Xiaoming")
    assert 'quote the name: scientist:"Hua Xiaoming"' in cli.stderr


# -- #12.22 decades ---------------------------------------------------------------------------

@pytest.mark.parametrize("query", ["年代:1950s", "date:1950s", "decade:1950s", "年代:1950年代",
                                   "date:1950..1959"])
def test_decades(names, query):
    assert parse_query(query) == Range("date", 1950, 1959)
    assert found(names, query) == found(names, year_from=1950, year_to=1959)


def test_decade_ranges():
    assert parse_query("date:1950s..1960s") == Range("date", 1950, 1969)
    assert parse_query("date:>1950s") == Range("date", 1960, None)
    assert parse_query("date:<1950s") == Range("date", None, 1949)
    assert parse_query("date:>=1950s") == Range("date", 1950, None)


# -- #13.5 typed index errors -----------------------------------------------------------------

def test_index_errors_are_typed(tmp_path, monkeypatch):
    catalog = _open(tmp_path)
    _add_records(catalog, RECORDS[:3])
    with pytest.raises(IndexMissing):
        open_index(catalog)
    rebuild(catalog)
    monkeypatch.setenv("ARCHIVE_INDEX_WAIT", "0.2")
    from archive.catalog import Catalog
    from archive.settings import load_settings
    impatient = Catalog.open(load_settings({"catalog": catalog.settings.catalog,
                                            "index_dir": str(catalog.settings.index_dir),
                                            "search_engine": "whoosh"}))
    writer = open_index(catalog).writer()
    try:
        with impatient.session() as s:
            s.query(Item).filter_by(accession="QXS-L-00001").one().updated_at = \
                dt.datetime.now() + dt.timedelta(seconds=5)
        with pytest.raises(IndexBusy, match="still busy"):
            update(impatient)
    finally:
        writer.cancel()
    damage_index(catalog.settings.index_dir)
    with pytest.raises(IndexDamaged, match="archive reindex"):
        open_index(catalog)
    assert issubclass(IndexDamaged, IndexProblem)


def test_a_bug_in_a_document_is_a_bug(tmp_path, monkeypatch, engine):
    """Fault injection: a document builder that fails with TypeError, as a bug would. The
    update must raise it, not call it damage and rebuild the index behind the user's back."""
    from search import documents
    catalog = _open(tmp_path, engine)
    _add_records(catalog, RECORDS[:3])
    rebuild(catalog)
    built = catalog.settings.index_dir.stat().st_ino
    with catalog.session() as s:
        s.query(Item).filter_by(accession="QXS-L-00001").one().updated_at = \
            dt.datetime.now() + dt.timedelta(seconds=5)

    def broken(*args, **kwargs):
        raise TypeError("unsupported operand type(s) for +: 'int' and 'str'")
    monkeypatch.setattr(documents, "_document", broken)
    with pytest.raises(TypeError, match="unsupported operand"):
        update(catalog)
    assert catalog.settings.index_dir.stat().st_ino == built  # not rebuilt
    monkeypatch.undo()
    assert update(catalog) >= 1  # the lock was released


# -- #13.4 the read-only service ----------------------------------------------------------------

def _snapshot(folder) -> dict[str, tuple[int, int]]:
    return {p.name: (p.stat().st_size, p.stat().st_mtime_ns) for p in folder.iterdir()}


def test_read_only_service_never_writes(tmp_path, engine):
    catalog = _open(tmp_path, engine)
    _add_records(catalog, RECORDS[:5])
    rebuild(catalog)
    _add_records(catalog, RECORDS[5:7])  # the catalog moves on behind the index
    index_dir = catalog.settings.index_dir
    before = _snapshot(index_dir)
    with SearchService(catalog) as service:
        result = service.search(SearchOptions(query="导弹"))
        assert result.behind == 2 and "behind the catalog by 2 item(s)" in result.index_note
        assert "ZJZ-L-00001" not in {h["accession"] for h in result.hits}
        assert _snapshot(index_dir) == before
        # someone else (an ingest, reindex) brings the index up to date: the service sees it
        rebuild(catalog)
        service.FRESHNESS_EVERY = 0
        result = service.search(SearchOptions(query="导弹"))
        assert result.behind == 0 and result.index_note == ""
        assert "ZJZ-L-00001" in {h["accession"] for h in result.hits}
    # the CLI search may catch up
    _add_records(catalog, RECORDS[7:])
    r = run(catalog, "search", "ＤＮＡ")
    assert "the index was behind the catalog" in r.stderr and "1 result" in r.stdout


def test_read_only_service_reads_a_read_only_index(tmp_path, engine):
    catalog = _open(tmp_path, engine)
    _add_records(catalog, RECORDS[:5])
    rebuild(catalog)
    index_dir = catalog.settings.index_dir
    mode = index_dir.stat().st_mode
    os.chmod(index_dir, stat.S_IRUSR | stat.S_IXUSR)
    try:
        with SearchService(catalog) as service:
            assert service.search(SearchOptions(query="导弹")).total == 3
    finally:
        os.chmod(index_dir, mode)


# -- the index follows the change log (issue 14) ----------------------------------------------

def test_index_follows_the_change_log(tmp_path, engine):
    """A change another server made with its clock behind (updated_at older than the index's
    mark) is still applied: the change log's seq, not the clock, says what changed."""
    from archive.changes import latest_seq, record_changes
    from search.state import freshness, read_state
    catalog = _open(tmp_path, engine)
    _add_records(catalog, RECORDS)
    rebuild(catalog)
    assert read_state(catalog.settings.index_dir).seq == 0
    long_ago = dt.datetime(2000, 1, 1)
    with catalog.session() as s:
        item = s.query(Item).filter_by(accession="ZJZ-V-00001").one()
        item.title = "探空火箭讲座 风洞"
        s.flush()
        record_changes(s, {item.id})
        s.query(Item).filter_by(id=item.id).update({"updated_at": long_ago})
    with catalog.session() as s:  # change rows are written as their transaction commits
        seq = latest_seq(s)
    assert seq > 0 and freshness(catalog).stale
    with SearchService(catalog) as service:
        assert service.search(SearchOptions(query="风洞")).behind == 1
    assert found(catalog, "风洞") == {"ZJZ-V-00001"}  # the CLI's search caught up
    assert read_state(catalog.settings.index_dir).seq == seq
    assert not freshness(catalog).stale


# -- the engine setting (issue 14) --------------------------------------------------------------

@needs_tantivy
def test_engine_setting_and_an_index_of_the_other_engine(tmp_path):
    from archive.errors import UsageError
    from archive.settings import load_settings
    with pytest.raises(UsageError, match="search_engine must be one of whoosh, tantivy"):
        load_settings({"search_engine": "lucene"}, environ={})
    assert load_settings({}, environ={"ARCHIVE_SEARCH_ENGINE": "tantivy"}).search_engine == \
        "tantivy"
    built = _open(tmp_path, "whoosh")
    _add_records(built, RECORDS)
    rebuild(built)
    other = _open(tmp_path, "tantivy")
    with pytest.raises(IndexMissing, match="built by the whoosh engine"), \
            SearchService(other) as service:
        service.search(SearchOptions(query="导弹"))  # the site says to reindex
    r = run(other, "search", "导弹")
    assert r.exit_code == 2 and "built by the whoosh engine" in r.stderr
    assert "archive reindex" in r.stderr
    assert run(other, "reindex").exit_code == 0
    assert json.loads(run(other, "search", "导弹", "--json").stdout)["total"] == 4


# Holds a searcher (and so Tantivy's maps of the segment files) across the damage, then reads
# every document through it, as the background reload Tantivy starts on each open does for a
# moment after the last Python reference is gone: a file truncated under a map kills the
# process with SIGBUS (signal 7). A new open must still find the damage.
HELD_ACROSS_DAMAGE = """
import sys
from pathlib import Path
from archive.errors import IndexDamaged
from search.engines import tantivy as engine
from search.state import write_state
from tests.damage import damage_index

folder = Path(sys.argv[1])
folder.mkdir()
built = engine.create(folder)
writer = engine.writer(built, folder, 5.0)
for n in range(3000):
    writer.add({"item_id": n, "accession": f"A-{n:05d}", "type": "letter",
                "title": f"letter {n}", "content": "rocket guidance and control " * 20})
writer.commit()
held = engine.searcher(engine.open_index(folder), folder)
write_state(folder, 3000, None, 0, "tantivy")
damage_index(folder)
for n in range(held.searcher.num_docs):
    held.searcher.doc(engine.tantivy.DocAddress(0, n))
try:
    engine.open_index(folder)
except IndexDamaged:
    print("damaged")
"""


@needs_tantivy
def test_damaging_an_index_kills_no_mapping(tmp_path):
    """The tests' damage (tests.damage) never truncates a file Tantivy may still have mapped:
    with a searcher held across it, reading through that searcher goes on and a new open says
    the index is damaged. Damage written in place ended the process with SIGBUS."""
    import subprocess
    import sys
    from pathlib import Path
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", HELD_ACROSS_DAMAGE, str(tmp_path / "index")],
                          cwd=root, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"exit {done.returncode}: {done.stderr[-2000:]}"
    assert done.stdout.split() == ["damaged"]


@needs_tantivy
def test_damaged_tantivy_index(tmp_path):
    """Tantivy panics on damaged files (a BaseException from Rust): it must become IndexDamaged,
    a one-line message, and the next update mends the index."""
    catalog = _open(tmp_path, "tantivy")
    _add_records(catalog, RECORDS)
    rebuild(catalog)
    damage_index(catalog.settings.index_dir)
    with pytest.raises(IndexDamaged, match="archive reindex"), SearchService(catalog) as service:
        service.search(SearchOptions(query="导弹", facets=True))
    r = run(catalog, "search", "导弹")
    assert r.exit_code == 2 and "archive reindex" in r.stderr and "Traceback" not in r.output
    with catalog.session() as s:
        s.query(Item).filter_by(accession="QXS-L-00001").one().updated_at = \
            dt.datetime.now() + dt.timedelta(seconds=5)
    assert update(catalog) == len(RECORDS)  # an ingest or edit mends it: rebuilt
    assert found(catalog, "导弹") == {"QXS-L-00001", "QXS-L-00002", "QSQ-L-00001",
                                      "ZJZ-L-00001"}
