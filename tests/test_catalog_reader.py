"""The catalog as a search reads it (archive/catalog_reader.py): the plain-SQL reader answers
exactly what the ORM answers (where the catalog stands, the texts, cues, machine-read pages,
missing files and names a page of hits shows), through sqlite3 on an SQLite file and through
SQLAlchemy Core on any catalog, PostgreSQL included; `archive search` on a current index
answers as the full catalog path does, without importing SQLAlchemy, the models or jieba, and
catches up through the full catalog when the index is behind."""
from __future__ import annotations

import datetime as dt
import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from archive.catalog import Catalog
from archive.catalog_reader import CatalogReader
from archive.changes import latest_seq, record_changes
from archive.models import Change, File, FileText, Item, OcrLine, OcrPage, Scientist
from archive.page_text import texts_by_item
from search.index import rebuild
from search.searcher import SearchOptions, SearchService, search, search_catalog
from search.state import IndexState, freshness, freshness_of, read_state
from tests.catalogs import ON_POSTGRES, catalog_settings
from tests.test_search import RECORDS, _add_records
from tests.test_startup import ARCHIVE, imported_by

# The ORM's answers, as search.searcher and search.state asked them before the reader: the
# reference the reader is held to.


def orm_texts(catalog: Catalog, ids: list[int]) -> dict[int, tuple[list[str], list[Any]]]:
    out: dict[int, tuple[list[str], list[Any]]] = {i: ([], []) for i in ids}
    with catalog.session() as s:
        for item_id, title, description in s.execute(
                select(Item.id, Item.title, Item.description).where(Item.id.in_(ids))):
            out[item_id][0].extend(t for t in (title, description) if t)
        for item_id, text, cues in s.execute(
                select(File.item_id, FileText.text, FileText.cues)
                .join(FileText, FileText.file_id == File.id)
                .where(File.item_id.in_(ids)).order_by(File.path)):
            out[item_id][0].append(text)
            if cues:
                out[item_id][1].append(cues)
    return out


def orm_missing(catalog: Catalog, ids: list[int]) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    with catalog.session() as s:
        for item_id, path in s.execute(
                select(File.item_id, File.path).where(File.item_id.in_(ids),
                                                      File.status == "missing")
                .order_by(File.path)):
            out.setdefault(item_id, []).append(path)
    return out


def orm_mark(catalog: Catalog) -> tuple[int, dt.datetime | None]:
    with catalog.session() as s:
        updated = s.scalar(select(func.max(Item.updated_at)))
        last_change = s.scalar(select(Change.at).order_by(Change.seq.desc()).limit(1))
        if last_change is not None and (updated is None or last_change > updated):
            updated = last_change
        return s.scalar(select(func.max(Item.id))) or 0, updated


def orm_behind(catalog: Catalog, state: IndexState) -> int:
    since = dt.datetime.fromisoformat(state.updated) if state.updated else None
    late = Item.id > state.items
    if since is not None:
        late = late | (Item.updated_at > since)
    ids = select(Change.item_id).where(Change.seq > state.seq).union(
        select(Item.id).where(late)).subquery()
    with catalog.session() as s:
        return s.scalar(select(func.count()).select_from(ids)) or 0


def _readers(catalog: Catalog) -> list[CatalogReader]:
    """The site's and writers' reader (Core, any database), and on SQLite the CLI's (sqlite3)."""
    readers = [CatalogReader.of(catalog)]
    direct = CatalogReader.open(catalog.settings)
    assert (direct is None) == ON_POSTGRES  # a server's catalog: the full catalog opens it
    return readers + ([direct] if direct is not None else [])


@pytest.fixture
def gold(tmp_path: Path) -> Catalog:
    """The search gold set with what hits show besides: a transcript's cues, a file found
    missing, a two-page scan machine-read (one page read, one failed), restricted items."""
    catalog = Catalog.open(catalog_settings(tmp_path / "catalog.db", search_engine="tantivy"))
    _add_records(catalog, RECORDS)
    with catalog.session() as s:
        letter = s.scalars(select(Item).where(Item.accession == "ZJZ-L-00001")).one()
        for n in (1, 2):
            scan = File(item_id=letter.id, root_id=letter.root_id, path=f"scan_p{n}.jpg",
                        folder="", size=1, mtime_ns=0, role="master", mime="image/jpeg",
                        pages=1, status="missing" if n == 2 else "present")
            s.add(scan)
            s.flush()
            page = OcrPage(file_id=scan.id, page=1, width=600, height=800, engine="rapidocr",
                           model="PP-OCRv5", status="read" if n == 1 else "failed")
            page.lines = [OcrLine(line_no=1, text="关于风洞和导", x=1, y=2, w=3, h=4,
                                  confidence=0.9),
                          OcrLine(line_no=2, text="弹的研究", x=1, y=9, w=3, h=4,
                                  confidence=None)]
            s.add(page)
        s.flush()
        record_changes(s, {letter.id})
    rebuild(catalog)
    yield catalog
    catalog.close()


def test_the_reader_answers_what_the_orm_answers(gold: Catalog):
    with gold.session() as s:
        ids = sorted(s.scalars(select(Item.id)))
        scientists = sorted(s.scalars(select(Scientist.id)))
        names = dict(s.execute(select(Scientist.id, Scientist.name)).all())
        pages = texts_by_item(s, ids)
    assert any(cues for _, cue_lists in orm_texts(gold, ids).values() for cues in cue_lists)
    assert orm_missing(gold, ids) and pages  # what the comparison is about is there
    state = read_state(gold.settings.index_dir)
    assert state is not None and state.seq > 0
    earlier = [state,
               IndexState(state.schema, 0, None, state.built_at, 0, state.engine),
               IndexState(state.schema, ids[3], state.updated, state.built_at, state.seq,
                          state.engine)]
    for reads in _readers(gold):
        with reads:
            assert reads.texts(ids) == orm_texts(gold, ids)
            assert reads.texts(ids[2:5]) == orm_texts(gold, ids[2:5])
            assert reads.missing(ids) == orm_missing(gold, ids)
            assert reads.pages(ids) == pages
            assert reads.scientist_names(scientists) == names
            # more ids than SQLite takes parameters to one query (32,766)
            assert reads.scientist_names(list(range(1, 40_001))) == names
            assert reads.mark() == orm_mark(gold)
            with gold.session() as s:
                assert reads.latest_seq() == latest_seq(s)
            assert [reads.items_behind(e.items, dt.datetime.fromisoformat(e.updated)
                                       if e.updated else None, e.seq) for e in earlier] == \
                [orm_behind(gold, e) for e in earlier] == [0, len(ids), len(ids) - 4]
            assert not freshness_of(reads).stale


def test_a_catalogs_reader_serves_threads_at_once(gold: Catalog):
    """#14: the site searches from several threads through one reader of its catalog: each
    query takes a connection of the pool (on SQLite its own sqlite3 connection), so threads
    reading at once get what one thread gets."""
    from concurrent.futures import ThreadPoolExecutor

    with gold.session() as s:
        ids = sorted(s.scalars(select(Item.id)))
        pages = texts_by_item(s, ids)
    expected = (orm_texts(gold, ids), orm_missing(gold, ids), pages, orm_mark(gold))
    reads = CatalogReader.of(gold)

    def read(_: int) -> tuple[Any, ...]:
        return reads.texts(ids), reads.missing(ids), reads.pages(ids), reads.mark()

    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(read, range(64)))
    assert answers == [expected] * 64


@pytest.mark.sqlite_only("a server's catalog is read through Core, which raises its errors")
def test_a_catalogs_reader_fails_as_the_writers_expect(gold: Catalog):
    """An SQLite catalog the reader cannot read raises SQLAlchemy's error, as Core did: a writer
    catches a busy or broken catalog among INDEX_FAILURES and leaves the index for
    `archive reindex` instead of failing the command that changed the catalog."""
    from sqlalchemy.exc import OperationalError

    from search.state import INDEX_FAILURES
    with gold.engine.begin() as con:
        con.exec_driver_sql("ALTER TABLE changes RENAME TO changes_moved")
    with pytest.raises(INDEX_FAILURES) as failed:
        freshness(gold)
    assert isinstance(failed.value, OperationalError) and "changes" in str(failed.value)


def test_freshness_is_the_same_through_either_reader(gold: Catalog):
    """A change behind the index's back: every reader says the index is behind, as the ORM."""
    with gold.session() as s:
        item = s.scalars(select(Item).where(Item.accession == "ZJZ-V-00001")).one()
        item.title = "探空火箭讲座 风洞"
        item.updated_at = dt.datetime(2000, 1, 1)  # a clock behind: the change log says so
        s.flush()
        record_changes(s, {item.id})
    assert freshness(gold).stale
    for reads in _readers(gold):
        with reads:
            assert freshness_of(reads).stale
            assert reads.mark() == orm_mark(gold)


QUERIES = [
    SearchOptions(query="导弹", facets=True),
    SearchOptions(query="导弹", include_restricted=True, limit=3, offset=1),
    SearchOptions(query="风洞"),  # found in the machine-read page only
    SearchOptions(query="人造卫星"),  # a transcript: the cue's time
    SearchOptions(query="rocket"),
    SearchOptions(query="Qian Xuesen"),
    SearchOptions(query='"导弹研究"'),
    SearchOptions(query="scientist:钱学森 type:letter"),
    SearchOptions(query="date:1950..1960", facets=True),
    SearchOptions(query="绝密"),  # restricted and closed: nothing, without --include-restricted
    SearchOptions(query="绝密", include_restricted=True),
]


def test_the_cli_search_answers_as_the_full_catalog_does(gold: Catalog):
    for options in QUERIES:
        expected = search(gold, options)
        got = search_catalog(gold.settings, options)
        assert (got.to_json(), got.index_note, got.behind) == \
            (expected.to_json(), expected.index_note, expected.behind), options
    hits = {h["accession"]: h for h in search_catalog(gold.settings, QUERIES[2]).hits}
    assert hits["ZJZ-L-00001"]["text_source"] == "ocr"
    assert hits["ZJZ-L-00001"]["missing"] == ["scan_p2.jpg"]
    assert search_catalog(gold.settings, QUERIES[-2]).total == 0
    assert search_catalog(gold.settings, QUERIES[-1]).total == 2


def modules_imported(*args: str) -> set[str]:
    """Every module (dotted names) the real `archive ARGS` imported."""
    done = subprocess.run([str(ARCHIVE.with_name("python")), "-X", "importtime", "-m",
                           "archive", *args], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    return {line.rsplit("|", 1)[1].strip() for line in done.stderr.splitlines()
            if line.startswith("import time:") and "|" in line}


@pytest.mark.sqlite_only("a server's catalog is read through SQLAlchemy")
def test_a_search_of_a_current_index_imports_no_orm_and_a_stale_one_catches_up(gold: Catalog):
    """#13.7, #14: `archive search` starts within 0.3 s of `archive --version` only without
    SQLAlchemy and the models (0.4 s to import): on a current index it reads the catalog
    file through sqlite3. A stale index still catches up first, through the full catalog."""
    catalog = str(gold.settings.catalog_path)
    heavy = {"sqlalchemy", "alembic", "jieba", "rich", "whoosh"}
    for query in (["导弹"], ["rocket", "--facets"], ["风洞"], ["date:1950..1960"]):
        names = imported_by("--catalog", catalog, "search", *query)
        assert "tantivy" in names and names & heavy == set(), query
    modules = modules_imported("--catalog", catalog, "search", "风洞")
    assert "archive.catalog_reader" in modules
    assert modules & {"archive.models", "archive.catalog", "search.index", "sqlite3"} == \
        {"sqlite3"}
    with gold.session() as s:
        item = s.scalars(select(Item).where(Item.accession == "ZJZ-V-00001")).one()
        item.title = "探空火箭讲座 激波"
        s.flush()
        record_changes(s, {item.id})
    assert freshness(gold).stale
    done = subprocess.run([str(ARCHIVE), "--catalog", catalog, "search", "激波", "--json"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "the index was behind the catalog" in done.stderr
    assert [h["accession"] for h in json.loads(done.stdout)["hits"]] == ["ZJZ-V-00001"]
    assert not freshness(gold).stale
    assert "sqlalchemy" not in imported_by("--catalog", catalog, "search", "激波")


@pytest.mark.sqlite_only("the cases are SQLite files")
def test_the_reader_leaves_to_the_full_catalog_what_it_must_explain(tmp_path: Path):
    """No file, a file of something else, a catalog at another schema revision: None, so the
    full catalog opens it (and says what is wrong, or upgrades it)."""
    import shutil

    from tests.test_migrations import RELEASE_CATALOG
    settings = catalog_settings
    assert CatalogReader.open(settings(tmp_path / "none.db")) is None
    (tmp_path / "notes.db").write_text("not a database", encoding="utf-8")
    assert CatalogReader.open(settings(tmp_path / "notes.db")) is None
    shutil.copyfile(RELEASE_CATALOG, tmp_path / "older.db")
    assert CatalogReader.open(settings(tmp_path / "older.db")) is None
    Catalog.open(settings(tmp_path / "new.db")).close()
    reads = CatalogReader.open(settings(tmp_path / "new.db"))
    assert reads is not None
    with reads:
        assert reads.mark() == (0, None) and reads.latest_seq() == 0


@pytest.mark.sqlite_only("SQLite's query plans")
def test_nothing_a_search_reads_grows_with_the_catalog(gold: Catalog):
    """#14: a CLI search at 500,000 items starts as at 20,000: every query it makes of the
    catalog (freshness, the page of hits) is an index look-up, no scan of a table or index."""
    import sqlite3
    reads = CatalogReader.open(gold.settings)
    assert reads is not None
    asked: list[tuple[str, dict[str, Any]]] = []
    run = reads._rows

    def recorded(sql: str, params: dict[str, Any]) -> list[tuple[Any, ...]]:
        asked.append((sql, params))
        return run(sql, params)

    reads._rows = recorded
    with reads, SearchService(reads) as service:
        assert not freshness_of(reads).stale
        assert service.search(SearchOptions(query="风洞", facets=True)).total == 1
        service.search(SearchOptions(query="导弹", facets=True))
    assert len(asked) >= 9
    plans = sqlite3.connect(f"file:{gold.settings.catalog_path}?mode=ro", uri=True)
    for sql, params in asked:
        steps = [row[3] for row in plans.execute("EXPLAIN QUERY PLAN " + sql, params)]
        scans = [s for s in steps if s.startswith("SCAN") and s not in ("SCAN CONSTANT ROW",
                                                                          "SCAN behind")]
        assert scans == [], (sql, steps)
    plans.close()
