"""PostgreSQL against SQLite, and several archivists at once (#18). Needs a server:
ARCHIVE_BENCH_POSTGRES_URL (else ARCHIVE_TEST_POSTGRES_URL) names a database the benchmark may
empty; without one reachable, this part says so and is skipped.

Two measures, on one generated collection whose scientists' folders are split in two halves
(two archivists, each ingesting other scientists' folders: disjoint folders and accession
prefixes, as the issue's two archivists are):

1. **PostgreSQL vs SQLite**: one ingest of the whole into each, `--jobs` = the cores.
2. **Two at once vs one**: on PostgreSQL, two concurrent ingests of one half each against one
   ingest of the whole, alternated over several rounds (median), with the same number of
   worker processes in all: the one ingest gets `--jobs` = the cores, each of the two half as
   many. So the two gain only from what one ingest does serially (its walk, describe and
   catalog writes run in one thread) and lose only to contention.

Each run goes into an empty catalog and a new search index, index update included, process
start-up subtracted. Beside the wall times, the report says where the time went: the CPU
seconds of the ingest processes and of the PostgreSQL server (when it runs on this machine),
the share of each run the commands spent cataloguing (the rest is indexing and start-up), and
what the server's connections were doing, sampled from pg_stat_activity every 50 ms (working,
waiting for a row or table lock, flushing the WAL at commit, idle in a transaction waiting
for the ingest, idle). The load average before and after says how shared the machine was.

    python -m benchmarks.postgres_bench N [ROUNDS] [RATIO_N]   # printed as JSON
"""
from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
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


# -- what the server does -------------------------------------------------------------------

def _category(state: str | None, wait_type: str | None, wait: str | None) -> str:
    """A connection's moment, as the report names it:

        _category("active", None, None)               -> "working"
        _category("active", "Lock", "transactionid")  -> "lock: transactionid"
        _category("active", "IO", "WALSync")          -> "WAL flush at commit"
        _category("active", "LWLock", "WALWrite")     -> "WAL flush at commit"
        _category("idle in transaction", "Client", "ClientRead")
                                                      -> "in a transaction, waiting for ingest"
        _category("idle", "Client", "ClientRead")     -> "idle"
    """
    if state == "idle":
        return "idle"
    if state and state.startswith("idle in transaction"):
        return "in a transaction, waiting for ingest"
    if wait_type is None:
        return "working"
    if wait_type == "Lock":
        return f"lock: {wait}"
    if (wait or "").startswith("WAL"):
        return "WAL flush at commit"
    return f"{wait_type}: {wait}"


class Activity:
    """Samples what the catalog's connections are doing, every `every` seconds, in a thread."""

    def __init__(self, url: str, every: float = 0.05):
        self.url, self.every = url, every
        self.samples: Counter[str] = Counter()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="pg-activity", daemon=True)

    def _run(self) -> None:
        from sqlalchemy import create_engine, text
        engine = create_engine(self.url, isolation_level="AUTOCOMMIT")
        query = text("select state, wait_event_type, wait_event from pg_stat_activity "
                     "where datname = current_database() and pid <> pg_backend_pid() "
                     "and backend_type = 'client backend'")
        try:
            with engine.connect() as con:
                while not self._stop.wait(self.every):
                    for state, wait_type, wait in con.execute(query):
                        self.samples[_category(state, wait_type, wait)] += 1
        finally:
            engine.dispose()

    def __enter__(self) -> Activity:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def shares(self) -> dict[str, float]:
        total = sum(self.samples.values()) or 1
        return {k: round(v / total, 3) for k, v in self.samples.most_common()}


def _postmaster(url: str) -> int | None:
    """The server's main process, when it runs on this machine and /proc shows it."""
    from sqlalchemy import create_engine, text
    engine = create_engine(url)
    try:
        with engine.connect() as con:
            backend = con.execute(text("select pg_backend_pid()")).scalar_one()
        stat = Path(f"/proc/{backend}/stat").read_text()
        return int(stat.rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None
    finally:
        engine.dispose()


def _server_cpu(postmaster: int | None) -> float | None:
    """CPU seconds the server has used: its processes alive now, and those it has reaped (the
    connections of finished runs)."""
    if postmaster is None:
        return None
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    try:
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(pid) == postmaster:
                total += sum(int(f) for f in fields[11:15])  # utime stime cutime cstime
            elif int(fields[1]) == postmaster:
                total += int(fields[11]) + int(fields[12])
    except OSError:
        return None
    return total / tick


def _processes() -> dict[int, tuple[int, float]]:
    """Every process: its parent and the CPU seconds it has used itself."""
    tick = os.sysconf("SC_CLK_TCK")
    out = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                fields = Path(f"/proc/{name}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            out[int(name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick)
    return out


class TreeCPU:
    """The CPU seconds of each ingest's own process (its one thread walks, describes and
    writes the catalog) and of its workers (extraction, and the index at its end), sampled
    from /proc every quarter second until they exit (rusage would miss the workers: the
    forkserver that starts them is not waited for)."""

    def __init__(self, pids: list[int]):
        self.main: dict[int, float] = {}
        self.others: dict[int, float] = {}
        self._pids = pids
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="tree-cpu", daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        procs = _processes()
        children: dict[int, list[int]] = {}
        for pid, (parent, _) in procs.items():
            children.setdefault(parent, []).append(pid)
        for top in self._pids:
            if top in procs:
                self.main[top] = procs[top][1]
            stack = list(children.get(top, []))
            while stack:
                pid = stack.pop()
                self.others[pid] = procs[pid][1]
                stack += children.get(pid, [])

    def _run(self) -> None:
        while not self._stop.wait(0.25):
            self._sample()

    def stop(self) -> tuple[list[float], float]:
        """Each main process's CPU seconds, and all their workers' together."""
        self._stop.set()
        self._thread.join()
        return ([round(self.main.get(p, 0.0), 1) for p in self._pids],
                round(sum(self.others.values()), 1))


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"{one:.1f}, {five:.1f}, {fifteen:.1f}"


# -- runs -----------------------------------------------------------------------------------

def _ingest(catalog: str, folders: list[Path], index: Path, jobs: int) -> subprocess.Popen:
    env = {**os.environ, "ARCHIVE_INDEX_DIR": str(index),
           "ARCHIVE_DERIVATIVES_DIR": str(index.parent / "derivatives")}
    return subprocess.Popen([sys.executable, "-m", "archive", "--catalog", catalog, "ingest",
                             *map(str, folders), "--quiet", "--json", "--jobs", str(jobs)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)


def _timed(catalog: str, groups: list[list[Path]], index: Path, jobs: int,
           postmaster: int | None, url: str | None) -> dict[str, Any]:
    """Run one ingest per group at once, to the end; the wall time and where it went."""
    server_before = _server_cpu(postmaster)
    activity = Activity(url) if url else None
    if activity:
        activity.__enter__()
    started = time.perf_counter()
    try:
        procs = [_ingest(catalog, g, index, jobs) for g in groups]
        tree = TreeCPU([p.pid for p in procs])
        reports = []
        for p in procs:
            out, err = p.communicate()
            assert p.returncode in (0, 1), err.decode()[-2000:]
            reports.append(json.loads(out))
        wall = time.perf_counter() - started
        mains, workers = tree.stop()
    finally:
        if activity:
            activity.__exit__()
    server_after = _server_cpu(postmaster)
    return {
        "wall_s": wall,
        "files": sum(r["new"] for r in reports),
        "catalogue_s": [round(r["seconds"], 2) for r in reports],
        "main_cpu_s": mains,
        "workers_cpu_s": workers,
        "server_cpu_s": (None if server_before is None or server_after is None
                         else round(server_after - server_before, 1)),
        "connections": activity.shares() if activity else None,
    }


def _median_run(runs: list[dict[str, Any]], startup: float) -> dict[str, Any]:
    """The run of median wall time, with every run's seconds (start-up subtracted)."""
    ordered = sorted(runs, key=lambda r: r["wall_s"])
    middle = dict(ordered[(len(ordered) - 1) // 2])
    middle["seconds"] = [round(r["wall_s"] - startup, 2) for r in runs]
    middle["median_s"] = round(statistics.median(r["wall_s"] for r in runs) - startup, 2)
    del middle["wall_s"]
    return middle


def split_in_halves(root: Path) -> list[Path]:
    """Move a generated collection's scientists' folders into two folders, half the
    scientists in each: two roots, as two archivists' collections are (a root holds
    scientists' folders: a scientist is known by the folder under the root)."""
    folders = sorted(p for p in root.iterdir() if p.is_dir())
    halves = [root / "half_a", root / "half_b"]
    for i, folder in enumerate(folders):
        target = halves[0] if i < len(folders) // 2 else halves[1]
        target.mkdir(exist_ok=True)
        folder.rename(target / folder.name)
    return halves


def run(n: int, rounds: int = 3, ratio_files: int | None = None) -> dict[str, Any]:
    """The two measures: PostgreSQL vs SQLite at `ratio_files` (default n) files, one run
    each; two at once vs one at n files, `rounds` rounds alternated."""
    url = server_url()
    reason = unreachable(url)
    ratio_files = ratio_files or n
    if reason is not None or url is None:
        return {"files": ratio_files, "skipped": reason}
    from archive.catalog import Catalog
    from archive.settings import load_settings
    jobs = os.cpu_count() or 1
    half_jobs = max(1, jobs // 2)
    postmaster = _postmaster(url)
    work = Path(tempfile.mkdtemp(prefix="postgres-bench-"))
    out: dict[str, Any] = {"files": ratio_files, "jobs": jobs, "load_before": _load()}
    try:
        startup = python_startup().median
        # 1. The whole into SQLite and into PostgreSQL.
        root = generate_collection(work / f"coll{ratio_files}", ratio_files)
        whole = split_in_halves(root)
        sqlite = work / "catalog.db"
        Catalog.open(load_settings({"catalog": str(sqlite)}, environ={})).close()
        lite = _timed(str(sqlite), [whole], work / "index-sqlite", jobs, None, None)
        _empty(url)
        pg = _timed(url, [whole], work / "index-pg", jobs, postmaster, url)
        out.update({"sqlite_s": round(lite["wall_s"] - startup, 2),
                    "postgres_s": round(pg["wall_s"] - startup, 2),
                    "sqlite_run": lite, "postgres_run": pg})
        out["postgres_vs_sqlite"] = round(out["postgres_s"] / out["sqlite_s"], 2)
        # 2. Two at once against one, same workers in all, alternated.
        halves = whole
        if n != ratio_files:
            shutil.rmtree(root)
            halves = split_in_halves(generate_collection(work / f"coll{n}", n))
        ones: list[dict[str, Any]] = []
        pairs: list[dict[str, Any]] = []
        for i in range(rounds):
            for kind in (("one", "two") if i % 2 == 0 else ("two", "one")):
                _empty(url)
                index = work / f"index-{kind}-{i}"
                if kind == "one":
                    ones.append(_timed(url, [halves], index, jobs, postmaster, url))
                else:
                    # Archivists on one machine share its index: each updates it at its end.
                    pairs.append(_timed(url, [[h] for h in halves], index, half_jobs,
                                        postmaster, url))
        _empty(url)
        one, two = _median_run(ones, startup), _median_run(pairs, startup)
        out["concurrency"] = {
            "files": n, "rounds": rounds, "jobs_one": jobs, "jobs_each_of_two": half_jobs,
            "halves": [sorted(p.name for p in h.iterdir()) for h in halves],
            "one": one, "two": two,
            "speedup": round(one["median_s"] / two["median_s"], 2)}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    out["load_after"] = _load()
    # The names the report's goal rows read.
    out["concurrent_halves_s"] = out["concurrency"]["two"]["median_s"]
    out["halves_speedup"] = out["concurrency"]["speedup"]
    return out


def goal_lines(pg: dict[str, Any], goal: Any) -> list[str]:
    """The report's goal rows (goal: the renderer's met/not-met word)."""
    if pg.get("skipped"):
        return [f"| ingest into PostgreSQL vs SQLite; two concurrent ingests of halves vs one "
                f"of the whole | not measured: {pg['skipped']} | ≤ 1.5×; ≥ 1.6× | |"]
    lines = [
        f"| ingest into PostgreSQL vs SQLite, {pg['files']:,} files | "
        f"{pg['postgres_s']} s vs {pg['sqlite_s']} s = {pg['postgres_vs_sqlite']}× | ≤ 1.5× | "
        f"{goal(pg['postgres_vs_sqlite'] <= 1.5)} |"]
    c = pg.get("concurrency")
    if c is None:  # a run before the concurrency figures had their own size
        return lines + [
            f"| two concurrent ingests of disjoint halves vs one of the whole, PostgreSQL | "
            f"{pg['concurrent_halves_s']} s vs {pg['postgres_s']} s = {pg['halves_speedup']}× "
            f"faster | ≥ 1.6× | {goal(pg['halves_speedup'] >= 1.6)} |"]
    return lines + [
        f"| two concurrent ingests of disjoint halves vs one of the whole, PostgreSQL, "
        f"{c['files']:,} files, {c['jobs_one']} workers in all (see PostgreSQL) | "
        f"{c['two']['median_s']} s vs {c['one']['median_s']} s = {c['speedup']}× | ≥ 1.6× | "
        f"{goal(c['speedup'] >= 1.6)} |"]


def _shares(run: dict[str, Any]) -> str:
    shares = run.get("connections") or {}
    return ", ".join(f"{k} {v:.0%}" for k, v in shares.items() if v >= 0.01) or "–"


def report_lines(pg: dict[str, Any]) -> list[str]:
    """The report's PostgreSQL section, from a run's figures (the prose around it is kept
    in docs; see benchmarks/run.py)."""
    if pg.get("skipped") or "concurrency" not in pg:
        return []
    c = pg["concurrency"]
    one, two = c["one"], c["two"]

    def cpu(r: dict[str, Any]) -> str:
        server = "" if r.get("server_cpu_s") is None else f"; server {r['server_cpu_s']}"
        return f"main {' + '.join(map(str, r['main_cpu_s']))}; workers " \
               f"{r['workers_cpu_s']}{server}"
    return [
        f"Load average before: {pg['load_before']}; after: {pg['load_after']} (1, 5, 15 min) on "
        f"{pg['jobs']} cores.", "",
        f"| {pg['files']:,} files, `--jobs {pg['jobs']}` | seconds | CPU seconds |",
        "|---|---|---|",
        f"| one ingest into SQLite | {pg['sqlite_s']} | {cpu(pg['sqlite_run'])} |",
        f"| one ingest into PostgreSQL | {pg['postgres_s']} | {cpu(pg['postgres_run'])} |", "",
        f"| {c['files']:,} files, {c['rounds']} rounds alternated | seconds (median; each round)"
        f" | cataloguing (each command) | CPU seconds (median run) | the server's connections "
        f"(median run) |", "|---|---|---|---|---|",
        f"| one ingest of the whole, `--jobs {c['jobs_one']}` | {one['median_s']} "
        f"({', '.join(map(str, one['seconds']))}) | {', '.join(map(str, one['catalogue_s']))} "
        f"| {cpu(one)} | {_shares(one)} |",
        f"| two at once, one half each, `--jobs {c['jobs_each_of_two']}` each | "
        f"{two['median_s']} ({', '.join(map(str, two['seconds']))}) | "
        f"{', '.join(map(str, two['catalogue_s']))} | {cpu(two)} | {_shares(two)} |",
        "",
        f"Halves: {' + '.join(c['halves'][0])} against {' + '.join(c['halves'][1])}. "
        f"Speed-up {c['speedup']}×.", ""]


SECTION = "## PostgreSQL and several archivists"

# What the figures mean: kept with the code that measures them, written after the run it
# names; a later run's tables come out above it, and this text stays until revised.
NOTES = """**What the run of 1 December (22:16–22:33 UTC, load 11–16 on 2 cores) says.**

- *PostgreSQL against SQLite, 20,000 files: 1.27×* (goal ≤ 1.5×: met). The difference is in
  the ingest's own thread, 34.5 CPU seconds against 23.6 (the driver, a round trip per
  statement), plus the server's 11; the workers' extraction is the same work on both.
- *Two at once against one: 0.83×* (goal ≥ 1.6×: not met on this machine). The catalog is not
  where the two lose: in both set-ups the server's connections were idle or waiting for the
  ingest in 94–96% of the samples, no row lock was waited for (disjoint scientists: disjoint
  accession counters), the change log's table lock at commit 0.1%, the WAL flush at commit
  under 1%. The cores are: at this load each process gets a slice, and the one ingest and the
  server used 18 CPU seconds in its 70 s. Two ingests spend about a quarter more CPU (22.8
  against 18.1 s: two start-ups, two forkservers loading the parsers, two index updates), so on
  cores already full they end later; each half took as long to catalogue as the whole did
  (48–52 s against 48).
- *What one ingest waits for, given free cores: its own thread.* At 4,000 files it used 9.4 CPU
  seconds (walk, describe, catalog writes, index update; about 3 s of it fixed) against 6.2 in
  its two workers together; at 20,000, 34.5 against 31.5 (under 16 each). Two ingests split the
  main thread's work: each half of 20,000 files needs about 3 + (34.5 − 3) / 2 ≈ 19 s of it,
  so on a machine with 4 free cores two at once should be about 1.8× as fast as one. That is a
  projection from measured CPU seconds, not a measurement: this machine has no free core.
- *Contention looked for, none worth a change.* Per batch, an ingest locks its accession
  counter rows, new scientists' rows and (at commit) the change log; at its end, the search
  index's writer lock. With disjoint scientists none was waited for. With every scientist in
  both halves (a split by box, 1,000 files, measured apart): 5% of the connections' samples
  waited on a lock, mostly the first batches making the same new scientists and counters (one
  waits for the other's batch, then uses its rows, by design), about 1% on counters after.
  The ingest that ends second waits for the first's index update, which has taken its changes
  too (the index follows the change log), so it has next to nothing left: the same index work
  as one ingest.
- *The 0.68× measured at 20:05* compared two ingests of `--jobs 2` each (4 workers) with one of
  `--jobs 2`, and two halves made with the same generator seed: the same bytes, so the one
  ingest catalogued the second half as duplicates and the two at once as originals: different
  work. Both are fixed above (same workers, a collection split by scientist)."""


def section_lines(pg: dict[str, Any]) -> list[str]:
    """The report's PostgreSQL section: how it was measured, the tables, what they mean."""
    if pg.get("skipped"):
        return [SECTION, "", f"Not measured: {pg['skipped']}.", ""]
    if "concurrency" not in pg:
        return []
    c = pg["concurrency"]
    return [
        SECTION, "",
        f"`python -m benchmarks.run --only postgres` (`benchmarks/postgres_bench.py`), against "
        f"a PostgreSQL server on the same machine with its default durability (fsync and "
        f"synchronous commit on), over a Unix socket. One generated collection "
        f"({pg['files']:,} mixed files; {c['files']:,} for the concurrency rounds) whose "
        f"scientists' folders are moved into two roots of five scientists each: two "
        f"archivists' collections, disjoint folders and accession prefixes. Each run into an "
        f"empty catalog and a new search index, index update included, start-up subtracted. "
        f"The one ingest gets `--jobs {c['jobs_one']}` (a worker per core), each of the two "
        f"`--jobs {c['jobs_each_of_two']}`: the same number of worker processes in both, so "
        f"the two gain only from what one ingest does in its one thread, and lose only to "
        f"contention. CPU seconds: each ingest's own process (walk, describe, catalog writes) "
        f"and its workers (extraction, and indexing at the end), sampled from /proc, and the "
        f"server's processes. The connections' shares are samples of pg_stat_activity every "
        f"50 ms.", "",
        *report_lines(pg), NOTES, ""]


if __name__ == "__main__":
    args = [int(a) for a in sys.argv[1:]]
    print(json.dumps(run(args[0] if args else 2000, *args[1:]), indent=1, ensure_ascii=False))
