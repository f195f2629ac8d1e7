"""Tantivy leaves out an exclusion no document is in (search/engines/tantivy.py, Compiler): the
public-only filter's "unless its sealing date has come", while no sealing date has come, and a
query's own `-duration:...` that nothing matches. The same matches either way; leaving it out
spares Tantivy a seek at every match (#14)."""
from __future__ import annotations

import datetime as dt

from archive.access import today
from search.compile import compile_tree, public_only, restrict
from search.documents import day_number
from search.query import parse_query
from search.searcher import SearchOptions, SearchService
from test_editing import small  # noqa: F401 - the fixture is used by name
from test_search import engine, gold  # noqa: F401 - the fixtures are used by name


def _public(service: SearchService, query: str, day: dt.date) -> str:
    """The Tantivy query a public search for `query` on `day` runs, as Tantivy prints it."""
    searcher = service._current()
    c = searcher.compiler()
    return repr(restrict(compile_tree(parse_query(query), c), public_only(day_number(day)), c))


def test_the_sealing_exclusion_is_left_out_until_a_sealing_date_comes(cli, catalog,
                                                                      small):  # noqa: F811
    tomorrow = today() + dt.timedelta(days=1)
    assert cli("edit", "QXS-L-00001", "--access", "restricted",
               "--access-until", tomorrow.isoformat()).exit_code == 0
    with SearchService(catalog) as service:
        assert "RangeQuery" not in _public(service, "导弹", today())  # nothing unsealed yet
        assert "RangeQuery" in _public(service, "导弹", tomorrow)  # its day: it opens
        hidden = service.search(SearchOptions(query="导弹", limit=100))
        everyone = service.search(SearchOptions(query="导弹", limit=100,
                                                include_restricted=True))
    assert "QXS-L-00001" in {h["accession"] for h in everyone.hits}
    assert "QXS-L-00001" not in {h["accession"] for h in hidden.hits}
    assert hidden.total == everyone.total - 1


def test_excluding_what_nothing_matches_changes_nothing(gold):  # noqa: F811
    """On both engines: the same matches; on Tantivy the same hits and scores, and the empty
    range is not in the query."""
    with SearchService(gold) as service:
        if gold.settings.search_engine == "tantivy":
            assert "RangeQuery" not in _public(service, "导弹 -duration:>100h", today())
            assert "RangeQuery" in _public(service, "-duration:>30m", today())  # one is
        for query, same_as in [("导弹 -duration:>100h", "导弹"), ("-duration:>100h", "")]:
            found = service.search(SearchOptions(query=query, limit=100))
            plain = service.search(SearchOptions(query=same_as, limit=100))
            assert found.total == plain.total
            if gold.settings.search_engine == "tantivy":  # Whoosh scores an AndNot its own way
                assert found.hits == plain.hits
            assert {h["accession"] for h in found.hits} == {h["accession"] for h in plain.hits}
        longer = service.search(SearchOptions(query="-duration:>30m", limit=100))
        everything = service.search(SearchOptions(limit=100))
    assert {h["accession"] for h in everything.hits} - {h["accession"] for h in longer.hits} \
        == {"QXS-A-00001"}  # the one recording over 30 minutes
    assert longer.total == everything.total - 1
