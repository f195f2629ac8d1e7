"""`archive verify`: real files changed, deleted, replaced by a FIFO, under an absent root;
rotation, limits, paths; Ctrl-C on a real process (#11.1)."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from archive.fixity import (
    CHANGED, MISSING, OK, UNREADABLE, _under, changed_reason, check_file, new_status,
    outcome_of, parse_changed,
)
from benchmarks.generators.samples import make_jpeg, make_wav
from tests.catalogs import catalog_env, catalog_rows, catalog_url


def flip_byte_keep_mtime(path: Path, offset: int = 200) -> None:
    """Change one byte and put the mtime back: size and mtime say nothing happened."""
    st = path.stat()
    data = bytearray(path.read_bytes())
    data[offset] ^= 0x01
    path.write_bytes(bytes(data))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_mtime_ns == st.st_mtime_ns and path.stat().st_size == st.st_size


@pytest.fixture
def coll(tmp_path: Path) -> Path:
    root = tmp_path / "coll"
    for i in range(6):
        make_jpeg(root / "钱学森" / "信件" / f"letter_{i}.jpg", (64 + i, 48))
    make_wav(root / "钱学森" / "录音" / "interview.wav", seconds=1.0)
    (root / "notes").mkdir()
    (root / "notes" / "说明.txt").write_text("手稿说明 1956", encoding="utf-8")
    return root


def db(catalog: Path, sql: str) -> list[tuple]:
    return catalog_rows(catalog, sql)


def ingested(cli, coll: Path) -> None:
    result = cli("ingest", str(coll), "--quiet")
    assert result.exit_code == 0, result.output


def test_a_byte_changed_with_its_mtime_restored_is_changed(cli, cli_json, coll, catalog_path):
    ingested(cli, coll)
    code, clean = cli_json("verify", "--all")
    assert code == 0 and clean["checked"] == 8 and clean["ok"] == 8
    assert clean["bytes"] == sum(p.stat().st_size for p in coll.rglob("*") if p.is_file())

    target = coll / "钱学森" / "信件" / "letter_3.jpg"
    before = db(catalog_path, "select sha256 from files where path like '%letter_3.jpg'")[0][0]
    flip_byte_keep_mtime(target)
    code, out = cli_json("verify", "--all")
    assert code == 1
    assert out["checked"] == 8 and out["ok"] == 7 and out["missing"] == []
    [changed] = out["changed"]
    assert changed["path"] == str(target) and changed["expected"] == before
    import hashlib
    assert changed["actual"] == hashlib.sha256(target.read_bytes()).hexdigest() != before

    # Never fixed silently: the catalog keeps its checksum and marks the file.
    sha, status, since, verified = db(
        catalog_path, "select sha256, status, status_since, last_verified from files "
                      "where path like '%letter_3.jpg'")[0]
    assert (sha, status) == (before, "changed") and since and verified
    events = db(catalog_path, "select outcome, agent, tool, field, old_value, new_value, detail "
                              "from events where kind = 'fixity check' and file_id = "
                              "(select id from files where path like '%letter_3.jpg') "
                              "order by id")
    assert [e[0] for e in events] == ["success", "failure"]
    assert events[1][3:5] == ("status", "present") and events[1][5] == "changed"
    assert events[1][1] and events[1][2].startswith("archive ")
    assert before in events[1][6] and changed["actual"] in events[1][6]

    # The text summary says so too, and the next check still finds it (no status flip-flop).
    result = cli("verify", str(target))
    assert result.exit_code == 1 and "Changed" in result.output and str(target) in result.output

    # A later ingest records the modification as today and the file is present again.
    ingested(cli, coll)
    assert db(catalog_path, "select count(*) from events where kind = 'modification'") == [(1,)]
    sha, status = db(catalog_path, "select sha256, status from files "
                                   "where path like '%letter_3.jpg'")[0]
    assert sha == changed["actual"] and status == "present"
    assert cli_json("verify", "--all")[0] == 0


def test_a_deleted_file_is_missing_and_comes_back(cli, cli_json, coll, catalog_path):
    ingested(cli, coll)
    gone = coll / "钱学森" / "录音" / "interview.wav"
    kept = gone.read_bytes()
    gone.unlink()
    code, out = cli_json("verify")
    assert code == 1 and out["missing"] == [str(gone)] and out["ok"] == 7
    assert db(catalog_path, "select status from files where path like '%interview.wav'") == \
        [("missing",)]
    assert db(catalog_path, "select count(*) from files") == [(8,)]  # never deleted
    since = db(catalog_path, "select status_since from files where status = 'missing'")[0][0]
    assert since

    assert cli_json("verify", str(gone))[0] == 1  # still missing: status_since unchanged
    assert db(catalog_path, "select status_since from files where status = 'missing'") == \
        [(since,)]

    gone.write_bytes(kept)
    code, out = cli_json("verify", str(gone))
    assert code == 0 and out["ok"] == 1
    assert db(catalog_path, "select status from files where path like '%interview.wav'") == \
        [("present",)]


def test_rotation_least_recently_verified_first(cli, cli_json, coll, catalog_path):
    ingested(cli, coll)
    seen: list[str] = []
    for _ in range(4):
        code, out = cli_json("verify", "--limit", "2", "--jobs", "1")
        assert code == 0 and out["checked"] == 2
        seen += [r[0] for r in db(catalog_path, "select f.path from events e join files f on "
                                  "f.id = e.file_id where e.run_id = (select max(id) from "
                                  "ingest_runs) order by e.id")]
    assert len(set(seen)) == 8, "four runs of two walk all eight files once"
    # The oldest-verified come next: the first run's files again.
    cli_json("verify", "--limit", "2")
    again = [r[0] for r in db(catalog_path, "select f.path from events e join files f on "
                              "f.id = e.file_id where e.run_id = (select max(id) from "
                              "ingest_runs) order by e.id")]
    assert sorted(again) == sorted(seen[:2])


def test_older_than_all_and_max_seconds(cli, cli_json, coll, catalog_path):
    ingested(cli, coll)
    assert cli_json("verify", "--older-than", "1")[1]["checked"] == 8  # never verified
    assert cli_json("verify", "--older-than", "1")[1]["checked"] == 0  # all verified today
    assert cli_json("verify", "--all")[1]["checked"] == 8
    code, out = cli_json("verify", "--max-seconds", "0")
    assert code == 0 and out["checked"] == 0
    assert "--max-seconds" in cli("verify", "--max-seconds", "0").output
    runs = db(catalog_path, "select count(*) from ingest_runs")
    bad = cli("verify", "--all", "--older-than", "3")
    assert bad.exit_code == 2 and "--older-than" in bad.output
    assert cli("verify", "--all", str(coll)).exit_code == 2
    assert db(catalog_path, "select count(*) from ingest_runs") == runs  # nothing recorded


def test_paths_limit_the_check(cli, cli_json, coll, tmp_path, monkeypatch):
    ingested(cli, coll)
    monkeypatch.chdir(coll)
    code, out = cli_json("verify", "钱学森/信件")  # relative to the working folder
    assert code == 0 and out["checked"] == 6
    assert cli_json("verify", str(coll / "notes" / "说明.txt"))[1]["checked"] == 1
    assert cli_json("verify", str(coll))[1]["checked"] == 8
    # A folder whose name only starts like another's is not under it.
    (coll / "钱学森" / "信件x").mkdir()
    assert cli_json("verify", str(coll / "钱学森" / "信件x"))[1]["checked"] == 0
    outside = cli("verify", str(tmp_path))
    assert outside.exit_code == 0  # the folder holds the root: everything under it
    elsewhere = tmp_path.parent / "elsewhere"
    elsewhere.mkdir(exist_ok=True)
    bad = cli("verify", str(elsewhere))
    assert bad.exit_code == 2 and "under no catalogued folder" in bad.output


def test_a_fifo_in_a_files_place_is_unreadable_and_does_not_hang(cli, cli_json, coll,
                                                                catalog_path):
    ingested(cli, coll)
    target = coll / "notes" / "说明.txt"
    target.unlink()
    os.mkfifo(target)
    code, out = cli_json("verify", "--all")
    assert code == 1 and out["unreadable"] == [{"path": str(target),
                                                "reason": "not a regular file"}]
    # Unreadable says nothing about the bytes: the status is left as it was.
    assert db(catalog_path, "select status from files where path like '%说明.txt'") == [(None,)]


def test_an_absent_root_is_not_marked_missing(cli, cli_json, coll, catalog_path, tmp_path):
    ingested(cli, coll)
    coll.rename(tmp_path / "unmounted")
    code, out = cli_json("verify", "--all")
    assert code == 1 and out["missing"] == [] and len(out["unreadable"]) == 8
    assert "root folder" in out["unreadable"][0]["reason"]
    assert db(catalog_path, "select count(*) from files where status is not null") == [(0,)]


def test_agent_is_by_or_the_os_user(cli, coll, catalog_path):
    import getpass
    ingested(cli, coll)
    cli("verify", "--limit", "1", "--by", "李伟")
    cli("verify", "--limit", "1")
    agents = [r[0] for r in db(catalog_path, "select agent from events where kind = "
                                             "'fixity check' order by id")]
    assert agents == ["李伟", getpass.getuser()]


def test_ctrl_c_stops_verify_cleanly(tmp_path: Path):
    """A real process, a real SIGINT, in the middle of reading a large (sparse) file."""
    root = tmp_path / "coll"
    make_jpeg(root / "a.jpg", (32, 32))
    big = root / "big.bin"
    big.write_bytes(b"x")
    catalog = tmp_path / "catalog.db"
    env = {**os.environ, "ARCHIVE_JOBS": "1", **catalog_env(catalog)}
    base = [sys.executable, "-m", "archive", "--catalog", catalog_url(catalog)]
    subprocess.run([*base, "ingest", str(root), "--quiet"], env=env, check=True,
                   capture_output=True)
    os.truncate(big, 64 * 2**30)  # 64 GiB of holes: minutes to hash, nothing on disk
    # SIGINT at its default, as from a terminal, even when pytest runs in the background.
    proc = subprocess.Popen([*base, "verify", "--all", "--json"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    deadline = time.monotonic() + 60
    while not db(catalog, "select count(*) from ingest_runs where kind = 'verify'")[0][0]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    time.sleep(0.5)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err.decode()
    assert b"Traceback" not in err
    report = json.loads(out)
    assert report["interrupted"] is True and report["changed"] == []
    assert db(catalog, "select status from ingest_runs where kind = 'verify'") == \
        [("interrupted",)]
    assert db(catalog, "select count(*) from locks") == [(0,)]


# -- pure functions ----------------------------------------------------------------------------

def test_outcomes_and_statuses():
    assert outcome_of("AB", "ab") == OK and outcome_of("ab", "cd") == CHANGED
    assert new_status(None, OK) is None and new_status("missing", OK) == "present"
    assert new_status(None, CHANGED) == "changed" and new_status("changed", CHANGED) is None
    assert new_status("changed", MISSING) == "missing" and new_status(None, UNREADABLE) is None
    assert parse_changed(changed_reason("ab", "cd")) == ("ab", "cd")
    assert parse_changed("something else") == ("", "")
    assert _under("/r/a/b", "/r") == "a/b" and _under("/r", "/r/x") == ""
    assert _under("/q", "/r") is None and _under("/rx/a", "/r") is None
    assert _under("/", "/r") == ""


def test_check_file(tmp_path: Path):
    import hashlib
    p = tmp_path / "f.bin"
    p.write_bytes(b"abc" * 1000)
    good = hashlib.sha256(p.read_bytes()).hexdigest()
    assert check_file(str(p), good).outcome == OK
    assert check_file(str(p), "0" * 64).outcome == CHANGED
    assert check_file(str(tmp_path / "nope"), good).outcome == MISSING
    assert check_file(str(tmp_path / "nope" / "deeper"), good).outcome == MISSING
    (tmp_path / "link").symlink_to(p)
    assert check_file(str(tmp_path / "link"), good).outcome == UNREADABLE


def test_recording_checks_costs_no_statement_per_file(cli, coll, catalog):
    """#11 leftover (verify at 0.53-0.64x of a hash-only pass on small files): each check's
    event and `last_verified` went to SQLite as one executemany row each, the recording thread
    taking the GIL back from the hashing threads once per file. A batch is now a few
    statements, whatever its size."""
    from sqlalchemy import event, func, select

    from archive.fixity import VerifyOptions, verify
    from archive.models import Event, File
    for i in range(40):
        make_jpeg(coll / "more" / f"scan_{i}.jpg", (16 + i, 16))
    ingested(cli, coll)
    executed: list[tuple[bool, str]] = []

    def count(conn, cursor, statement, parameters, context, executemany):  # noqa: ANN001
        executed.append((executemany, " ".join(statement.split()[:3]).upper()))
    event.listen(catalog.engine, "before_cursor_execute", count)
    try:
        report = verify(catalog, VerifyOptions(all=True, jobs=2))
    finally:
        event.remove(catalog.engine, "before_cursor_execute", count)
    assert report.checked == report.ok == 48
    if catalog.engine.dialect.name == "sqlite":  # elsewhere events go by executemany
        # No check's event or last_verified is a statement of its own (the work claims of
        # verify on several machines, archive/claims.py, are written apart from the checks).
        assert [sql for many, sql in executed if many and
                (sql.startswith("INSERT INTO EVENTS") or sql.startswith("UPDATE FILES"))] == []
    assert sum(1 for _, sql in executed if sql.startswith("INSERT INTO EVENTS")) <= 2
    with catalog.session() as s:
        assert s.scalar(select(func.count(Event.id)).where(Event.kind == "fixity check")) == 48
        assert s.scalar(select(func.count(File.id)).where(File.last_verified.is_(None))) == 0
