"""A read-only catalog (a published copy: the file mode 444 in a folder no one may write, as on
read-only media) is read by every command that only reads, and none of them writes to it:
not the catalog, not a -wal or -shm file beside it, not its search index (#12.5).

Root ignores file modes, so when the suite runs as root the commands run as `nobody` (through
setpriv), as any archivist's account would meet the copy."""
from __future__ import annotations

import functools
import json
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.generators.samples import make_jpeg

ARCHIVE = Path(sys.executable).with_name("archive")
pytestmark = pytest.mark.sqlite_only("a catalog file made read-only (mode 444, a folder no one "
                                     "may write), as on read-only media")


def _as_reader() -> list[str]:
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot run as a user file modes bind")
    as_nobody = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
    if not _nobody_can_run(tuple(as_nobody)):
        pytest.skip(f"`nobody` cannot run {ARCHIVE} (a folder above the checkout is private, "
                    "as a mktemp folder is): clone it where other users may read")
    return as_nobody


@functools.cache
def _nobody_can_run(as_nobody: tuple[str, ...]) -> bool:
    return subprocess.run([*as_nobody, str(ARCHIVE), "--version"], capture_output=True,
                          timeout=60).returncode == 0


def reader(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "HOME": tempfile.gettempdir()}
    env.pop("ARCHIVE_CONFIG", None)
    done = subprocess.run([*_as_reader(), str(ARCHIVE), *args], capture_output=True,
                          text=True, env=env, timeout=300)
    if check:
        assert done.returncode == 0, (args, done.stdout[-1000:], done.stderr[-2000:])
    return done


def files_of(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every file under the folder with its size, mtime and bytes."""
    out = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            st = path.stat()
            out[str(path.relative_to(folder))] = (st.st_size, st.st_mtime_ns, path.read_bytes())
    return out


def _set_modes(folder: Path, file_mode: int, dir_mode: int) -> None:
    for path in folder.rglob("*"):
        path.chmod(dir_mode if path.is_dir() else file_mode)
    folder.chmod(dir_mode)


@pytest.fixture(params=["tantivy", "whoosh"])
def published(request, monkeypatch) -> Iterator[tuple[Path, str]]:
    """A catalog with its search index, made read-only: (catalog path, an accession), for
    each engine. Tantivy cannot open a folder it may not write: it reads it through a private
    folder of links (search/engines/tantivy.py, Opened)."""
    monkeypatch.setenv("ARCHIVE_SEARCH_ENGINE", request.param)
    # In /tmp itself: pytest's own temporary folders are closed to other users.
    base = Path(tempfile.mkdtemp(prefix="published-"))
    try:
        collection = base / "collection" / "钱学森" / "信件"
        make_jpeg(collection / "火箭_rocket_1956_02_17.jpg")
        (collection / "火箭_rocket_1956_02_17.txt").write_text("关于火箭的信。A letter on rockets.",
                                                             encoding="utf-8")
        catalog = base / "published" / "catalog.db"
        catalog.parent.mkdir()
        # By its owner, in a process that ends, as a copy is made and then published.
        subprocess.run([str(ARCHIVE), "--catalog", str(catalog), "ingest",
                        str(base / "collection"), "--quiet"], check=True, capture_output=True)
        accession = json.loads(subprocess.run(
            [str(ARCHIVE), "--catalog", str(catalog), "search", "rocket", "--json"],
            check=True, capture_output=True).stdout)["hits"][0]["accession"]
        assert not list(catalog.parent.glob("*-wal")), "the writer left its WAL behind"
        _set_modes(catalog.parent, 0o444, 0o555)
        base.chmod(0o755)
        yield catalog, accession
    finally:
        _set_modes(base, 0o644, 0o755)
        shutil.rmtree(base)


def test_read_commands_work_on_a_read_only_catalog_and_write_nothing(published):
    catalog, accession = published
    before = files_of(catalog.parent)
    assert stat.S_IMODE(catalog.stat().st_mode) == 0o444
    at = ["--catalog", str(catalog)]

    stats = json.loads(reader(*at, "stats", "--json").stdout)
    assert (stats["items"], stats["files"]) == (1, 2)
    assert "Items: 1" in reader(*at, "stats", "--by", "year").stdout
    hits = json.loads(reader(*at, "search", "火箭", "--json").stdout)
    assert [h["accession"] for h in hits["hits"]] == [accession]
    assert accession in reader(*at, "search", "rocket").stdout
    assert json.loads(reader(*at, "show", accession, "--json").stdout)["accession"] == accession
    exported = reader(*at, "export").stdout.splitlines()
    assert len(exported) == 2 and accession in exported[0]
    assert "火箭" in reader(*at, "export", "--format", "csv").stdout
    reader(*at, "scientists", "list")
    reader(*at, "exhibit", "list")

    assert files_of(catalog.parent) == before, "a read command wrote beside the catalog"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_the_site_serves_a_read_only_catalog(published):
    catalog, accession = published
    before = files_of(catalog.parent)
    port = _free_port()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "HOME": tempfile.gettempdir()}
    server = subprocess.Popen([*_as_reader(), str(ARCHIVE), "--catalog", str(catalog), "serve",
                               "--port", str(port)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        pages = {}
        for path in ("/", f"/items/{accession}", "/search?q=%E7%81%AB%E7%AE%AD"):
            deadline = time.monotonic() + 60
            while True:
                try:
                    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}",
                                                timeout=30) as r:
                        pages[path] = (r.status, r.read().decode("utf-8"))
                    break
                except (ConnectionError, urllib.error.URLError):
                    assert server.poll() is None, server.communicate()[1][-2000:]
                    assert time.monotonic() < deadline, "the site did not start"
                    time.sleep(0.3)
    finally:
        server.terminate()
        server.wait(timeout=30)
    assert all(status == 200 for status, _ in pages.values())
    assert accession in pages["/search?q=%E7%81%AB%E7%AE%AD"][1]
    assert files_of(catalog.parent) == before, "the site wrote beside the catalog"


def _links_home() -> Path:
    """Where a reader's private folders of links to a Tantivy index go (search.engines.links)."""
    import pwd
    uid = pwd.getpwnam("nobody").pw_uid if _as_reader() else os.getuid()
    return Path(tempfile.gettempdir()) / f"archive-index-{uid}"


def test_a_killed_server_s_private_index_folder_is_removed_by_the_next_open(published):
    """Tantivy reads a read-only index through a private folder of links; `kill -9` leaves the
    server no chance to remove its folder, so the next reader's open does (#14 leftover)."""
    catalog, _ = published
    if os.environ["ARCHIVE_SEARCH_ENGINE"] != "tantivy":
        pytest.skip("only Tantivy reads an index through a private folder")
    port = _free_port()
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1", "HOME": tempfile.gettempdir()}
    server = subprocess.Popen([*_as_reader(), str(ARCHIVE), "--catalog", str(catalog), "serve",
                               "--port", str(port)], env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, text=True)
    home = _links_home()
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/search?q=rocket",
                                            timeout=30) as r:
                    assert r.status == 200
                break
            except (ConnectionError, urllib.error.URLError):
                assert server.poll() is None, server.communicate()[1][-2000:]
                assert time.monotonic() < deadline, "the site did not start"
                time.sleep(0.3)
        mine = [p for p in home.iterdir() if p.name.startswith(f"{server.pid}-")]
        assert len(mine) >= 1 and all(any(p.iterdir()) for p in mine)
    finally:
        server.kill()  # SIGKILL: nothing of the server's runs after this
        server.wait(timeout=30)
    assert all(p.exists() for p in mine), "a killed process cannot have removed its folder"
    reader("--catalog", str(catalog), "search", "rocket", "--json")
    assert not any(p.exists() for p in mine), "the next open left the dead server's folder"
    assert not [p for p in home.iterdir() if p.name.split("-")[0] == str(server.pid)]
