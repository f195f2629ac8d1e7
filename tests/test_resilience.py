"""Kill -9 mid-ingest and resume; two ingests at once. Real processes, real signals."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy.exc import DBAPIError

from benchmarks.generators.samples import make_jpeg
from tests.catalogs import ENGINE, catalog_env, catalog_rows, catalog_settings, catalog_url

N_FILES = 2000


def make_many(folder: Path, n: int = N_FILES) -> Path:
    template = make_jpeg(folder / "box_000" / "scan_0000.jpg", (64, 64))
    data = template.read_bytes()
    for i in range(1, n):
        p = folder / f"box_{i // 50:03d}" / f"scan_{i:04d}.jpg"
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_bytes(data + i.to_bytes(4, "big"))  # distinct bytes: no duplicates
    return folder


def start_ingest(catalog: Path, folder: Path, **env: str) -> subprocess.Popen:
    environment = {**os.environ, "ARCHIVE_JOBS": "1", "ARCHIVE_BATCH_SIZE": "10",
                   **catalog_env(catalog), **env}
    return subprocess.Popen([sys.executable, "-m", "archive", "--catalog", catalog_url(catalog),
                             "ingest", str(folder), "--json", "--quiet"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=environment,
                            start_new_session=True)


def count(catalog: Path, sql: str) -> int:
    if ENGINE == "sqlite" and not catalog.exists():
        return 0
    try:
        return catalog_rows(catalog, sql)[0][0]
    except DBAPIError:
        return 0  # tables not created yet


def wait_for(predicate, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.02)


@pytest.mark.slow
def test_kill_dash_nine_then_resume_loses_and_duplicates_nothing(tmp_path: Path):
    folder = make_many(tmp_path / "coll")
    catalog = tmp_path / "catalog.db"
    proc = start_ingest(catalog, folder)
    wait_for(lambda: count(catalog, "select count(*) from files") >= 40)
    os.killpg(proc.pid, signal.SIGKILL)  # the ingest and its workers, mid-batch
    proc.wait()
    written = count(catalog, "select count(*) from files")
    assert 0 < written < N_FILES, "the kill must land mid-run for this test to mean anything"

    proc = start_ingest(catalog, folder)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err.decode()
    assert count(catalog, "select count(*) from files") == N_FILES
    assert count(catalog, "select count(distinct path) from files") == N_FILES
    assert count(catalog, "select count(*) from items") == N_FILES
    assert count(catalog, "select count(distinct accession) from items") == N_FILES
    assert count(catalog, "select count(*) from files where duplicate_of_id is not null") == 0
    assert count(catalog, "select count(*) from ingest_runs where status='interrupted'") == 1
    assert count(catalog, "select count(*) from locks") == 0


def hold_lock(catalog_path: Path):
    """Hold the catalog's writer lock from this test process, as a running ingest does."""
    from archive.catalog import Catalog
    from archive.lock import writer_lock
    catalog = Catalog.open(catalog_settings(catalog_path))
    return writer_lock(catalog)


@pytest.mark.slow
def test_second_ingest_is_refused_while_first_runs(tmp_path: Path):
    folder = make_many(tmp_path / "coll", 20)
    catalog = tmp_path / "catalog.db"
    with hold_lock(catalog):
        second = subprocess.run([sys.executable, "-m", "archive", "--catalog",
                                 catalog_url(catalog), "ingest", str(folder), "--quiet"],
                                capture_output=True, text=True, timeout=120,
                                env={**os.environ, **catalog_env(catalog)})
    assert second.returncode == 2
    assert f"another ingest is writing to this catalog (pid {os.getpid()}" in second.stderr
    assert "Traceback" not in second.stderr
    assert count(catalog, "select count(*) from files") == 0


@pytest.mark.slow
def test_two_real_ingests_at_once_never_duplicate(tmp_path: Path):
    folder = make_many(tmp_path / "coll", 300)
    catalog = tmp_path / "catalog.db"
    procs = [start_ingest(catalog, folder) for _ in range(2)]
    codes = [p.wait(timeout=300) for p in procs]
    assert sorted(codes) in ([0, 0], [0, 2])  # the loser either waited its turn or was refused
    assert count(catalog, "select count(*) from files") == 300
    assert count(catalog, "select count(distinct path) from files") == 300
    assert count(catalog, "select count(*) from items") == 300


@pytest.mark.slow
def test_second_ingest_with_wait_runs_after_the_first(tmp_path: Path):
    folder = make_many(tmp_path / "coll", 50)
    catalog = tmp_path / "catalog.db"
    with hold_lock(catalog):
        second = start_ingest(catalog, folder, ARCHIVE_LOCK_WAIT="120")
        time.sleep(1.0)
        assert second.poll() is None, "it must wait while the lock is held"
    out, err = second.communicate(timeout=300)
    assert second.returncode == 0, err.decode()
    assert count(catalog, "select count(*) from files") == 50
