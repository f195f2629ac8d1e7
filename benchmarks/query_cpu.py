"""CPU milliseconds a query, by kind, through the search service on a catalog and index that
exist already (no build): for before/after pairs of the query path on one machine, where the
load stretches wall time much more than CPU time.

    python -m benchmarks.query_cpu CATALOG.db INDEX_DIR [--engine tantivy] [--rounds 2]

Run it from a checkout of the code before and of the code after, in turn, on the same catalog
and index (an index of the same schema version), and compare the medians.
"""
from __future__ import annotations

import argparse
import statistics
import time

from archive.catalog import Catalog
from archive.settings import load_settings
from benchmarks.search_bench import percentile, query_sets
from search.searcher import SearchOptions, SearchService


def measure(catalog: Catalog, rounds: int = 2) -> dict[str, dict[str, float]]:
    """kind -> median and p95 CPU ms of its queries, each run `rounds` times."""
    out = {}
    with SearchService(catalog) as service:
        service.search(SearchOptions(query="导弹"))  # open the index: not a query's cost
        for kind, queries in query_sets().items():
            cpu = []
            for _ in range(rounds):
                for options in queries:
                    c = time.process_time()
                    service.search(options)
                    cpu.append((time.process_time() - c) * 1000)
            out[kind] = {"cpu_median_ms": round(statistics.median(cpu), 2),
                         "cpu_p95_ms": round(percentile(cpu, 0.95), 2)}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("catalog")
    parser.add_argument("index_dir")
    parser.add_argument("--engine", default="tantivy")
    parser.add_argument("--rounds", type=int, default=2)
    args = parser.parse_args()
    catalog = Catalog.open(load_settings({"catalog": args.catalog, "search_engine": args.engine,
                                          "index_dir": args.index_dir}, environ={}))
    try:
        for kind, f in measure(catalog, args.rounds).items():
            print(f"{kind:<16} CPU median {f['cpu_median_ms']:>7} ms   p95 "
                  f"{f['cpu_p95_ms']:>7} ms")
    finally:
        catalog.close()


if __name__ == "__main__":
    main()
