"""Tantivy asks for free text as one union of its content, title and jieba-word clauses where
that matches exactly what content alone matches (search/engines/tantivy.py, ranked_text): a
union is scored block by block, a required clause with optional ones document by document
(#14). These tests hold the union to the required form's matches and scores on generated
records and on awkward ones (traditional characters, full-width letters, apostrophes, a text
cut at the indexing limit), and `words_imply_terms` to the cases where it may be used."""
from __future__ import annotations

import random
import re

import pytest

from archive.catalog import Catalog
from archive.models import File, FileText, Item, Root
from benchmarks.generators.records import EN_TERMS, ZH_TERMS, generate
from search import documents
from search.analysis import fold, query_words, words_imply_terms
from search.index import rebuild
from search.searcher import SearchOptions, SearchService
from tests.catalogs import catalog_settings
from tests.test_search import needs_tantivy

AWKWARD = [  # (title, description, text)
    ("關於導彈研究的報告", "繁體", "人造的衛星與導彈"),
    ("ＤＮＡ双螺旋 notes", "全角", "don't stop: the rocket's fuel; Tsien's lecture"),
    ("人造卫星", "", "人造的东西，卫星的轨道"),  # words 人造 + 卫星 apart in the text
    ("力学研究所", "研究所的力学", "学研究"),
    ("ﬁeld notes ﬂight", "ligatures", "field flight ﬁeld"),
    ("Straße und Maß", "", "strasse"),
    ("导弹" * 30, "长标题" * 40, "导弹"),  # cut at the (patched) indexing limit
]

GENERATED = 300


@pytest.fixture(scope="module")
def union_catalog(tmp_path_factory):
    folder = tmp_path_factory.mktemp("union")
    catalog = Catalog.open(catalog_settings(folder / "catalog.db", search_engine="tantivy"))
    generate(catalog, GENERATED, seed=11)
    with catalog.session() as s:
        root = s.query(Root).first()
        for n, (title, description, text) in enumerate(AWKWARD):
            # ids after the generated ones: they are given, so a server's sequence is behind
            item = Item(id=GENERATED + 1 + n, accession=f"AWK-{n:03d}", root_id=root.id,
                        key=f"awkward/{n}", title=title, description=description,
                        type="document", access="open")
            s.add(item)
            s.flush()
            f = File(id=item.id, item_id=item.id, root_id=root.id, path=f"awkward/{n}.txt",
                     folder="awkward", size=1, mtime_ns=0, role="master")
            s.add(f)
            s.flush()
            s.add(FileText(file_id=f.id, text=text))
        s.commit()
    patch = pytest.MonkeyPatch()
    patch.setattr(documents, "MAX_CONTENT_CHARS", 70)  # titles and descriptions cut too
    try:
        rebuild(catalog)
    finally:
        patch.undo()
    yield catalog
    catalog.close()


def _queries() -> list[str]:
    rng = random.Random(5)
    out = [*ZH_TERMS, *EN_TERMS[:25]]
    for title, description, text in AWKWARD:
        for part in (title, description, text):
            out += re.findall(r"[^\W\d_]+(?:'[^\W\d_]+)?", part)
            for run in re.findall(r"[\u4e00-\u9fff]{2,}", part):
                for _ in range(3):
                    start = rng.randrange(len(run) - 1)
                    out.append(run[start:start + rng.randint(2, 5)])
    for _ in range(60):
        out.append(" ".join(rng.sample(ZH_TERMS, 2)))
        out.append("".join(rng.sample(ZH_TERMS, 2)))
    out += ["导弹 弹", "rocket's", "ＤＮＡ", "fi", "strasse", "maß", "學研究"]
    return list(dict.fromkeys(q for q in out if q.strip()))


def _required_form(c, value: str):
    """The query as it was before the union: content required, title and words optional."""
    import tantivy
    boosts = [tantivy.Query.boost_query(b, w) for b, w in
              ((c.text("title", value, False), 3.0), (c.words(value), 1.0)) if b is not None]
    return tantivy.Query.boolean_query(
        [(tantivy.Occur.Must, c.free_text(value, False, "content")),
         *[(tantivy.Occur.Should, b) for b in boosts]])


def _scored(searcher, query) -> dict[int, float]:
    found = searcher.searcher.search(query, 10_000, count=True)
    return {searcher.searcher.doc(a).to_dict()["item_id"][0]: score for score, a in found.hits}


@needs_tantivy
def test_the_union_matches_and_scores_as_content_required(union_catalog):
    unions = 0
    with SearchService(union_catalog) as service:
        searcher = service._current()
        c = searcher.compiler()
        for value in _queries():
            union, required = c.ranked_text(value, False), _required_form(c, value)
            unions += "Must" not in repr(union)
            a, b = _scored(searcher, union), _scored(searcher, required)
            assert a.keys() == b.keys(), value
            for item_id, score in a.items():  # the same terms, added in another order
                assert score == pytest.approx(b[item_id], rel=1e-5), (value, item_id)
    assert unions > 100  # most queries took the union


@needs_tantivy
def test_the_union_is_not_asked_where_words_would_match_more(union_catalog):
    with SearchService(union_catalog) as service:
        c = service._current().compiler()
        assert "Must" in repr(c.ranked_text("导弹 弹", False))
        assert "Must" not in repr(c.ranked_text("导弹", False))
        assert "Must" not in repr(c.ranked_text("rockets", False))
        # the search's answers: the awkward 人造卫星 text holds both words, apart
        found = service.search(SearchOptions(query="人造卫星", limit=100))
        assert "AWK-002" in {h["accession"] for h in found.hits}  # by its title


def test_words_imply_terms():
    assert words_imply_terms("导弹")
    assert words_imply_terms("rockets")
    assert words_imply_terms("guided missiles")
    assert words_imply_terms("don't")
    assert not words_imply_terms("导弹 弹")  # a lone character: only a run's last term
    assert not words_imply_terms("弹")
    assert not words_imply_terms("")
    for value in ("人造卫星", "力学研究所", "導彈研究", "DNA双螺旋", "钱学森的导弹"):
        # implied exactly when every bigram of the folded text lies inside one of its words
        words = query_words(value)
        bigrams = {a + b for run in re.findall(r"[\u4e00-\u9fff]+", fold(value))
                   for a, b in zip(run, run[1:], strict=False)}
        assert words_imply_terms(value) == all(any(g in w for w in words) for g in bigrams), \
            value


@needs_tantivy
def test_facets_counted_beside_the_search_are_the_same(union_catalog, monkeypatch):
    """Facets are counted on another core while the page is searched (tantivy._beside):
    the same counts, totals and hits as one after the other."""
    from search.engines import tantivy as engine
    queries = ["导弹", "rocket", "type:letter", "导弹 -火箭", '"人造卫星"', "date:1950s"]
    with SearchService(union_catalog) as service:
        if engine._beside() is None:
            pytest.skip("one core: facets are counted after the search, as below")
        beside = [service.search(SearchOptions(query=q, facets=True)) for q in queries]
        monkeypatch.setattr(engine, "_beside", lambda: None)
        alone = [service.search(SearchOptions(query=q, facets=True)) for q in queries]
    for q, a, b in zip(queries, beside, alone, strict=True):
        assert (a.total, a.hits, a.facets) == (b.total, b.hits, b.facets), q
        assert a.facets["type"] and sum(a.facets["type"].values()) == a.total, q
