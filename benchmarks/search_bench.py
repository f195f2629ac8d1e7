"""Search at scale: index build rate and size, and query latency by kind of query.

    python -m benchmarks.search_bench 20000      # prints a table (medians, p95)
"""
from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from archive.catalog import Catalog
from archive.settings import load_settings
from benchmarks.records import EN_TERMS, SCIENTISTS, ZH_TERMS, generate
from search.index import rebuild
from search.searcher import SearchOptions, SearchService

QUERIES_PER_KIND = 50


def query_sets(seed: int = 11) -> dict[str, list[SearchOptions]]:
    rng = random.Random(seed)
    zh = [t for t in ZH_TERMS if len(t) >= 2]
    names = [v for _, variants in SCIENTISTS for v in variants if v.isascii()]
    n = QUERIES_PER_KIND
    return {
        "chinese word": [SearchOptions(query=rng.choice(zh)) for _ in range(n)],
        "english word": [SearchOptions(query=rng.choice(EN_TERMS)) for _ in range(n)],
        "name in pinyin": [SearchOptions(query=rng.choice(names)) for _ in range(n)],
        "phrase": [SearchOptions(query=f'"{rng.choice(zh)}{rng.choice(zh)}"') for _ in range(n)],
        "fielded": [SearchOptions(query=f"scientist:{rng.choice(SCIENTISTS)[0]} "
                                        f"type:letter {rng.choice(zh)}") for _ in range(n)],
        "date range": [SearchOptions(query=f"date:{y}..{y + rng.randint(1, 10)}")
                       for y in (rng.randint(1935, 2000) for _ in range(n))],
        "facets": [SearchOptions(query=rng.choice(zh), facets=True) for _ in range(n)],
    }


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p * (len(ordered) - 1))))]


def run(n: int) -> dict[str, object]:
    folder = Path(tempfile.mkdtemp(prefix="search-bench-"))
    catalog = Catalog.open(load_settings({"catalog": str(folder / "catalog.db")}, environ={}))
    t = time.perf_counter()
    generate(catalog, n)
    generated = time.perf_counter() - t
    t = time.perf_counter()
    rebuild(catalog)
    build = time.perf_counter() - t
    size = sum(p.stat().st_size for p in catalog.settings.index_dir.iterdir())
    service = SearchService(catalog, refresh=False)  # as a server keeps it: opened once
    service.search(SearchOptions(query="导弹"))  # open files, load jieba: not a query's cost
    latency: dict[str, dict[str, float]] = {}
    for kind, queries in query_sets().items():
        times = []
        for options in queries:
            t = time.perf_counter()
            service.search(options)
            times.append((time.perf_counter() - t) * 1000)
        latency[kind] = {"median_ms": round(statistics.median(times), 1),
                         "p95_ms": round(percentile(times, 0.95), 1),
                         "max_ms": round(max(times), 1)}
    return {"items": n, "generate_s": round(generated, 1), "build_s": round(build, 1),
            "items_per_s": round(n / build), "index_mb": round(size / 2**20, 1),
            "latency": latency}


if __name__ == "__main__":
    result = run(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
    print(f"{result['items']} items: generated in {result['generate_s']} s; index built in "
          f"{result['build_s']} s ({result['items_per_s']} items/s), {result['index_mb']} MB")
    print(f"{'query kind':<16} {'median ms':>10} {'p95 ms':>8} {'max ms':>8}")
    for kind, v in result["latency"].items():  # type: ignore[union-attr]
        print(f"{kind:<16} {v['median_ms']:>10} {v['p95_ms']:>8} {v['max_ms']:>8}")
