"""A rebuild's speed-ups change nothing found (#14.1): the indexer's fast term path gives the
analysis' own terms, and a Tantivy rebuild whose documents are analysed in worker processes is
the index one process builds (same totals, hits in the same order, same facets)."""
from __future__ import annotations

import os
import sqlite3

import pytest

from archive.catalog import Catalog
from benchmarks.generators.records import generate
from search import index as search_index
from search import preparing
from search.analysis import cjk_terms, fold, index_terms, stem_word, word_terms
from search.index import rebuild
from search.preparing import Preparers
from search.searcher import SearchOptions, search
from tests.catalogs import catalog_settings
from tests.test_search import RECORDS, needs_tantivy

AWKWARD = [
    "", "钱", "錢學森 ＱＩＡＮ", "e\u0301 cafe\u0301 x", "Tsien's 'quoted' it’s ’s",
    "ﬁne ﬂow", "a_b 1_2 __", "Ⅻ 钱学森 ㎏", "don't_ 導彈", "abc'钱学 x'", "𠀋𠀋a𠀋",
    "Rockets and guided missiles; feedback control", "１９５６年 ＤＮＡ", "İstanbul ß",
    "力学研究所。导弹\n研究\t应当 先行", "ＡＢＣ's 學", "x\u200by",
]


def _reference_terms(text: str) -> list[str]:
    """The terms as the analysis gives them (what the Whoosh engine indexes)."""
    return [stem_word(t) if t.isascii() else t for t, _, _ in cjk_terms(text)]


@pytest.mark.parametrize("text", AWKWARD + [r[5] + "\n" + (r[6] or "") for r in RECORDS])
def test_index_terms_are_the_analysis_terms(text):
    assert index_terms(text) == _reference_terms(text)


def test_fold_skips_the_table_only_when_nothing_is_traditional():
    assert fold("錢學森 ＱＩＡＮ") == "钱学森 qian"
    assert fold("钱学森的导弹 Ａ") == "钱学森的导弹 a"
    assert fold("關於導彈研究的報告") == "关于导弹研究的报告"


@pytest.fixture(scope="module")
def generated(tmp_path_factory) -> Catalog:
    folder = tmp_path_factory.mktemp("rebuild")
    catalog = Catalog.open(catalog_settings(folder / "catalog.db", search_engine="tantivy",
                                            jobs=2))
    generate(catalog, 400)
    yield catalog
    catalog.close()


def test_generated_texts_give_the_analysis_terms(generated):
    path = generated.settings.catalog_path
    if path is None:
        pytest.skip("reads the generated texts from the SQLite file")
    con = sqlite3.connect(path)
    texts = [row[0] for row in con.execute("SELECT text FROM file_texts")]
    con.close()
    assert len(texts) == 400
    for text in texts:
        assert index_terms(text) == _reference_terms(text)


QUERIES = ["导弹", "研究所", '"导弹研究"', "rocket", "scientist:钱学森 type:letter",
           "date:1950..1960", "", "-导弹", "报告 experiment"]


def _answers(catalog: Catalog) -> list[tuple]:
    """Every hit of each query with its score (items of equal score are in the order of their
    place in the index, which Tantivy's writer threads decide), the total and the facets."""
    out = []
    for query in QUERIES:
        r = search(catalog, SearchOptions(query=query, limit=1000, facets=True))
        out.append((query, r.total, sorted((h["score"] or 0, h["accession"]) for h in r.hits),
                    r.facets))
    return out


@needs_tantivy
def test_rebuild_in_worker_processes_is_the_one_process_index(generated, monkeypatch):
    assert rebuild(generated) == 400  # 400 items: analysed in this process
    alone = _answers(generated)
    assert alone[0][1] > 0
    monkeypatch.setattr(search_index, "PREPARE_IN_WORKERS_FROM", 1)
    monkeypatch.setattr(preparing, "BATCH", 7)  # many batches in flight, answered out of turn
    assert rebuild(generated) == 400
    assert _answers(generated) == alone


def _tagged(doc: dict) -> dict:
    return {**doc, "words": " ".join(word_terms(doc["text"])), "pid": os.getpid()}


def test_preparers_keep_order_and_work_in_other_processes(monkeypatch):
    monkeypatch.setattr(preparing, "BATCH", 3)
    docs = [{"n": i, "text": f"导弹研究 {i}"} for i in range(50)]
    loaded = []
    preparers = Preparers(_tagged, 2, before_fork=lambda: loaded.append(True))
    try:
        out = list(preparers.map(docs))
    finally:
        preparers.close()
    assert loaded == [True]
    assert [d["n"] for d in out] == list(range(50))
    assert out[3]["words"] == "导弹 研究 3"
    assert os.getpid() not in {d["pid"] for d in out}
    alone = Preparers(_tagged, 1, before_fork=lambda: loaded.append(False))
    assert [d["pid"] for d in alone.map(docs[:2])] == [os.getpid()] * 2
    assert loaded == [True]  # one worker: nothing forked, nothing loaded for it


def workers_started(monkeypatch) -> list[int]:  # type: ignore[no-untyped-def]
    """The number of worker processes of each preparing pool started from now on (the pool
    itself still runs, for real)."""
    forked: list[int] = []
    real = Preparers.__init__

    def counting(self, prepare, workers, before_fork):  # type: ignore[no-untyped-def]
        forked.append(workers)
        real(self, prepare, workers, before_fork)

    monkeypatch.setattr(Preparers, "__init__", counting)
    return forked


@needs_tantivy
def test_a_rebuild_outside_the_main_thread_forks_no_workers(generated, monkeypatch):
    """archive serve's follower rebuilds from a thread of a threaded server: no fork there."""
    import threading
    monkeypatch.setattr(search_index, "PREPARE_IN_WORKERS_FROM", 1)
    forked = workers_started(monkeypatch)
    done: list[int] = []
    thread = threading.Thread(target=lambda: done.append(rebuild(generated)))
    thread.start()
    thread.join(300)
    assert done == [400] and forked == [1]
    assert rebuild(generated) == 400 and forked == [1, 2]  # the main thread: 2 workers (jobs)


def _reference_words(value: str, query: bool = False) -> list[str]:
    """word_terms as it was before its fast path: every run through _runs, jieba for each."""
    from search.analysis import _runs, _search_words
    out: list[str] = []
    for kind, run in _runs(value):
        text = "".join(c for _, c in run)
        if kind != "han":
            out.append(text)
        elif query and len(text) <= 2:
            out += [text] if len(text) == 2 else []
        else:
            out += _search_words(text)
    return out


@pytest.mark.parametrize("query", [False, True])
def test_word_terms_are_the_words_of_every_run(query):
    texts = AWKWARD + [r[5] + "\n" + (r[6] or "") for r in RECORDS] + \
        ["钱", "导弹", "钱 学 森", "研究所的报告 钱", "飛彈"]
    for text in texts:
        assert list(word_terms(text, query=query)) == _reference_words(text, query), text


def test_generated_descriptions_give_the_same_words(generated):
    from search.documents import item_documents
    with generated.session() as s:
        described = [doc["words"] for doc in item_documents(s)]
    assert len(described) == 400
    for text in described:
        assert list(word_terms(text)) == _reference_words(text)


@needs_tantivy
def test_a_large_catch_up_in_worker_processes_is_the_one_process_catch_up(tmp_path,
                                                                          monkeypatch):
    """An update with many changed items (the first ingest of many files) analyses them in
    worker processes as a rebuild does; the index it leaves is the one an update in this
    process leaves: edits with change rows, edits dated after the mark without one (bulk
    loads), withdrawn items."""
    import datetime as dt
    import shutil

    from archive.changes import record_changes
    from archive.models import Item
    from search.index import update
    catalog = Catalog.open(catalog_settings(tmp_path / "catalog.db", search_engine="tantivy",
                                            jobs=2))
    try:
        generate(catalog, 300)
        assert rebuild(catalog) == 300
        before = _answers(catalog)
        index_dir = catalog.settings.index_dir
        kept = tmp_path / "kept-index"  # a search catches up itself: keep the index of now
        shutil.copytree(index_dir, kept)
        with catalog.session() as s:
            items = list(s.query(Item).order_by(Item.id))
            for item in items[:120]:
                item.title = f"火箭发动机 catchup {item.id}"
            later = dt.datetime.now() + dt.timedelta(seconds=5)
            for item in items[120:200]:  # no change row: found by date
                item.description = "人造卫星 bulkload"
                item.updated_at = later
            for item in items[200:205]:
                item.withdrawn_at = dt.datetime(2026, 1, 1)
            s.flush()
            record_changes(s, [i.id for i in items[:120]] + [i.id for i in items[200:205]])
            s.commit()

        forked = workers_started(monkeypatch)
        n = update(catalog)
        assert n >= 200  # 120 logged and 80 dated (and the last built, dated at the mark)
        assert forked == []  # 200 items: in this process
        alone = _answers(catalog)
        assert alone != before
        assert search(catalog, SearchOptions(query="catchup", include_restricted=True)).total == 120
        assert search(catalog, SearchOptions(query="bulkload", include_restricted=True)).total == 80

        shutil.rmtree(index_dir)
        shutil.copytree(kept, index_dir)
        monkeypatch.setattr(search_index, "PREPARE_IN_WORKERS_FROM", 100)
        monkeypatch.setattr(preparing, "BATCH", 7)
        assert update(catalog) == n
        assert forked == [2]
        assert _answers(catalog) == alone
    finally:
        catalog.close()
