"""`archive runs` and `archive runs show N`: past runs printed again exactly as they printed
themselves, interrupted and killed runs included (real processes, real signals) (#11.3)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from archive.runs import count_line, run_kind
from benchmarks.generators.samples import make_jpeg, truncate
from tests.test_fixity import flip_byte_keep_mtime
from tests.test_resilience import count, make_many, wait_for
import contextlib
from tests.catalogs import catalog_env, catalog_url


def messy(folder: Path) -> Path:
    """Problems, junk, a link and a duplicate, first in walk order."""
    a = folder / "a_first"
    for i in range(3):
        truncate(make_jpeg(a / f"broken_{i}.jpg", (300, 200)), 0.4)
    make_jpeg(a / "photo.jpg", (50, 40))
    (a / "photo_copy.jpg").write_bytes((a / "photo.jpg").read_bytes())
    (a / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (a / "Thumbs.db").write_bytes(b"x")
    return folder


def test_runs_show_prints_what_ingest_and_verify_printed(cli, catalog_path, tmp_path):
    coll = messy(tmp_path / "coll")
    first = cli("ingest", str(coll), "--quiet")
    assert first.exit_code == 1
    assert cli("runs", "show", "1").stdout == first.stdout
    live = json.loads(cli("ingest", str(coll), "--quiet", "--json").output)
    again = json.loads(cli("runs", "show", "2", "--json").output)
    assert {k: again[k] for k in live} == live and again["kind"] == "ingest"

    flip_byte_keep_mtime(coll / "a_first" / "photo.jpg")
    (coll / "a_first" / "photo_copy.jpg").unlink()
    checked = cli("verify", "--all")
    assert checked.exit_code == 1 and "Missing:" in checked.output
    assert cli("runs", "show", "3").stdout == checked.stdout
    live = json.loads(cli("verify", "--all", "--json").output)
    again = json.loads(cli("runs", "show", "4", "--json").output)
    assert {k: again[k] for k in live} == live and again["kind"] == "verify"
    assert live["changed"][0]["expected"] != live["changed"][0]["actual"]

    listing = cli("runs").output.splitlines()
    assert [line.split()[:2] for line in listing[1:]] == [
        ["4", "verify"], ["3", "verify"], ["2", "ingest"], ["1", "ingest"]]
    runs = json.loads(cli("runs", "--limit", "2", "--json").output)
    assert [(r["run"], r["kind"], r["status"]) for r in runs] == [
        (4, "verify", "completed"), (3, "verify", "completed")]
    assert runs[0]["counts"]["checked"] == 5 and runs[0]["counts"]["changed"] == 1


def test_runs_show_an_unknown_run(cli, catalog):
    result = cli("runs", "show", "99")
    assert result.exit_code == 2 and "no run number 99" in result.output
    assert cli("runs").output.startswith("No runs yet")


def _start(catalog: Path, folder: Path) -> subprocess.Popen:
    env = {**os.environ, "ARCHIVE_JOBS": "1", "ARCHIVE_BATCH_SIZE": "10", **catalog_env(catalog)}
    return subprocess.Popen([sys.executable, "-m", "archive", "--catalog", catalog_url(catalog),
                             "ingest", str(folder), "--quiet"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True,
                            # SIGINT at its default, even when pytest runs in the background
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def _show(catalog: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "archive", "--catalog", catalog_url(catalog),
                           "runs", "show", "1", *args], capture_output=True, text=True,
                          timeout=60, env={**os.environ, **catalog_env(catalog)})


@pytest.mark.slow
@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL])
def test_runs_show_an_interrupted_ingest(tmp_path: Path, how: signal.Signals):
    folder = make_many(messy(tmp_path / "coll"), 1500)
    catalog = tmp_path / "catalog.db"
    proc = _start(catalog, folder)
    wait_for(lambda: count(catalog, "select count(*) from files") >= 40)
    if how == signal.SIGINT:
        # Ctrl-C to the ingest (its workers ignore it). Until #12.3 lands, one that arrives
        # while the ingest waits on a worker is taken for that file's failure and the run
        # goes on: press again, as a person would.
        while proc.poll() is None:
            proc.send_signal(how)
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(timeout=2)
    else:
        os.killpg(proc.pid, how)
    proc.communicate(timeout=120)
    catalogued = count(catalog, "select count(*) from files")
    assert 0 < catalogued < 1505, "the signal must land mid-run for this test to mean anything"

    shown = _show(catalog)
    assert shown.returncode == 0, shown.stderr
    text = shown.stdout
    for i in range(3):
        assert f"a_first/broken_{i}.jpg [" in text  # each problem, with its stage and reason
    assert "a_first/photo_copy.jpg  =  a_first/photo.jpg" in text
    assert "a_first/Thumbs.db: system junk" in text and "Interrupted" in text
    report = json.loads(_show(catalog, "--json").stdout)
    assert report["interrupted"] is True
    problems = {p["path"] for p in report["problems"]}
    assert {f"a_first/broken_{i}.jpg" for i in range(3)} <= problems
    if how == signal.SIGINT:  # the run's own counts
        assert report["new"] >= catalogued and report["seen"] >= report["new"]
        assert report["seconds"] > 0
    else:  # killed: counted from the events it recorded with its files
        assert report["new"] == catalogued
    # The next ingest finds the killed run still marked running and says it was interrupted.
    if how == signal.SIGKILL:
        assert "running" in _show(catalog).stderr
        proc = _start(catalog, folder)
        proc.communicate(timeout=300)
        assert "interrupted" in _show(catalog).stderr


def test_pure_helpers():
    assert run_kind(None) == "ingest" and run_kind("verify") == "verify"
    assert count_line("verify", {"ok": 5, "changed": 1, "missing": 0, "unreadable": 0,
                                 "bytes": 9}) == "ok 5 · changed 1 · missing 0 · unreadable 0"
    assert count_line("ingest", None).startswith("(killed")


def test_a_listing_counts_the_missing_paths_an_ingest_kept():
    from archive.runs import count_line
    assert count_line("ingest", {"new": 2, "missing": ["a.jpg", "b.jpg"]}) == \
        "new 2 · missing 2"
    assert count_line("verify", {"ok": 5, "missing": 0}) == "ok 5 · missing 0"
