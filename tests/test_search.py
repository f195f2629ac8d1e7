"""Search: a gold set of Chinese and English queries over generated catalog records, the query
language, restricted items, and the index's life (missing, stale, damaged, locked). The tests
that take the `engine` fixture (through `gold`) run on both engines, Whoosh and Tantivy, and
must give the same answers; the rest test Whoosh's own index files."""
from __future__ import annotations

import datetime as dt
import importlib.util
import json
import threading
import time

import pytest

from archive.catalog import Catalog
from archive.dates import parse_date
from archive.errors import QueryError
from archive.models import File, FileText, Item, Root
from archive.scientists import ScientistRecord, upsert_scientist
from search.index import freshness, open_index, rebuild, update
from search.query import And, Field, Not, Or, Range, Text, parse_query
from search.searcher import SearchOptions, search
from tests.catalogs import catalog_settings
from tests.damage import damage_index

SCIENTISTS = [
    ScientistRecord("钱学森", ("Qian Xuesen", "Tsien Hsue-shen", "錢學森")),
    ScientistRecord("钱三强", ("Qian Sanqiang",)),
    ScientistRecord("赵九章", ("Zhao Jiuzhang",)),
]
# (accession, scientist, type, date, title, description, text, seconds, access, cues)
RECORDS = [
    ("QXS-L-00001", "钱学森", "letter", "1950-03", "致友人信", "繁體信件",
     "關於導彈研究的報告，請審閱。", None, "open", None),
    ("QXS-L-00002", "钱学森", "letter", "1956-02-17", "钱学森致陈赓信", "",
     "关于建立力学研究所的意见。导弹研究应当先行。", None, "open", None),
    ("QXS-M-00001", "钱学森", "manuscript", "1954", "Engineering Cybernetics draft",
     "English manuscript", "Rockets and guided missiles; feedback control of rocket flight.",
     None, "open", None),
    ("QXS-A-00001", "钱学森", "audio", "1990", "访谈 第一部分", "口述历史",
     None, 3600.0, "open",
     [[0.0, 5.0, "我们开始访谈。"], [5.0, 125.5, "谈谈五十年代。"],
      [125.5, 130.0, "然后讲到人造卫星的设想。"], [130.0, 3600.0, "结束。"]]),
    ("QSQ-L-00001", "钱三强", "letter", "1960", "钱三强来信", "",
     "研究导弹的同志们：原子能的工作很重要。", None, "open", None),
    ("ZJZ-L-00001", "赵九章", "letter", "1958-05", "致学森同志", "",
     "学森同志：关于人造卫星的设想，请提意见。导弹的研究也要配合。", None, "open", None),
    ("ZJZ-V-00001", "赵九章", "video", "1964", "探空火箭讲座", "", None, 600.0, "open", None),
    ("ZJZ-D-00001", "赵九章", "document", "circa 1962", "ＤＮＡ and weather notes",
     "全角字母", "Notes on ＤＮＡ? No: on the upper atmosphere.", None, "open", None),
    ("QXS-D-00001", "钱学森", "document", "1965", "内部报告", "",
     "绝密文件：关于导弹试验的安排。", None, "restricted", None),
    ("QXS-D-00002", "钱学森", "document", "1966", "封存档案", "",
     "封闭的档案材料，绝密。", None, "closed", None),
]


# A worktree made before tantivy joined the dependencies skips its half until `make install`.
needs_tantivy = pytest.mark.skipif(importlib.util.find_spec("tantivy") is None,
                                   reason="tantivy not installed: make install")
ENGINES = ("whoosh", pytest.param("tantivy", marks=needs_tantivy))


def _open(folder, engine: str = "whoosh") -> Catalog:
    return Catalog.open(catalog_settings(folder / "catalog.db", search_engine=engine))


def cli_env(catalog: Catalog) -> dict[str, str]:
    """The environment a CLI run needs to use the same engine as `catalog`."""
    return {"ARCHIVE_SEARCH_ENGINE": catalog.settings.search_engine,
            "ARCHIVE_INDEX_DIR": str(catalog.settings.index_dir),
            "ARCHIVE_DERIVATIVES_DIR": str(catalog.settings.derivatives_dir)}


@pytest.fixture(scope="module", params=ENGINES)
def engine(request) -> str:
    return request.param


def _add_records(catalog: Catalog, records) -> None:  # type: ignore[no-untyped-def]
    with catalog.session() as s:
        root = s.query(Root).first()
        if root is None:
            root = Root(path=str(catalog.settings.index_dir.parent / "files"))
            s.add(root)
            s.flush()
        ids = {r.name: upsert_scientist(s, r)[0].id for r in SCIENTISTS}
        for acc, sci, mtype, date, title, desc, text, seconds, access, cues in records:
            d = parse_date(date)
            item = Item(accession=acc, title=title, type=mtype, scientist_id=ids[sci],
                        date=d.text, date_start=d.start, date_end=d.end,
                        date_precision=d.precision, description=desc or None, access=access,
                        seconds=seconds, root_id=root.id, key=acc)
            s.add(item)
            s.flush()
            f = File(item_id=item.id, root_id=root.id, path=f"{acc}.txt", folder="",
                     size=1, mtime_ns=0, role="master", sha256=acc.lower().ljust(64, "0"),
                     format="txt")
            s.add(f)
            s.flush()
            if text or cues:
                body = text or "\n".join(c[2] for c in cues)
                s.add(FileText(file_id=f.id, text=body, cues=cues))


@pytest.fixture(scope="module")
def gold(tmp_path_factory, engine):
    catalog = _open(tmp_path_factory.mktemp("search"), engine)
    _add_records(catalog, RECORDS)
    rebuild(catalog)
    return catalog


def accessions(catalog, query="", **kw):
    return {h["accession"] for h in search(catalog, SearchOptions(query=query, limit=100,
                                                                  **kw)).hits}


QIAN = {"QXS-L-00001", "QXS-L-00002", "QXS-M-00001", "QXS-A-00001"}


@pytest.mark.parametrize("query, expected", [
    # simplified finds traditional and back
    ("导弹", {"QXS-L-00001", "QXS-L-00002", "QSQ-L-00001", "ZJZ-L-00001"}),
    ("導彈", {"QXS-L-00001", "QXS-L-00002", "QSQ-L-00001", "ZJZ-L-00001"}),
    ("报告", {"QXS-L-00001"}),
    # a two-character term inside a longer run, and inside a name
    ("研究所", {"QXS-L-00002"}),
    ("学森", {"QXS-L-00002", "ZJZ-L-00001"}),
    ("人造卫星", {"QXS-A-00001", "ZJZ-L-00001"}),
    # phrases keep their order; free words do not need to be adjacent
    ('"导弹研究"', {"QXS-L-00001", "QXS-L-00002"}),
    ('"研究导弹"', {"QSQ-L-00001"}),
    ("导弹 卫星", {"ZJZ-L-00001"}),
    # English: case, stemming, full-width letters
    ("rockets", {"QXS-M-00001"}),
    ("ROCKET", {"QXS-M-00001"}),
    ("cybernetics", {"QXS-M-00001"}),
    ("DNA", {"ZJZ-D-00001"}),
    ('"guided missiles"', {"QXS-M-00001"}),
    # names in every form; pinyin of one Qian does not find the other
    ("scientist:钱学森", QIAN), ("scientist:錢學森", QIAN), ("scientist:qianxuesen", QIAN),
    ('scientist:"Qian Xuesen"', QIAN), ('scientist:"Tsien Hsue-shen"', QIAN),
    ("Tsien Hsue-shen", QIAN), ("Qian Xuesen", QIAN),
    ("scientist:钱三强", {"QSQ-L-00001"}),
    # fields, ranges, exclusion, OR
    ("type:letter", {"QXS-L-00001", "QXS-L-00002", "QSQ-L-00001", "ZJZ-L-00001"}),
    ("类型:信件 date:1950..1956", {"QXS-L-00001", "QXS-L-00002"}),
    ("date:1958", {"ZJZ-L-00001", "ZJZ-D-00001"}),  # circa 1962 spans 1957-1967
    ("date:..1954", {"QXS-L-00001", "QXS-M-00001"}),
    ("date:1960..1963", {"QSQ-L-00001", "ZJZ-D-00001"}),  # circa 1962 spans 1957-1967
    ("duration:>30m", {"QXS-A-00001"}),
    ("duration:5m..20m", {"ZJZ-V-00001"}),
    ("导弹 -scientist:钱学森", {"QSQ-L-00001", "ZJZ-L-00001"}),
    ("原子能 OR 火箭", {"QSQ-L-00001", "ZJZ-V-00001"}),
    ("(原子能 OR 火箭) type:video", {"ZJZ-V-00001"}),
    ('title:"钱三强"', {"QSQ-L-00001"}),
])
def test_gold_queries(gold, query, expected):
    assert accessions(gold, query) == expected


def test_options_are_shorthands(gold):
    assert accessions(gold, "导弹", scientist="Qian Xuesen") == {"QXS-L-00001", "QXS-L-00002"}
    assert accessions(gold, type="视频") == {"ZJZ-V-00001"}
    assert accessions(gold, year_from=1958, year_to=1961) == {"QSQ-L-00001", "ZJZ-L-00001",
                                                              "ZJZ-D-00001"}


def test_facets_count_the_current_query(gold):
    r = search(gold, SearchOptions(query="导弹", facets=True))
    assert r.total == 4
    assert r.facets["type"] == {"letter": 4}
    assert r.facets["scientist"] == {"钱学森": 2, "赵九章": 1, "钱三强": 1}
    assert r.facets["decade"] == {"1950s": 3, "1960s": 1}


def test_facets_count_across_segments_and_changes(tmp_path, engine):
    """An update adds a segment and replaces changed items: facet codes must still line up
    with document numbers, and a replaced item must count once, with its new values."""
    catalog = _open(tmp_path, engine)
    _add_records(catalog, RECORDS[:5])
    rebuild(catalog)
    _add_records(catalog, RECORDS[5:])
    with catalog.session() as s:
        s.query(Item).filter_by(accession="QXS-L-00002").update(
            {"type": "manuscript", "date_start": dt.date(1971, 1, 1),
             "updated_at": dt.datetime.now(dt.UTC)})
    update(catalog)
    if engine == "whoosh":  # (Tantivy may merge the two segments as it commits)
        with open_index(catalog).searcher() as searcher:
            assert len(list(searcher.leaf_searchers())) == 2
    r = search(catalog, SearchOptions(query="导弹", facets=True))
    assert r.total == 4
    assert r.facets["type"] == {"letter": 3, "manuscript": 1}
    assert r.facets["scientist"] == {"钱学森": 2, "赵九章": 1, "钱三强": 1}
    assert r.facets["decade"] == {"1950s": 2, "1960s": 1, "1970s": 1}
    everything = search(catalog, SearchOptions(facets=True, limit=100))
    assert sum(everything.facets["type"].values()) == everything.total == 8


def test_snippet_and_transcript_time(gold):
    r = search(gold, SearchOptions(query="人造卫星"))
    audio = next(h for h in r.hits if h["accession"] == "QXS-A-00001")
    assert audio["at_seconds"] == 125.5
    assert "<mark>人造卫星</mark>" in audio["snippet"]
    letter = next(h for h in r.hits if h["accession"] == "ZJZ-L-00001")
    assert letter["at_seconds"] is None
    trad = search(gold, SearchOptions(query="导弹研究")).hits
    assert any("<mark>導彈研究</mark>" in h["snippet"] for h in trad)  # original characters


def test_restricted_and_closed_never_leak(gold):
    assert accessions(gold, "绝密") == set()
    r = search(gold, SearchOptions(query="导弹", facets=True))
    assert "QXS-D-00001" not in {h["accession"] for h in r.hits}
    assert r.facets["type"] == {"letter": 4} and "document" not in r.facets["type"]
    assert all("绝密" not in h["snippet"] for h in r.hits)
    everything = search(gold, SearchOptions(facets=True, limit=100))
    assert everything.total == 8
    staff = accessions(gold, "绝密", include_restricted=True)
    assert staff == {"QXS-D-00001", "QXS-D-00002"}


def test_empty_query_lists_by_date(gold):
    hits = search(gold, SearchOptions(limit=3)).hits
    assert [h["accession"] for h in hits] == ["QXS-L-00001", "QXS-M-00001", "QXS-L-00002"]


@pytest.mark.parametrize("bad", ['"导弹', "(导弹", "导弹)", "colour:red", "x" * 10_000,
                                 "a\x00b", "duration:>30", "date:1960..1950", "OR", "type:poem"])
def test_bad_queries_raise_query_error(gold, bad):
    with pytest.raises(QueryError):
        search(gold, SearchOptions(query=bad))


def test_parse_query_tree():
    assert parse_query('scientist:钱学森 "导弹 研究" -卫星') == And((
        Field("scientist", "钱学森"), Text("导弹 研究", phrase=True), Not(Text("卫星"))))
    assert parse_query("a OR b") == Or((Text("a"), Text("b")))
    assert parse_query("duration:10m..1h") == Range("duration", 600, 3600)
    assert parse_query("科学家：钱学森") == Field("scientist", "钱学森")
    assert parse_query("“导弹研究”") == Text("导弹研究", phrase=True)
    assert parse_query("http://example.org 12:30") == And((Text("http://example.org"),
                                                           Text("12:30")))
    assert parse_query("   ") is None


def test_cli_search_json_and_errors(gold, tmp_path):
    from click.testing import CliRunner

    from archive.cli import main
    runner = CliRunner(env=cli_env(gold))
    catalog = gold.settings.catalog
    out = runner.invoke(main, ["--catalog", catalog, "search", "人造卫星", "--json", "--facets"])
    data = json.loads(out.stdout)
    assert set(data) == {"total", "hits", "facets"} and data["total"] == 2
    for key in ("accession", "title", "scientist", "type", "date", "path", "score", "snippet",
                "at_seconds"):
        assert key in data["hits"][0]
    text = runner.invoke(main, ["--catalog", catalog, "search", "人造卫星"])
    assert "▶ 02:05" in text.stdout  # the moment in the interview
    for bad in ['"导弹', "(x", "colour:red", "x" * 10_000, "a\x00b"]:
        r = runner.invoke(main, ["--catalog", catalog, "search", bad])
        assert r.exit_code == 2 and r.stderr.startswith("Error: ")
        assert r.stderr.count("\n") == 1 and "Traceback" not in r.output


@pytest.fixture
def cli_engine(engine, monkeypatch) -> str:
    """Both engines for tests that run the CLI: ARCHIVE_SEARCH_ENGINE as a user would set it."""
    monkeypatch.setenv("ARCHIVE_SEARCH_ENGINE", engine)
    return engine


def _catalog_of(tmp_path, engine: str) -> Catalog:
    return Catalog.open(catalog_settings(tmp_path / "catalog.db", search_engine=engine))


def test_index_missing_stale_damaged(tmp_path, cli, cli_json, cli_engine):
    from benchmarks.generators.samples import make_jpeg
    folder = tmp_path / "coll"
    make_jpeg(folder / "信件" / "letter_1950.jpg")
    code, report = cli_json("ingest", str(folder))
    assert report["indexed"] == 1 and report["index_error"] is None
    assert cli_json("search", "letter")[1]["total"] == 1
    catalog = _catalog_of(tmp_path, cli_engine)
    # stale: the catalog changed behind the index's back -> brought up to date, with a note
    with catalog.session() as s:
        item = s.query(Item).one()
        item.title = "letter about 卫星"
        item.updated_at = dt.datetime.now() + dt.timedelta(seconds=1)
    assert freshness(catalog).stale
    result = cli("search", "卫星")
    assert "Note: the index was behind the catalog" in result.stderr
    assert "1 result" in result.stdout
    # damaged: every segment file overwritten
    index_dir = catalog.settings.index_dir
    damage_index(index_dir)
    result = cli("search", "卫星")
    assert result.exit_code == 2 and "archive reindex" in result.stderr
    assert "Traceback" not in result.output
    assert cli("reindex").exit_code == 0
    assert "1 result" in cli("search", "卫星").stdout
    # missing
    import shutil
    shutil.rmtree(index_dir)
    result = cli("search", "卫星")
    assert result.exit_code == 2 and "no search index" in result.stderr
    assert "archive reindex" in result.stderr


def hold_writer(catalog: Catalog):  # type: ignore[no-untyped-def]
    """Take the index's write lock as another process would; returns the release function."""
    ix = open_index(catalog)
    if catalog.settings.search_engine == "tantivy":
        writer = ix.index.writer(heap_size=20_000_000, num_threads=1)
        return writer.wait_merging_threads  # drops the writer and its lock
    writer = ix.writer()
    return writer.cancel


def test_second_index_writer_waits(gold):
    release_lock = hold_writer(gold)  # another process holding the index's write lock

    def release():
        time.sleep(1.0)
        release_lock()
    started = time.monotonic()  # before the thread: it lets go 1 s after this at least
    threading.Thread(target=release).start()
    with gold.session() as s:
        s.query(Item).filter_by(accession="ZJZ-V-00001").one().updated_at = \
            dt.datetime.now() + dt.timedelta(seconds=5)
    assert update(gold) >= 1  # waited for the lock instead of failing
    assert time.monotonic() - started >= 0.9


def test_busy_index_leaves_ingest_intact(tmp_path, cli_json, monkeypatch, cli_engine):
    """Someone is rebuilding the index (holding its lock) while an archivist ingests: the
    files are catalogued, the report says the index was not updated and what to do."""
    from benchmarks.generators.samples import make_jpeg
    folder = tmp_path / "coll"
    make_jpeg(folder / "a.jpg")
    cli_json("ingest", str(folder))
    catalog = _catalog_of(tmp_path, cli_engine)
    release = hold_writer(catalog)
    try:
        make_jpeg(folder / "b.jpg")
        monkeypatch.setenv("ARCHIVE_INDEX_WAIT", "0.5")
        code, report = cli_json("ingest", str(folder))
    finally:
        release()
    assert (code, report["new"]) == (0, 1)
    assert "still busy" in report["index_error"] and "archive reindex" in report["index_error"]
    assert cli_json("search", "b")[1]["total"] == 1  # the next search catches up


def test_damaged_index_is_mended_by_the_next_ingest(tmp_path, cli_json, cli_engine):
    from benchmarks.generators.samples import make_jpeg
    folder = tmp_path / "coll"
    make_jpeg(folder / "a.jpg")
    cli_json("ingest", str(folder))
    damage_index(tmp_path / "catalog.db.index")
    make_jpeg(folder / "b.jpg")
    code, report = cli_json("ingest", str(folder))
    assert report["indexed"] == 2 and report["index_error"] is None
    assert cli_json("search", "a")[1]["total"] == 1
