"""Search at scale: index build rate, size and memory, and query latency by kind of query,
side by side with SQLite FTS5 fed the very same tokens (a yardstick, used only here).

    python -m benchmarks.search_bench 20000 [--catalog-cache /work/bench-cache/me] [--no-fts5]

With a catalog cache (a folder outside the source tree) the generated catalog of each size is
kept there, keyed by size, generator version and catalog schema, and copied from it by the next
run instead of generated again (500,000 items take minutes to generate).
"""
from __future__ import annotations

import os
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
from benchmarks.generators import records
from benchmarks.generators.records import EN_TERMS, SCIENTISTS, ZH_TERMS, generate
from search.analysis import cjk_terms, stem_word
from search.index import update
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


def _latency(times: list[float], cpu: list[float] | None = None) -> dict[str, float]:
    """Wall milliseconds (median, p95, max) and, when given, the CPU milliseconds of the same
    queries (median, p95): a shared machine's load stretches the first much more."""
    out = {"median_ms": round(statistics.median(times), 1),
           "p95_ms": round(percentile(times, 0.95), 1), "max_ms": round(max(times), 1)}
    if cpu:
        out |= {"cpu_median_ms": round(statistics.median(cpu), 1),
                "cpu_p95_ms": round(percentile(cpu, 0.95), 1)}
    return out


def _reset_peak_rss() -> bool:
    """Start the process's peak RSS (VmHWM) afresh, where Linux allows it."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def _peak_rss_mb() -> float | None:
    try:
        status = Path("/proc/self/status").read_text()
    except OSError:
        return None
    kb = next((int(line.split()[1]) for line in status.splitlines()
               if line.startswith("VmHWM:")), None)
    return round(kb / 1024) if kb is not None else None


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
        names: dict[int, str] = dict(s.execute(select(Scientist.id, Scientist.name)).all())
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

ENGINES = ("tantivy", "whoosh")
DEFAULT_ENGINE = "tantivy"  # the CLI's start-up is measured on its index alone (the goals')


def engine_queries(catalog: Catalog, sets: dict[str, list[SearchOptions]]) -> dict[str, Any]:
    """Each kind of query through the long-lived, read-only search service the site uses:
    wall and CPU time (of the whole process: Tantivy's threads too) a query."""
    service = SearchService(catalog)  # as a server keeps it: opened once, read-only
    service.search(SearchOptions(query="导弹"))  # open files, load jieba: not a query's cost
    out = {}
    for kind, queries in sets.items():
        times, cpu = [], []
        for options in queries:
            t, c = time.perf_counter(), time.process_time()
            service.search(options)
            cpu.append((time.process_time() - c) * 1000)
            times.append((time.perf_counter() - t) * 1000)
        out[kind] = _latency(times, cpu)
    service.close()
    return out


def catch_up(catalog: Catalog, rounds: int = 7) -> dict[str, float]:
    """Milliseconds for the index to apply one edited item, median and max of `rounds` edits.
    Each edit is made as `archive edit` makes it (`edit_item`), without the command's own
    index update: running the command with an index folder of its own, as this did, made its
    first edit build a whole second index (most of an hour at 500,000 items)."""
    from archive.edits import edit_item
    with catalog.session() as s:
        accession = s.scalar(select(Item.accession).order_by(Item.id).limit(1))
    times = []
    for i in range(rounds):
        with catalog.session() as s:
            assert edit_item(s, str(accession), {"title": f"bench edit {i} 望远镜"}, "benchmark")
        t = time.perf_counter()
        assert update(catalog) >= 1  # the edited item (and any dated at the index's mark)
        times.append((time.perf_counter() - t) * 1000)
    return {"median_ms": round(statistics.median(times), 1), "max_ms": round(max(times), 1)}


def load_average() -> float:
    """The machine's 1-minute load average: the figures of a shared machine need it."""
    return round(os.getloadavg()[0], 1)


def _engine(db: Path, n: int, engine: str, sets: dict[str, list[SearchOptions]],
            startup: Callable[..., dict[str, Any]] | None) -> dict[str, Any]:
    env = {"ARCHIVE_SEARCH_ENGINE": engine, "ARCHIVE_INDEX_DIR": str(db.parent / engine)}
    load_before = load_average()
    build = run_process([sys.executable, "-m", "archive", "--catalog", str(db), "reindex",
                         "--quiet"], env)
    assert build.returncode == 0, build.stdout
    catalog = Catalog.open(load_settings({"catalog": str(db), "search_engine": engine,
                                          "index_dir": env["ARCHIVE_INDEX_DIR"]}, environ={}))
    try:
        size = sum(p.stat().st_size for p in catalog.settings.index_dir.iterdir())
        out: dict[str, Any] = {
            "build_s": round(build.seconds, 1), "items_per_s": round(n / build.seconds),
            "build_cpu_s": round(build.cpu_s, 1), "index_mb": round(size / 2**20, 1),
            "index_peak_rss_mb": round(build.peak_rss_mb)}
        reset = _reset_peak_rss()
        out["queries"] = engine_queries(catalog, sets)
        if reset:  # this process's peak while serving: the benchmark's own Python included
            out["serve_peak_rss_mb"] = _peak_rss_mb()
        if startup is not None and engine == DEFAULT_ENGINE:
            out["startup"] = startup(db, env=env)
        out["catch_up"] = catch_up(catalog)
        out["load"] = [load_before, load_average()]  # 1-minute load average, before and after
        return out
    finally:
        catalog.close()


def cache_name(n: int) -> str:
    """The cached catalog of n generated items: it is valid as long as the generator and the
    catalog schema are those it was made with.

        cache_name(500000) -> "records-v1-schema0005-500000.db"   (generator 1, schema 0005)
    """
    from archive.schema import HEAD
    return f"records-v{records.VERSION}-schema{HEAD}-{n}.db"


def cached_catalog(n: int, cache: Path, db: Path) -> float:
    """A catalog of n generated items at `db`, copied from `cache` (made there first when it is
    not yet); the seconds generating took (0.0 when it was copied). The run edits its copy
    (catch-up), never the cached one."""
    cache.mkdir(parents=True, exist_ok=True)
    kept = cache / cache_name(n)
    generated = 0.0
    if not kept.exists():
        making = kept.with_suffix(".making")
        making.unlink(missing_ok=True)
        catalog = Catalog.open(load_settings({"catalog": str(making)}, environ={}))
        t = time.perf_counter()
        generate(catalog, n)
        generated = time.perf_counter() - t
        catalog.close()
        with sqlite3.connect(making) as con:  # one file: nothing left in a write-ahead log
            con.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            con.execute("PRAGMA journal_mode=DELETE")
        making.rename(kept)  # whole or absent: a run cut short leaves no half catalog
    shutil.copyfile(kept, db)
    return generated


def run(n: int, engines: tuple[str, ...] = ENGINES,
        startup: Callable[..., dict[str, Any]] | None = None, *,
        catalog_cache: Path | None = None, fts5: bool = True) -> dict[str, Any]:
    """One catalog of n generated items, indexed by each engine in turn (`archive reindex`:
    items/s, size, peak RSS), queried through the search service, caught up after an edit; and
    FTS5 fed the same tokens (unless `fts5` is false: at 500,000 items its build takes most of
    an hour). `startup(db, env=...)`, when given, measures the CLI's start-up on the default
    engine's index (the goals are about it). With `catalog_cache`, the generated catalog is
    kept there for the next run."""
    folder = Path(tempfile.mkdtemp(prefix="search-bench-"))
    db = folder / "catalog.db"
    if catalog_cache is not None:
        generated = cached_catalog(n, catalog_cache, db)
    else:
        catalog = Catalog.open(load_settings({"catalog": str(db)}, environ={}))
        t = time.perf_counter()
        generate(catalog, n)
        generated = time.perf_counter() - t
        catalog.close()
    sets = query_sets()
    try:
        result: dict[str, Any] = {"items": n, "generate_s": round(generated, 1), "engines": {},
                                  "cores": os.cpu_count()}
        if fts5:
            fts_path = folder / "fts5.db"
            fts_load = load_average()
            catalog = Catalog.open(load_settings({"catalog": str(db)}, environ={}))
            fts_build = fts5_build(catalog, fts_path)
            catalog.close()
            result.update({"fts5_build_s": round(fts_build, 1),
                           "fts5_items_per_s": round(n / max(fts_build, 0.01)),
                           "fts5_mb": round(fts_path.stat().st_size / 2**20, 1),
                           "fts5": fts5_queries(fts_path, sets),
                           "fts5_load": [fts_load, load_average()]})
        for engine in engines:
            result["engines"][engine] = _engine(db, n, engine, sets, startup)
            print(f"  {engine} at {n}: {result['engines'][engine]['items_per_s']} items/s",
                  flush=True)
        return result
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def print_table(result: dict[str, Any]) -> None:
    engines = result["engines"]
    fts5 = result.get("fts5", {})
    print(f"{result['items']} items; " + (f"FTS5 built in {result['fts5_build_s']} s, "
                                          f"{result['fts5_mb']} MB" if fts5 else "no FTS5"))
    for name, e in engines.items():
        # An engine's figures of an earlier run (Whoosh at 500,000 items) have no catch-up.
        catch_up = f"{e['catch_up']['median_ms']} ms" if "catch_up" in e else \
            f"not measured (figures of {e.get('measured', 'an earlier run')})"
        print(f"{name}: built in {e['build_s']} s ({e['items_per_s']} items/s, peak "
              f"{e['index_peak_rss_mb']} MB), {e['index_mb']} MB; catch-up after an edit "
              f"{catch_up}")
    print(f"{'query kind':<16}" + "".join(f" {n + ' med':>13} {'p95':>7}" for n in engines)
          + f" {'fts5 med':>9} {'p95':>7}")
    for kind in query_sets():
        f = fts5.get(kind, {"median_ms": "", "p95_ms": ""})
        print(f"{kind:<16}" + "".join(f" {e['queries'][kind]['median_ms']:>13} "
                                      f"{e['queries'][kind]['p95_ms']:>7}"
                                      for e in engines.values())
              + f" {f['median_ms']:>9} {f['p95_ms']:>7}")


if __name__ == "__main__":
    import functools
    import json

    import argparse

    from benchmarks import startup_bench
    parser = argparse.ArgumentParser()
    parser.add_argument("items", type=int, nargs="?", default=20000)
    parser.add_argument("--catalog-cache", type=Path)
    parser.add_argument("--no-fts5", action="store_true")
    args = parser.parse_args()
    measured = run(args.items, startup=functools.partial(startup_bench.measure, runs=5),
                   catalog_cache=args.catalog_cache, fts5=not args.no_fts5)
    print_table(measured)
    print(json.dumps(measured, default=str, ensure_ascii=False))
