"""Several archivists at once (#18): ingests of different folders into one catalog run
together, on SQLite (taking turns) and on PostgreSQL (at once), with a kill -9 among them.
Real processes, real signals; the PostgreSQL tests need ARCHIVE_TEST_POSTGRES_URL."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from archive.catalog import Catalog
from archive.lock import scopes_overlap, writer_lock
from archive.settings import load_settings
from benchmarks.generators.samples import make_jpeg
from tests.catalogs import catalog_settings

PG_URL = os.environ.get("ARCHIVE_TEST_POSTGRES_URL")
needs_pg = pytest.mark.skipif(not PG_URL, reason="set ARCHIVE_TEST_POSTGRES_URL to a server "
                              "that lets the tests create databases (make test-postgres)")


@pytest.mark.parametrize(("a", "b", "overlap"), [
    ("/data/qian", "/data/qian", True),
    ("/data", "/data/qian", True),
    ("/data/qian/", "/data", True),
    ("/data/qian", "/data/qiang", False),
    ("/data/a", "/data/b", False),
    (None, "/data/qian", True),
])
def test_scopes_overlap(a, b, overlap):
    assert scopes_overlap(a, b) is overlap
    assert scopes_overlap(b, a) is overlap


# -- collections ----------------------------------------------------------------------------

SCIENTISTS = ["qian_xuesen", "zhao_jiuzhang", "hua_luogeng"]  # folders naming new scientists
SHARED_NEW = "deng_jiaxian"  # a folder in every root: each ingest finds this scientist new


def make_root(root: Path, own: str, n: int, salt: int, size: tuple[int, int] = (32, 32)) -> Path:
    """n distinct small scans in one scientist's folder, a tenth of them in the folder of a
    scientist every root has (the ingests race to create them and share their numbers)."""
    template = make_jpeg(root / own / "box_000" / "scan_0000.jpg", size).read_bytes()
    for i in range(1, n):
        folder = SHARED_NEW if i % 10 == 0 else own
        p = root / folder / f"box_{i // 40:03d}" / f"scan_{i:04d}.jpg"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(template + salt.to_bytes(2, "big") + i.to_bytes(4, "big"))
    return root


def start_ingest(catalog: str, folder: Path, *extra: str, **env: str) -> subprocess.Popen:
    environment = {**os.environ, "ARCHIVE_JOBS": "1", "ARCHIVE_BATCH_SIZE": "10", **env}
    return subprocess.Popen([sys.executable, "-m", "archive", "--catalog", catalog, "ingest",
                             str(folder), "--json", "--quiet", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment,
                            start_new_session=True)


def finish(proc: subprocess.Popen, timeout: float = 300) -> dict:
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err.decode()
    return json.loads(out)


def wait_for(predicate, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.05)


def rows(url: str, sql: str) -> list[tuple]:
    engine = create_engine(url)
    try:
        with engine.connect() as con:  # no bind parameters: a colon is a colon
            return [tuple(r) for r in con.execute(text(sql.replace(":", "\\:")))]
    except Exception:  # noqa: BLE001 - tables not made yet
        return []
    finally:
        engine.dispose()


def files_under(url: str, root: Path) -> int:
    found = rows(url, f"select count(*) from files f join roots r on r.id = f.root_id "
                      f"where r.path = '{root}'")
    return found[0][0] if found else 0


def assert_catalogued_once(url: str, roots: list[Path], per_root: int) -> None:
    """Every file exactly once; accession numbers unique and, per prefix, 1..n with no gap."""
    total = per_root * len(roots)
    assert rows(url, "select count(*), count(distinct root_id || ':' || path) from files") \
        == [(total, total)]
    for root in roots:
        assert files_under(url, root) == per_root
    accessions = [a for (a,) in rows(url, "select accession from items")]
    assert len(accessions) == len(set(accessions)) == total
    by_prefix: dict[str, list[int]] = {}
    for a in accessions:
        prefix, number = a.rsplit("-", 1)
        by_prefix.setdefault(prefix, []).append(int(number))
    for prefix, numbers in by_prefix.items():
        assert sorted(numbers) == list(range(1, len(numbers) + 1)), prefix
    # The scientist every ingest found new was made once, and all three share its numbers.
    assert rows(url, "select count(*) from scientists where name = 'Deng Jiaxian'") == [(1,)]
    assert len([p for p in by_prefix if p.startswith("DJ-")]) == 1
    assert rows(url, "select count(*) from locks") == [(0,)]
    seqs = [s for (s,) in rows(url, "select seq from changes order by seq")]
    assert len(seqs) == len(set(seqs))


# -- the lock is per folder -----------------------------------------------------------------

@pytest.fixture
def sqlite_catalog(tmp_path: Path) -> Iterator[Catalog]:
    # The catalog the `cli` fixture uses: an SQLite file, or under make test-postgres its database.
    cat = Catalog.open(catalog_settings(tmp_path / "catalog.db"))
    yield cat
    cat.close()


def test_ingest_of_another_folder_runs_while_one_is_locked(sqlite_catalog, tmp_path, cli):
    held, other = tmp_path / "coll" / "qian", tmp_path / "coll" / "zhao"
    make_jpeg(held / "a.jpg"), make_jpeg(other / "b.jpg")
    with writer_lock(sqlite_catalog, scopes=[str(held)]):
        result = cli("ingest", str(other), "--json")
        assert result.exit_code == 0, result.output
        assert json.loads(result.stdout)["new"] == 1
        same = cli("ingest", str(held))
        parent = cli("ingest",
                     str(tmp_path / "coll"))
    for refused in (same, parent):
        assert refused.exit_code == 2
        assert f"another ingest is writing to this catalog (pid {os.getpid()}" in refused.output
        assert f"in {held}; wait for it to finish or pass --wait SECONDS" in refused.output
    assert rows(sqlite_catalog.settings.catalog_url, "select count(*) from files") == [(1,)]


def test_wait_takes_the_folder_when_its_holder_lets_go(sqlite_catalog, tmp_path, cli):
    folder = tmp_path / "coll"
    make_jpeg(folder / "a.jpg")
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with writer_lock(sqlite_catalog, scopes=[str(folder)]):
            taken.set()
            release.wait(30)
    holder = threading.Thread(target=hold)
    holder.start()
    taken.wait(30)
    started = time.monotonic()  # before the timer: it lets go 1 s after this at least
    threading.Timer(1.0, release.set).start()
    result = cli("ingest", str(folder), "--wait",
                 "30", "--json")
    holder.join()
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["new"] == 1
    assert time.monotonic() - started >= 0.9  # it waited for the holder


# -- writers at once ------------------------------------------------------------------------

@pytest.mark.slow
def test_two_sqlite_ingests_of_different_folders_take_turns_and_both_finish(tmp_path: Path):
    catalog = tmp_path / "catalog.db"
    url = "sqlite:///" + str(catalog)
    roots = [make_root(tmp_path / "coll" / f"box{salt}", own, 150, salt)
             for salt, own in enumerate(SCIENTISTS[:2])]
    Catalog.open(load_settings({"catalog": str(catalog)}, environ={})).close()  # it exists
    procs = [start_ingest(str(catalog), root) for root in roots]
    reports = [finish(p) for p in procs]
    assert [r["new"] for r in reports] == [150, 150]
    assert_catalogued_once(url, roots, 150)


@pytest.fixture
def pg_url(postgres_url: str, tmp_path: Path, monkeypatch) -> str:
    """A new PostgreSQL database (conftest's postgres_url); index and derivatives in tmp_path."""
    monkeypatch.chdir(tmp_path)
    return postgres_url


@needs_pg
@pytest.mark.slow
def test_three_postgres_ingests_one_killed_resume_catalogue_every_file_once(
        tmp_path: Path, pg_url: str):
    per_root = 200
    Catalog.open(load_settings({"catalog": pg_url}, environ={})).close()  # it exists
    roots = [make_root(tmp_path / "coll" / f"box{salt}", own, per_root, salt)
             for salt, own in enumerate(SCIENTISTS)]
    procs = [start_ingest(pg_url, root) for root in roots]
    victim = procs[1]
    wait_for(lambda: files_under(pg_url, roots[1]) >= per_root // 3)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    assert victim.returncode == -signal.SIGKILL
    # The others finish while the killed one's folder stays half done.
    reports = [finish(p) for p in (procs[0], procs[2])]
    assert [r["new"] for r in reports] == [per_root, per_root]
    half = files_under(pg_url, roots[1])
    assert per_root // 3 <= half < per_root
    # Its rerun takes the folder back from the dead process and does the rest, once.
    resumed = finish(start_ingest(pg_url, roots[1]))
    assert resumed["new"] == per_root - half
    assert resumed["unchanged"] == half
    assert_catalogued_once(pg_url, roots, per_root)
    assert rows(pg_url, "select count(*) from ingest_runs where status = 'interrupted'") \
        == [(1,)]
    # Each scientist was made once, by the ingest of their folder, with numbers of their own.
    assert sorted(n for (n,) in rows(pg_url, "select name from scientists")) == [
        "Deng Jiaxian", "Hua Luogeng", "Qian Xuesen", "Zhao Jiuzhang"]
    # Search finds every file's item: the index followed all three writers' changes.
    found = subprocess.run([sys.executable, "-m", "archive", "--catalog", pg_url, "search",
                            "scan", "--json", "--limit", "1"], capture_output=True, text=True)
    assert found.returncode == 0, found.stderr
    assert json.loads(found.stdout)["total"] == per_root * 3


def _take_many(url: str, prefix: str, count: int, errors: list[BaseException]) -> None:
    from archive.accession import take_accessions
    cat = Catalog.open(load_settings({"catalog": url}, environ={}))
    try:
        for _ in range(count):
            with cat.writing() as s:
                take_accessions(s, [prefix, "ZZZ-L", prefix])
    except BaseException as exc:  # noqa: BLE001 - reported by the test
        errors.append(exc)
    finally:
        cat.close()


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=needs_pg)])
def test_accession_counters_are_taken_atomically(backend, tmp_path, request):
    url = ("sqlite:///" + str(tmp_path / "catalog.db") if backend == "sqlite"
           else request.getfixturevalue("pg_url"))
    Catalog.open(load_settings({"catalog": url}, environ={})).close()
    errors: list[BaseException] = []
    threads = [threading.Thread(target=_take_many, args=(url, "QXS-L", 25, errors))
               for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert rows(url, "select prefix, last from counters order by prefix") == [
        ("QXS-L", 200), ("ZZZ-L", 100)]


def test_a_rolled_back_batch_gives_its_numbers_back(sqlite_catalog):
    from archive.accession import take_accessions
    with pytest.raises(RuntimeError), sqlite_catalog.writing() as s:
        assert take_accessions(s, ["QXS-L", "QXS-P", "QXS-L"]) == [
            "QXS-L-00001", "QXS-P-00001", "QXS-L-00002"]
        raise RuntimeError("the batch failed")
    with sqlite_catalog.writing() as s:
        assert take_accessions(s, ["QXS-L"]) == ["QXS-L-00001"]


# -- work spread over machines --------------------------------------------------------------

def start_derive(url: str, derivatives: Path, **env: str) -> subprocess.Popen:
    # A lease no heartbeat misses under load (renewed every 10 s, lost after 30): a killed
    # process's claims are free at once anyway (its pid is gone), and a survivor whose renewal
    # came late would hand its files to the other, which would build them a second time.
    environment = {**os.environ, "ARCHIVE_JOBS": "1", "ARCHIVE_BATCH_SIZE": "5",
                   "ARCHIVE_LEASE_SECONDS": "30", "ARCHIVE_DERIVATIVES_DIR": str(derivatives),
                   **env}
    return subprocess.Popen([sys.executable, "-m", "archive", "--catalog", url, "derive",
                             "--json", "--quiet"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=environment, start_new_session=True)


def assert_each_derivative_built_once(url: str, derivatives: Path, n_files: int) -> None:
    from archive.derivatives import derivative_path
    shas = [s for (s,) in rows(url, "select sha256 from files")]
    assert len(shas) == n_files
    for sha in shas:
        assert derivative_path(derivatives, sha, "thumbnail").stat().st_size > 0
    built = [d for (d,) in rows(url, "select detail from events where kind = "
                                     "'derivative creation' and outcome = 'success'")]
    assert len(built) == len(set(built))  # no derivative built twice


@needs_pg
@pytest.mark.slow
def test_three_postgres_derives_one_killed_build_every_derivative_once(tmp_path, pg_url):
    n_files = 300
    Catalog.open(load_settings({"catalog": pg_url}, environ={})).close()
    # Scans big enough that a thumbnail takes a moment: the kill lands mid-run.
    root = make_root(tmp_path / "coll" / "box0", SCIENTISTS[0], n_files, 0, (1600, 1200))
    finish(start_ingest(pg_url, root))
    derivatives = tmp_path / "derivatives"
    procs = [start_derive(pg_url, derivatives) for _ in range(3)]
    victim = procs[0]
    mine = f"select count(done_at), count(*) from work_claims where holder like '%:{victim.pid}'"
    wait_for(lambda: (rows(pg_url, mine) or [(0, 0)])[0][0] >= 5)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait(timeout=30)
    held = rows(pg_url, mine)[0]
    reports = [finish(p) for p in procs[1:]]
    assert all(r["failed"] == [] for r in reports)
    assert_each_derivative_built_once(pg_url, derivatives, n_files)
    # Each file was claimed once and finished by someone: the survivors took back what the
    # dead one held unfinished; its only claims left undone are of thumbnails it wrote and
    # died before recording (up to date for the others, so never built twice).
    assert rows(pg_url, "select count(*) from work_claims where kind = 'derive'") \
        == [(n_files,)]
    undone = rows(pg_url, "select holder from work_claims where done_at is null")
    assert {h for (h,) in undone} <= {f"{socket.gethostname()}:{victim.pid}"}
    assert len(undone) <= 5  # at most the events it had not yet written (batch_size 5)
    # Each success event is one build: the dead one's recorded ones (its done claims) and the
    # survivors'; a thumbnail it wrote and died before recording, they found up to date.
    built = rows(pg_url, "select count(*) from events where kind = 'derivative creation'")[0][0]
    assert built == held[0] + sum(r["built"] for r in reports)
    assert held[0] < n_files and built <= n_files
    again = finish(start_derive(pg_url, derivatives))
    assert again["built"] == 0 and again["up_to_date"] == n_files


def start_verify(url: str, **env: str) -> subprocess.Popen:
    environment = {**os.environ, "ARCHIVE_LEASE_SECONDS": "3", **env}
    return subprocess.Popen([sys.executable, "-m", "archive", "--catalog", url, "verify",
                             "--all", "--json", "--quiet"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env=environment, start_new_session=True)


def _other_machine(url: str, file_ids: list[int], holder: str, lease: float):
    """Another machine's `archive verify --all`, begun a moment ago, holding these files for
    `lease` seconds (it never renews them)."""
    from archive.claims import Claims
    from archive.models import IngestRun
    cat = Catalog.open(load_settings({"catalog": url}, environ={}))
    claims = Claims(cat, "verify", lease, holder=holder)
    with cat.session() as s:
        s.add(IngestRun(kind="verify", roots=[], options={"all": True, "holder": holder},
                        started_at=claims.started))
    assert claims.take(file_ids) == file_ids
    return cat, claims


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=needs_pg)])
def test_verify_leaves_files_to_the_machine_holding_them(backend, tmp_path, request):
    url = ("sqlite:///" + str(tmp_path / "catalog.db") if backend == "sqlite"
           else request.getfixturevalue("pg_url"))
    Catalog.open(load_settings({"catalog": url}, environ={})).close()
    finish(start_ingest(url, make_root(tmp_path / "coll" / "box0", SCIENTISTS[0], 200, 0)))
    ids = [i for (i,) in rows(url, "select id from files order by id")]
    # Another machine holds half the files and finishes them while this one waits for them.
    # Its lease outlasts any test run: expiring, it would hand its files over (the next test).
    cat, other = _other_machine(url, ids[:100], "elsewhere:1", lease=600.0)
    proc = start_verify(url)
    checked = "select count(*) from events where kind = 'fixity check'"
    wait_for(lambda: rows(url, checked) == [(100,)])  # its own half done: now it waits
    with cat.session() as s:
        other.done(s, ids[:100])
    report = finish(proc)
    cat.close()
    assert report["checked"] == 100
    assert rows(url, "select min(file_id), max(file_id), count(*) from events where kind = "
                     "'fixity check'") == [(ids[100], ids[-1], 100)]


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=needs_pg)])
def test_verify_takes_back_the_files_of_a_machine_that_stopped(backend, tmp_path, request):
    url = ("sqlite:///" + str(tmp_path / "catalog.db") if backend == "sqlite"
           else request.getfixturevalue("pg_url"))
    Catalog.open(load_settings({"catalog": url}, environ={})).close()
    finish(start_ingest(url, make_root(tmp_path / "coll" / "box0", SCIENTISTS[0], 200, 0)))
    ids = [i for (i,) in rows(url, "select id from files order by id")]
    started = time.monotonic()  # before the claims: their lease ends 3 s after this at least
    cat, _ = _other_machine(url, ids[:100], "elsewhere:2", lease=3.0)  # never renews or ends
    cat.close()
    report = finish(start_verify(url))
    assert report["checked"] == 200
    assert time.monotonic() - started >= 2.9  # it waited for the lease (3 s) to run out
    checks = rows(url, "select file_id, count(*) from events where kind = 'fixity check' "
                       "group by file_id")
    assert len(checks) == 200 and {c for _, c in checks} == {1}
    assert rows(url, "select count(*) from work_claims where kind = 'verify' and "
                     "done_at is null") == [(0,)]
    # The other machine's run is marked interrupted only on its own host: not here.
    assert rows(url, "select status from ingest_runs where kind = 'verify' order by id") == [
        ("running",), ("completed",)]


# -- root_map: a root mounted elsewhere on this machine -------------------------------------

def test_root_map_lets_derive_and_verify_read_a_root_mounted_elsewhere(tmp_path):
    catalog = tmp_path / "catalog.db"
    catalogued = tmp_path / "srv" / "archive"
    finish(start_ingest(str(catalog), make_root(catalogued / "box0", SCIENTISTS[0], 20, 0)))
    mounted = tmp_path / "mnt" / "archive"
    mounted.parent.mkdir()
    catalogued.rename(mounted)  # this machine mounts the collection somewhere else
    env = {"ARCHIVE_DERIVATIVES_DIR": str(tmp_path / "derivatives")}
    unmapped = start_verify(str(catalog), **env)
    unmapped.communicate(timeout=120)
    assert unmapped.returncode == 1  # every file missing where it was catalogued
    env["ARCHIVE_ROOT_MAP"] = f"{catalogued}={mounted}"
    assert finish(start_verify(str(catalog), **env))["ok"] == 20
    derived = finish(start_derive(str(catalog), tmp_path / "derivatives", **env))
    assert (derived["built"], derived["failed"]) == (20, [])
