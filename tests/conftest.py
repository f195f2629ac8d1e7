"""Shared fixtures: temporary catalogs, a CLI runner, and real generated collections. The
catalogs are SQLite files, or with ARCHIVE_TEST_POSTGRES_URL PostgreSQL databases
(tests/catalogs.py; `make test-postgres`)."""
from __future__ import annotations

import csv
import io
import json
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from archive.catalog import Catalog
from archive.cli import main
from benchmarks.generators.samples import build_demo_collection, make_jpeg
from tests.catalogs import (
    DATABASES, ENGINE, POSTGRES_URL, catalog_env, catalog_settings, catalog_url,
)

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


def _engine_line() -> str:
    if POSTGRES_URL:
        from sqlalchemy.engine import make_url
        return f"catalogs: PostgreSQL at {make_url(POSTGRES_URL).render_as_string()}"
    return "catalogs: SQLite"


def pytest_report_header(config: pytest.Config) -> str:
    """Which engine holds the catalogs, in the log: CI runs the suite twice."""
    return _engine_line()


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    terminalreporter.write_line(_engine_line())  # also under -q, which drops the header


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if ENGINE == "sqlite":
        return
    for item in items:
        marker = item.get_closest_marker("sqlite_only")
        if marker is not None:
            reason = marker.args[0] if marker.args else marker.kwargs.get("reason", "")
            item.add_marker(pytest.mark.skip(reason=f"SQLite only: {reason}"))


@pytest.fixture(autouse=True)
def _catalogs_of_the_test():
    """On PostgreSQL the databases a test's catalogs stood for serve the next test."""
    if DATABASES is None:
        yield
        return
    DATABASES.in_test = True
    yield
    DATABASES.end_test()


@pytest.fixture(scope="session", autouse=True)
def _test_databases():
    yield
    if DATABASES is not None:
        DATABASES.drop_all()


@pytest.fixture
def catalog_path(tmp_path: Path) -> Path:
    return tmp_path / "catalog.db"


@pytest.fixture
def settings(catalog_path: Path):
    return catalog_settings(catalog_path, jobs=2, file_timeout=30.0)


@pytest.fixture
def catalog(settings) -> Catalog:
    cat = Catalog.open(settings)
    yield cat
    cat.close()


@pytest.fixture
def cli(catalog_path: Path) -> Callable[..., Result]:
    """Run `archive --catalog <tmp> ARGS...`; returns click's Result."""
    runner = CliRunner()

    def run(*args: str, input: str | None = None) -> Result:
        env = {"ARCHIVE_JOBS": "2", **catalog_env(catalog_path)}
        return runner.invoke(main, ["--catalog", catalog_url(catalog_path), *args],
                             input=input, env=env, catch_exceptions=False)
    return run


@pytest.fixture
def cli_json(cli) -> Callable[..., tuple[int, dict]]:
    def run(*args: str) -> tuple[int, dict]:
        result = cli(*args, "--json")
        return result.exit_code, json.loads(result.stdout)
    return run


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    """The demo collection, generated once per session; tests copy it before changing it."""
    base = tmp_path_factory.mktemp("demo")
    build_demo_collection(base)
    return base


@pytest.fixture
def demo(demo_template: Path, tmp_path: Path) -> Path:
    """A private copy of the demo: returns the base folder (collection/, scientists.csv)."""
    import shutil
    base = tmp_path / "demo"
    shutil.copytree(demo_template, base, symlinks=True)
    return base


def snapshot(folder: Path) -> dict[str, tuple[int, int, bytes]]:
    """(size, mtime_ns, bytes) of every file: to prove originals are never written to."""
    out = {}
    for dirpath, _, files in os.walk(folder):
        for name in files:
            p = os.path.join(dirpath, name)
            st = os.stat(p)
            with open(p, "rb") as fh:
                out[p] = (st.st_size, st.st_mtime_ns, fh.read())
    return out


def write_manifest(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    buf = io.StringIO()
    csv.writer(buf, lineterminator="\n").writerows(rows)
    path.write_bytes(buf.getvalue().encode(encoding))
    return path


def run(catalog: Path, *args: str):
    """`archive --catalog <the catalog at this path> ARGS...`, in process."""
    return CliRunner().invoke(main, ["--catalog", catalog_url(catalog), *args],
                              env=catalog_env(catalog), catch_exceptions=False)


@pytest.fixture(scope="session")
def demo_site(tmp_path_factory):
    """The demo collection plus a restricted letter and a closed photo, ingested, derived,
    indexed, with an exhibit that holds the restricted letter too."""
    base = tmp_path_factory.mktemp("site")
    coll = build_demo_collection(base)
    make_jpeg(coll / "钱学森" / "信件" / "restricted_letter_1965.jpg")
    make_jpeg(coll / "钱学森" / "照片" / "closed_photo_1966.jpg")
    manifest = coll / "manifest.csv"
    extra = write_manifest(base / "more.csv", [
        ["path", "title", "access", "description"],
        ["钱学森/信件/restricted_letter_1965.jpg", "绝密信件", "restricted", "绝密 导弹 内容"],
        ["钱学森/照片/closed_photo_1966.jpg", "封存照片", "closed", "封存"],
    ])
    catalog = base / "catalog.db"
    run(catalog, "scientists", "import", str(base / "scientists.csv"))
    run(catalog, "ingest", str(coll), "--manifest", str(manifest))
    run(catalog, "ingest", str(coll), "--manifest", str(extra))
    run(catalog, "derive", "--access-copies")
    run(catalog, "exhibit", "create", "liangdan", "--title", "两弹一星")
    run(catalog, "exhibit", "add", "liangdan", "--query", "导弹 OR 卫星", "--include-restricted",
        "--caption", "说明")
    from web.app import create_app
    app = create_app(catalog_settings(catalog))
    app.testing = True
    return app, catalog, coll


_fresh = iter(range(1, 1 << 30))


@pytest.fixture
def postgres_url() -> str:
    """The URL of a new, empty database on the test server (not one at the newest schema, as
    the catalogs are), dropped after the test; skips when the suite runs on SQLite."""
    if DATABASES is None:
        pytest.skip("needs PostgreSQL: set ARCHIVE_TEST_POSTGRES_URL or run `make test-postgres`")
    from sqlalchemy import text
    name = f"archive_empty_{os.getpid()}_{next(_fresh)}"
    with DATABASES.admin().connect() as con:
        con.execute(text(f'CREATE DATABASE "{name}"'))
    yield DATABASES.url_of(name)
    with DATABASES.admin().connect() as con:
        # FORCE: a connection the test left open (a server thread's pool) must not keep it.
        con.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
