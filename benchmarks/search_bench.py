"""Search at scale: index build rate, size and memory, and query latency by kind of query,
side by side with SQLite FTS5 fed the very same tokens (a yardstick, used only here).

    python -m benchmarks.search_bench 20000
"""
from __future__ import annotations

import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlalchemy import select

from archive.catalog import Catalog
from archive.models import File, FileText, Item, Scientist
from archive.settings import load_settings
from benchmarks.measure import run_process
from benchmarks.generators.records import EN_TERMS, SCIENTISTS, ZH_TERMS, generate
from search.analysis import cjk_terms, stem_word
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


def _latency(times: list[float]) -> dict[str, float]:
    return {"median_ms": round(statistics.median(times), 1),
            "p95_ms": round(percentile(times, 0.95), 1), "max_ms": round(max(times), 1)}


# -- the FTS5 yardstick -----------------------------------------------------------------------

def _tokens(text: str) -> str:
    return " ".join(stem_word(t) if t.isascii() else t for t, _, _ in cjk_terms(text))


def fts5_build(catalog: Catalog, path: Path) -> float:
    """The same documents, the same tokens (our analysis, space-joined), into FTS5."""
    t = time.perf_counter()
    con = sqlite3.connect(path)
    con.execute("CREATE VIRTUAL TABLE docs USING fts5(title, content, scientist, "
                "tokenize='unicode61 remove_diacritics 0')")
    con.execute("CREATE TABLE meta (rowid INTEGER PRIMARY KEY, type TEXT, scientist TEXT, "
                "year_start INT, year_end INT, decade TEXT, access TEXT)")
    with catalog.session() as s:
        names = dict(s.execute(select(Scientist.id, Scientist.name)))
        keys = {sid: _tokens(" ".join([name] + [v for n2, vs in SCIENTISTS if n2 == name
                                                 for v in vs]))
                for sid, name in names.items()}
        rows = s.execute(select(Item.id, Item.title, Item.description, Item.type,
                                Item.scientist_id, Item.date_start, Item.access, FileText.text)
                         .join(File, File.item_id == Item.id)
                         .join(FileText, FileText.file_id == File.id)
                         .execution_options(yield_per=2000))
        batch_docs, batch_meta = [], []
        for r in rows:
            y = r.date_start.year if r.date_start else None
            batch_docs.append((r.id, _tokens(r.title), _tokens(f"{r.title}\n{r.description}\n"
                                                                f"{r.text}"),
                               keys.get(r.scientist_id, "")))
            batch_meta.append((r.id, r.type, names.get(r.scientist_id), y, y,
                               f"{y // 10 * 10}s" if y else None, r.access))
            if len(batch_docs) >= 2000:
                con.executemany("INSERT INTO docs(rowid, title, content, scientist) "
                                "VALUES (?,?,?,?)", batch_docs)
                con.executemany("INSERT INTO meta VALUES (?,?,?,?,?,?,?)", batch_meta)
                batch_docs, batch_meta = [], []
        con.executemany("INSERT INTO docs(rowid, title, content, scientist) VALUES (?,?,?,?)",
                        batch_docs)
        con.executemany("INSERT INTO meta VALUES (?,?,?,?,?,?,?)", batch_meta)
    con.execute("CREATE INDEX meta_years ON meta(year_start, year_end)")
    con.commit()
    con.close()
    return time.perf_counter() - t


def _fts_match(options: SearchOptions) -> tuple[str | None, list[str], list[Any]]:
    """A query of ours as FTS5 MATCH text plus SQL conditions on the side table."""
    from search.query import Field, Range, Text, parse_query
    node = parse_query(options.query)
    parts = node.nodes if hasattr(node, "nodes") else (node,)  # type: ignore[union-attr]
    match: list[str] = []
    where = ["m.access = 'open'"]
    params: list[Any] = []
    for p in parts:
        if isinstance(p, Text):
            toks = _tokens(p.value).split()
            if not toks:
                continue
            quoted = " ".join(f'"{t}"' for t in toks)
            match.append(f'content:"{" ".join(toks)}"' if p.phrase else
                         "content:(" + " AND ".join(f'"{t}"' for t in toks) + ")")
            del quoted
        elif isinstance(p, Field) and p.field == "scientist":
            match.append("scientist:(" + " OR ".join(f'"{t}"' for t in
                                                    _tokens(p.value).split()) + ")")
        elif isinstance(p, Field) and p.field == "type":
            where.append("m.type = ?")
            params.append(p.value)
        elif isinstance(p, Range):
            where += ["m.year_start <= ?", "m.year_end >= ?"]
            params += [int(p.high) if p.high is not None else 9999,
                       int(p.low) if p.low is not None else 0]
    return (" AND ".join(match) if match else None), where, params


def fts5_queries(path: Path, sets: dict[str, list[SearchOptions]]) -> dict[str, Any]:
    con = sqlite3.connect(path)
    out = {}
    for kind, queries in sets.items():
        times = []
        for options in queries:
            match, where, params = _fts_match(options)
            t = time.perf_counter()
            if match:
                base = ("FROM docs JOIN meta m ON m.rowid = docs.rowid WHERE docs MATCH ? AND "
                        + " AND ".join(where))
                args = [match, *params]
                con.execute(f"SELECT docs.rowid {base} ORDER BY bm25(docs) LIMIT 20",
                            args).fetchall()
            else:
                base = "FROM meta m WHERE " + " AND ".join(where)
                args = params
                con.execute(f"SELECT m.rowid {base} ORDER BY m.year_start LIMIT 20",
                            args).fetchall()
            con.execute(f"SELECT count(*) {base}", args).fetchone()
            if options.facets:
                for column in ("type", "scientist", "decade"):
                    con.execute(f"SELECT m.{column}, count(*) {base} GROUP BY m.{column}",
                                args).fetchall()
            times.append((time.perf_counter() - t) * 1000)
        out[kind] = _latency(times)
    con.close()
    return out


# -- the run ----------------------------------------------------------------------------------

def whoosh_queries(catalog: Catalog, sets: dict[str, list[SearchOptions]]) -> dict[str, Any]:
    service = SearchService(catalog)  # as a server keeps it: opened once, read-only
    service.search(SearchOptions(query="导弹"))  # open files, load jieba: not a query's cost
    out = {}
    for kind, queries in sets.items():
        times = []
        for options in queries:
            t = time.perf_counter()
            service.search(options)
            times.append((time.perf_counter() - t) * 1000)
        out[kind] = _latency(times)
    service.close()
    return out


def run(n: int, also: Callable[[Path], dict[str, Any]] | None = None) -> dict[str, Any]:
    """Build and query an index of n items; `also`, given the catalog's path once it is indexed,
    measures more on the same catalog (the CLI's start-up) under the key "startup"."""
    folder = Path(tempfile.mkdtemp(prefix="search-bench-"))
    db = folder / "catalog.db"
    catalog = Catalog.open(load_settings({"catalog": str(db)}, environ={}))
    t = time.perf_counter()
    generate(catalog, n)
    generated = time.perf_counter() - t
    build = run_process([sys.executable, "-m", "archive", "--catalog", str(db), "reindex",
                         "--quiet"])
    assert build.returncode == 0, build.stdout
    size = sum(p.stat().st_size for p in catalog.settings.index_dir.iterdir())
    fts_path = folder / "fts5.db"
    fts_build = fts5_build(catalog, fts_path)
    sets = query_sets()
    try:
        extra = {"startup": also(db)} if also is not None else {}
        return {**extra, "items": n, "generate_s": round(generated, 1),
                "build_s": round(build.seconds, 1), "items_per_s": round(n / build.seconds),
                "index_mb": round(size / 2**20, 1),
                "index_peak_rss_mb": round(build.peak_rss_mb),
                "fts5_build_s": round(fts_build, 1),
                "fts5_mb": round(fts_path.stat().st_size / 2**20, 1),
                "whoosh": whoosh_queries(catalog, sets), "fts5": fts5_queries(fts_path, sets)}
    finally:
        catalog.close()
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    result = run(int(sys.argv[1]) if len(sys.argv) > 1 else 20000)
    print(f"{result['items']} items: index built in {result['build_s']} s "
          f"({result['items_per_s']} items/s, peak {result['index_peak_rss_mb']} MB), "
          f"{result['index_mb']} MB; FTS5 {result['fts5_build_s']} s, {result['fts5_mb']} MB")
    print(f"{'query kind':<16} {'whoosh med':>10} {'p95':>7} {'fts5 med':>9} {'p95':>7}")
    for kind, v in result["whoosh"].items():
        f = result["fts5"][kind]
        print(f"{kind:<16} {v['median_ms']:>10} {v['p95_ms']:>7} {f['median_ms']:>9} "
              f"{f['p95_ms']:>7}")
