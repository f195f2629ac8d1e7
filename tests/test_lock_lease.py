"""A folder lock held by a machine that died (#18): locks carry a lease their holder renews,
so another machine takes the folder over once the lease runs out, and never while its holder
lives. "Another machine" is a real process under another host name: its own UTS namespace
(`unshare --uts`), so this host cannot judge it by its pid, only by its lease. Runs on the
suite's engine (SQLite, or PostgreSQL under `make test-postgres`)."""
from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archive.catalog import Catalog
from archive.errors import CatalogBusy
from archive.lock import lock_free, writer_lock
from tests.catalogs import catalog_env, catalog_rows, catalog_settings, catalog_url
from tests.test_resilience import count, make_many, wait_for

NOW = dt.datetime(2026, 12, 1, 12, 0, 0)
SECOND = dt.timedelta(seconds=1)


def _dead(pid: int) -> bool:
    return False


def _alive(pid: int) -> bool:
    return True


@pytest.mark.parametrize(("lease_until", "host", "alive", "free"), [
    (NOW + 60 * SECOND, "machine-b", _alive, False),  # another machine, renewing
    (NOW - SECOND, "machine-b", _alive, True),        # its lease ran out: it died
    (NOW, "machine-b", _alive, True),                 # up to the second
    (NOW + 60 * SECOND, "here", _dead, True),         # this host, process gone: at once
    (NOW + 60 * SECOND, "here", _alive, False),       # this host, alive and renewing
    (NOW - SECOND, "here", _alive, True),             # alive but not renewing (stopped)
    (None, "machine-b", _alive, False),               # no lease (made before leases)
    (None, "here", _dead, True),
])
def test_lock_free(lease_until, host, alive, free):
    assert lock_free(lease_until, host, 4242, "here", NOW, alive) is free


# -- another machine ------------------------------------------------------------------------

def _unshare() -> list[str]:
    """The command prefix running a process under its own host name, or skip."""
    prefix = ["unshare", "--uts"] if os.geteuid() == 0 else ["unshare", "--map-root-user",
                                                              "--uts"]
    try:
        subprocess.run([*prefix, "true"], check=True, capture_output=True, timeout=30)
    except (OSError, subprocess.CalledProcessError) as exc:
        pytest.skip(f"needs `unshare --uts` (a UTS namespace) to play another machine: {exc}")
    return prefix


def on_machine(host: str, argv: list[str], catalog: Path, **env: str) -> subprocess.Popen:
    """Start `argv` as a process of the machine `host`: its own session (killpg takes its
    workers too) and host name."""
    environment = {**os.environ, "ARCHIVE_JOBS": "1", "ARCHIVE_BATCH_SIZE": "10",
                   **catalog_env(catalog), **env}
    script = 'hostname "$0" && exec "$@"'
    return subprocess.Popen([*_unshare(), "sh", "-c", script, host, *argv],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.PIPE,
                            env=environment, start_new_session=True)


def ingest_here(catalog: Path, folder: Path, *extra: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "ARCHIVE_JOBS": "1", **catalog_env(catalog)}
    return subprocess.run([sys.executable, "-m", "archive", "--catalog", catalog_url(catalog),
                           "ingest", str(folder), "--json", "--quiet", *extra],
                          capture_output=True, text=True, env=environment, timeout=300)


def lease_left(catalog: Path) -> float:
    """Seconds until the earliest lease of the catalog's locks runs out."""
    (until,), = catalog_rows(catalog, "select min(lease_until) from locks")
    if isinstance(until, str):  # SQLite gives text back through a plain query
        until = dt.datetime.fromisoformat(until)
    return (until - dt.datetime.now(dt.UTC).replace(tzinfo=None)).total_seconds()


@pytest.mark.slow
def test_a_dead_machines_lock_is_taken_over_when_its_lease_runs_out(tmp_path: Path):
    n = 400
    folder = make_many(tmp_path / "coll", n)
    catalog = tmp_path / "catalog.db"
    Catalog.open(catalog_settings(catalog)).close()
    # Machine B ingests the folder with a lease of 12 s (renewed every 4 s) and dies: at least
    # 8 s of it left, however late a busy machine ran its last renewal, by a few seconds.
    b = on_machine("machine-b", [sys.executable, "-m", "archive", "--catalog",
                                 catalog_url(catalog), "ingest", str(folder), "--quiet"],
                   catalog, ARCHIVE_LEASE_SECONDS="12")
    wait_for(lambda: count(catalog, "select count(*) from files") >= 40, timeout=120)
    os.killpg(b.pid, signal.SIGKILL)
    b.wait(timeout=30)
    written = count(catalog, "select count(*) from files")
    assert 0 < written < n, "the kill must land mid-run for this test to mean anything"
    assert catalog_rows(catalog, "select host, pid from locks") == [("machine-b", b.pid)]
    # Its pid means nothing here (the process is gone, but on another host): while its lease
    # lasts the folder is still B's.
    assert lease_left(catalog) > 1.0
    cat = Catalog.open(catalog_settings(catalog))
    try:
        with pytest.raises(CatalogBusy, match=f"pid {b.pid} on machine-b"), \
                writer_lock(cat, scopes=[str(folder)]):
            pass
    finally:
        cat.close()
    # An ingest here that waits takes the folder over once B's lease runs out, and resumes.
    started = time.monotonic()
    left = lease_left(catalog)
    resumed = ingest_here(catalog, folder, "--wait", "60")
    assert resumed.returncode == 0, resumed.stderr
    assert time.monotonic() - started >= left - 0.5  # it waited for the lease
    report = json.loads(resumed.stdout)
    assert report["new"] == n - written and report["unchanged"] == written
    assert count(catalog, "select count(*) from files") == n
    assert count(catalog, "select count(distinct accession) from items") == n
    assert count(catalog, "select count(*) from locks") == 0
    # B's run is recorded as interrupted by the ingest that took its folder over.
    assert catalog_rows(catalog, "select status from ingest_runs order by id") == [
        ("interrupted",), ("completed",)]


HOLD = """
import sys
from archive.catalog import Catalog
from archive.lock import writer_lock
from archive.settings import load_settings
catalog = Catalog.open(load_settings({"catalog": sys.argv[1]}))
with writer_lock(catalog, scopes=[sys.argv[2]]):
    print("held", flush=True)
    sys.stdin.readline()  # until the test says
"""


@pytest.mark.slow
def test_a_live_holder_on_another_machine_is_never_stolen_from(tmp_path: Path):
    folder = make_many(tmp_path / "coll", 5)
    catalog = tmp_path / "catalog.db"
    Catalog.open(catalog_settings(catalog)).close()
    # Machine B holds the folder with a lease of 4 s, renewing it every 4/3 s: a renewal late
    # by less than 2.7 s on a busy machine does not lose it.
    b = on_machine("machine-b", [sys.executable, "-c", HOLD, catalog_url(catalog), str(folder)],
                   catalog, ARCHIVE_LEASE_SECONDS="4")
    try:
        assert b.stdout is not None and b.stdin is not None
        assert b.stdout.readline() == b"held\n", b.stderr.read() if b.stderr else ""
        first = time.monotonic()
        time.sleep(5.0)  # longer than a lease: only renewal keeps it
        refused = ingest_here(catalog, folder)
        waited = ingest_here(catalog, folder, "--wait", "8")  # two more leases
        for result in (refused, waited):
            assert result.returncode == 2, result.stderr
            assert (f"another ingest is writing to this catalog (pid {b.pid} on machine-b"
                    in result.stderr)
            assert f"in {folder}; wait for it to finish or pass --wait SECONDS" in result.stderr
        assert count(catalog, "select count(*) from files") == 0
        assert catalog_rows(catalog, "select host, pid from locks") == [("machine-b", b.pid)]
        # Renewed all along: the first lease (4 s) ran out long ago, this one has not.
        assert time.monotonic() - first > 12.0 and lease_left(catalog) > 0
        b.stdin.write(b"done\n")
        b.stdin.flush()
        assert b.wait(timeout=30) == 0
    finally:
        if b.poll() is None:
            os.killpg(b.pid, signal.SIGKILL)
            b.wait()
    assert count(catalog, "select count(*) from locks") == 0
    ingested = ingest_here(catalog, folder)
    assert ingested.returncode == 0, ingested.stderr
    assert json.loads(ingested.stdout)["new"] == 5
