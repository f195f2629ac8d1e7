"""A query's total is exact: the same at every page and limit, with or without facets, through
the CLI, the service and the site, after every rebuild however the build spreads documents over
segments, and on both engines (issue 14). Whoosh's ranking collector used to stop counting once
the top N were safe: `究所` counted 51 at --limit 1 and 298 at --limit 20 on these 400
generated records."""
from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from archive.catalog import Catalog
from archive.cli import main
from benchmarks.generators.records import generate
from search.index import open_index, rebuild
from search.query import parse_query
from search.compile import HIDDEN_LEVELS, compile_tree
from search.engines import whoosh as whoosh_engine
from search.searcher import SearchOptions, SearchService
from tests.catalogs import catalog_settings
from tests.test_search import ENGINES, cli_env

QUERIES = ["究所", "导弹", "研究所", "火箭 卫星", "rocket", "Qian Xuesen", "导弹 OR 火箭",
           '"人造卫星"', "控制论 -导弹", "type:letter", "date:1950s"]
RECORDS = 400


def _catalog(folder, jobs: int, engine: str = "whoosh") -> Catalog:
    return Catalog.open(catalog_settings(folder / "catalog.db", jobs=jobs, search_engine=engine))


@pytest.fixture(scope="module")
def truth(tmp_path_factory):
    """The same records indexed by Whoosh, read without a ranking collector."""
    folder = tmp_path_factory.mktemp("truth")
    catalog = _catalog(folder, jobs=1)
    generate(catalog, RECORDS)
    rebuild(catalog)
    return catalog


@pytest.fixture(scope="module", params=ENGINES)
def generated(tmp_path_factory, request):
    folder = tmp_path_factory.mktemp("totals")
    catalog = _catalog(folder, jobs=1, engine=request.param)
    generate(catalog, RECORDS)  # the same seed: the same records as `truth`
    rebuild(catalog)
    return catalog


def _matches(catalog: Catalog, query: str) -> int:
    """Every public match, read straight from a Whoosh index without a ranking collector."""
    with open_index(catalog).searcher() as s:
        c = whoosh_engine.Compiler(lambda key: bool(s.reader().doc_frequency("scientist", key)))
        hidden = set(s.docs_for_query(compile_tree(HIDDEN_LEVELS, c)))  # none sealed here
        compiled = compile_tree(parse_query(query), c)
        return len(set(s.docs_for_query(compiled)) - hidden)


def _totals(catalog: Catalog) -> dict[str, set[int]]:
    """Each query's totals at several pages and limits, with and without facets."""
    out: dict[str, set[int]] = {}
    with SearchService(catalog) as service:
        for query in QUERIES:
            seen = set()
            for limit, offset, facets in ((1, 0, False), (20, 0, False), (20, 0, True),
                                          (10, 380, False), (1000, 0, True)):
                r = service.search(SearchOptions(query=query, limit=limit, offset=offset,
                                                 facets=facets))
                seen.add(r.total)
                if facets:
                    assert sum(r.facets["type"].values()) == r.total, query
            out[query] = seen
    return out


def test_totals_are_exact_at_every_page_and_limit(generated, truth):
    totals = _totals(generated)
    for query in QUERIES:
        assert totals[query] == {_matches(truth, query)}, query
    assert min(next(iter(t)) for t in totals.values()) > 20  # enough to page through


def test_totals_survive_a_rebuild_on_two_cores(generated):
    """A rebuild with two writers (Whoosh: a segment each, documents in another order)."""
    before = _totals(generated)
    engine = generated.settings.search_engine
    catalog = _catalog(generated.settings.index_dir.parent, jobs=2, engine=engine)
    rebuild(catalog)
    if engine == "whoosh":
        with open_index(catalog).searcher() as s:
            assert len(list(s.leaf_searchers())) == 2
    assert _totals(catalog) == before


def test_cli_and_site_agree(generated, truth):
    from web.app import create_app
    catalog = generated
    client = create_app(catalog.settings).test_client()
    runner = CliRunner(env=cli_env(catalog))
    for query in ("究所", "rocket"):
        expected = _matches(truth, query)
        for args in (["--limit", "1"], ["--offset", "390"]):
            out = runner.invoke(main, ["--catalog", catalog.settings.catalog, "search",
                                       query, "--json", *args])
            assert json.loads(out.stdout)["total"] == expected
        assert client.get("/api/search", query_string={"q": query}).get_json()["total"] \
            == expected
