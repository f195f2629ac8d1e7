"""The follower of `archive serve` (#14.3): it applies catalog changes to the index every few
seconds, one writer at a time, so an edit made elsewhere becomes searchable on the site within
seconds while requests never write. Several servers share one catalog, each with its own
index_dir: the edit here is made by the CLI of "another machine" (its own index folder), and
the site's index learns of it only through its follower."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

from archive.catalog import Catalog
from archive.errors import IndexBusy
from archive.settings import load_settings
from search.follower import Follower, why_not_follow
from search.index import rebuild
from search.searcher import SearchOptions, SearchService
from tests.test_search import ENGINES, RECORDS, _add_records, hold_writer

ARCHIVE = Path(sys.executable).with_name("archive")


def _settings(folder: Path, engine: str, index: str):  # type: ignore[no-untyped-def]
    return load_settings({"catalog": str(folder / "catalog.db"), "search_engine": engine,
                          "index_dir": str(folder / index)}, environ={})


def _edit_elsewhere(folder: Path, engine: str, *args: str) -> None:
    """`archive edit` on "another machine": same catalog, its own index folder."""
    env = {**os.environ, "ARCHIVE_SEARCH_ENGINE": engine,
           "ARCHIVE_INDEX_DIR": str(folder / "index-elsewhere")}
    done = subprocess.run([str(ARCHIVE), "--catalog", str(folder / "catalog.db"), "edit", *args],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr


def _total(settings, query: str) -> int:  # type: ignore[no-untyped-def]
    catalog = Catalog.open(settings, create=False, read_only=True)
    try:
        with SearchService(catalog) as service:  # read-only, as the site's
            return service.search(SearchOptions(query=query)).total
    finally:
        catalog.close()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_round_applies_an_edit_made_elsewhere(tmp_path: Path, engine: str):
    here = _settings(tmp_path, engine, "index-here")
    catalog = Catalog.open(here)
    _add_records(catalog, RECORDS)
    rebuild(catalog)
    follower = Follower(here, every=1.0)
    try:
        assert follower.step() == 0  # nothing changed
        _edit_elsewhere(tmp_path, engine, "QXS-L-00001", "--title", "Telescope 望远镜")
        assert _total(here, "望远镜") == 0  # this machine's index does not know yet
        assert follower.step() >= 1  # the edited item (and any dated at the index's mark)
        assert _total(here, "望远镜") == 1
        assert _total(here, "telescope") == 1
        assert follower.step() == 0
    finally:
        follower.stop()


@pytest.mark.parametrize("engine", ENGINES)
def test_a_busy_index_waits_then_tries_again_next_round(tmp_path: Path, engine: str):
    here = _settings(tmp_path, engine, "index-here")
    catalog = Catalog.open(here)
    _add_records(catalog, RECORDS)
    rebuild(catalog)
    _edit_elsewhere(tmp_path, engine, "QXS-L-00001", "--title", "Telescope 望远镜")
    follower = Follower(here, every=0.5)
    release = hold_writer(catalog)  # another writer (an ingest) holds the index
    try:
        started = time.monotonic()
        assert follower.step() == 0
        assert time.monotonic() - started >= 0.9  # waited (at least a second) before giving up
        assert follower.stats.failures == 1 and "still busy" in follower.stats.last_problem
    finally:
        release()
    assert follower.step() >= 1 and _total(here, "望远镜") == 1
    follower.stop()
    assert issubclass(IndexBusy, Exception)


def test_a_published_copy_is_not_followed(tmp_path: Path):
    settings = _settings(tmp_path, "tantivy", "index-here")
    Catalog.open(settings).close()
    assert why_not_follow(Catalog.open(settings, create=False, read_only=True)) is None
    os.chmod(tmp_path / "catalog.db", 0o444)
    tmp_path.chmod(0o555)
    try:
        copy = Catalog.open(settings, create=False, read_only=True)
        if not copy.immutable:
            pytest.skip("root writes whatever the file modes: the copy is not read-only here")
        assert "read-only copy" in (why_not_follow(copy) or "")
    finally:
        tmp_path.chmod(0o755)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _api_total(port: int, query: str) -> int:
    url = f"http://127.0.0.1:{port}/api/search?q={urllib.parse.quote(query)}"
    with urllib.request.urlopen(url, timeout=30) as r:
        return int(json.loads(r.read())["total"])


@pytest.mark.parametrize("engine", ENGINES)
def test_an_edit_becomes_searchable_on_the_site_within_seconds(tmp_path: Path, engine: str):
    here = _settings(tmp_path, engine, "index-here")
    catalog = Catalog.open(here)
    _add_records(catalog, RECORDS)
    rebuild(catalog)
    catalog.close()
    port = _free_port()
    env = {**os.environ, "ARCHIVE_SEARCH_ENGINE": engine,
           "ARCHIVE_INDEX_DIR": str(tmp_path / "index-here"), "ARCHIVE_FOLLOW_EVERY": "1"}
    server = subprocess.Popen([str(ARCHIVE), "--catalog", str(tmp_path / "catalog.db"), "serve",
                               "--port", str(port)], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                assert _api_total(port, "望远镜") == 0
                break
            except (ConnectionError, urllib.error.URLError):
                assert server.poll() is None, server.communicate()[1][-2000:]
                assert time.monotonic() < deadline, "the site did not start"
                time.sleep(0.3)
        _edit_elsewhere(tmp_path, engine, "QXS-L-00001", "--title", "Telescope 望远镜")
        edited = time.monotonic()
        while _api_total(port, "望远镜") != 1:
            # The follower's round (1 s) and the site's check for a newer index (5 s).
            assert time.monotonic() - edited < 120, "the edit did not reach the site"
            time.sleep(0.2)
        assert _api_total(port, "telescope") == 1
    finally:
        server.terminate()
        out, err = server.communicate(timeout=30)
    assert "Traceback" not in err, err
    assert "following the catalog" in out.lower()
