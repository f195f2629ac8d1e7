"""PostgreSQL against SQLite, and several archivists at once (#18): the same files ingested into
SQLite and into PostgreSQL, and two concurrent ingests of disjoint halves against one ingest
of the whole, on PostgreSQL. Needs a server: ARCHIVE_BENCH_POSTGRES_URL (else
ARCHIVE_TEST_POSTGRES_URL) names a database the benchmark may empty; without one reachable,
this part says so and is skipped.

    python -m benchmarks.postgres_bench N      # N files, printed as JSON
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.generators.collection import generate_collection
from benchmarks.measure import python_startup


def server_url() -> str | None:
    return os.environ.get("ARCHIVE_BENCH_POSTGRES_URL") or \
        os.environ.get("ARCHIVE_TEST_POSTGRES_URL") or None


def unreachable(url: str | None) -> str | None:
    """Why the benchmark cannot use the server, or None when it can."""
    if not url:
        return "no PostgreSQL server: set ARCHIVE_BENCH_POSTGRES_URL (or " \
               "ARCHIVE_TEST_POSTGRES_URL) to a database the benchmark may empty"
    from sqlalchemy import create_engine, text
    from sqlalchemy.exc import SQLAlchemyError
    try:
        engine = create_engine(url)
        with engine.connect() as con:
            con.execute(text("select 1"))
        engine.dispose()
    except (SQLAlchemyError, ImportError) as exc:
        return f"PostgreSQL server not reachable ({type(exc).__name__}); skipped"
    return None


def _empty(url: str) -> None:
    from sqlalchemy import create_engine, text

    from archive.catalog import Catalog
    from archive.models import Base
    from archive.settings import load_settings
    engine = create_engine(url)
    Base.metadata.drop_all(engine)
    with engine.begin() as con:
        con.execute(text("drop table if exists alembic_version"))
    engine.dispose()
    Catalog.open(load_settings({"catalog": url}, environ={})).close()  # made before the clock


def _ingest(catalog: str, folders: list[Path], work: Path, tag: str) -> subprocess.Popen:
    env = {**os.environ, "ARCHIVE_INDEX_DIR": str(work / f"index-{tag}"),
           "ARCHIVE_DERIVATIVES_DIR": str(work / "derivatives")}
    return subprocess.Popen([sys.executable, "-m", "archive", "--catalog", catalog, "ingest",
                             *map(str, folders), "--quiet", "--json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def _timed(procs: list[subprocess.Popen]) -> float:
    """Seconds until every process has finished; each must have catalogued its files."""
    started = time.perf_counter()
    for p in procs:
        out, err = p.communicate()
        assert p.returncode in (0, 1), err.decode()[-2000:]
        json.loads(out)
    return time.perf_counter() - started


def run(n: int) -> dict[str, Any]:
    url = server_url()
    reason = unreachable(url)
    if reason is not None or url is None:
        return {"files": n, "skipped": reason}
    work = Path(tempfile.mkdtemp(prefix="postgres-bench-"))
    try:
        halves = [generate_collection(work / "a", n // 2),
                  generate_collection(work / "b", n - n // 2)]
        startup = python_startup().median
        sqlite = work / "catalog.db"
        from archive.catalog import Catalog
        from archive.settings import load_settings
        Catalog.open(load_settings({"catalog": str(sqlite)}, environ={})).close()
        whole_sqlite = _timed([_ingest(str(sqlite), halves, work, "sqlite")]) - startup
        _empty(url)
        whole_pg = _timed([_ingest(url, halves, work, "pg-whole")]) - startup
        _empty(url)
        # Archivists on one machine share its index: each ingest updates it at its end.
        concurrent = _timed([_ingest(url, [h], work, "pg-halves") for h in halves]) - startup
        _empty(url)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"files": n, "jobs": os.cpu_count() or 1,
            "sqlite_s": round(whole_sqlite, 2), "postgres_s": round(whole_pg, 2),
            "postgres_vs_sqlite": round(whole_pg / whole_sqlite, 2),
            "concurrent_halves_s": round(concurrent, 2),
            "halves_speedup": round(whole_pg / concurrent, 2)}


def goal_lines(pg: dict[str, Any], goal: Any) -> list[str]:
    """The report's goal rows (goal: the renderer's met/not-met word)."""
    if pg.get("skipped"):
        return [f"| ingest into PostgreSQL vs SQLite; two concurrent ingests of halves vs one "
                f"of the whole | not measured: {pg['skipped']} | ≤ 1.5×; ≥ 1.6× | |"]
    return [
        f"| ingest into PostgreSQL vs SQLite, {pg['files']:,} files | "
        f"{pg['postgres_s']} s vs {pg['sqlite_s']} s = {pg['postgres_vs_sqlite']}× | ≤ 1.5× | "
        f"{goal(pg['postgres_vs_sqlite'] <= 1.5)} |",
        f"| two concurrent ingests of disjoint halves vs one of the whole, PostgreSQL | "
        f"{pg['concurrent_halves_s']} s vs {pg['postgres_s']} s = {pg['halves_speedup']}× "
        f"faster | ≥ 1.6× | {goal(pg['halves_speedup'] >= 1.6)} |",
    ]


if __name__ == "__main__":
    print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 2000), indent=1))
