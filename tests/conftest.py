"""Shared fixtures: temporary catalogs, a CLI runner, and real generated collections."""
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
from archive.settings import load_settings

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"


@pytest.fixture
def catalog_path(tmp_path: Path) -> Path:
    return tmp_path / "catalog.db"


@pytest.fixture
def settings(catalog_path: Path):
    return load_settings({"catalog": str(catalog_path), "jobs": 2, "file_timeout": 30.0},
                         environ={})


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
        env = {"ARCHIVE_JOBS": "2"}
        return runner.invoke(main, ["--catalog", str(catalog_path), *args], input=input,
                             env=env, catch_exceptions=False)
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
    return CliRunner().invoke(main, ["--catalog", str(catalog), *args], catch_exceptions=False)


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
    app = create_app(load_settings({"catalog": str(catalog)}, environ={}))
    app.testing = True
    return app, catalog, coll


POSTGRES_ADMIN_URL = os.environ.get("ARCHIVE_TEST_POSTGRES_URL")


@pytest.fixture(scope="session")
def postgres_admin():
    """An engine on the server ARCHIVE_TEST_POSTGRES_URL names, allowed to create databases
    (`make test-postgres` starts one); the tests that need it skip without it."""
    if not POSTGRES_ADMIN_URL:
        pytest.skip("needs PostgreSQL: set ARCHIVE_TEST_POSTGRES_URL or run `make test-postgres`")
    from sqlalchemy import create_engine
    engine = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


_databases = iter(range(1, 1 << 30))


@pytest.fixture
def postgres_url(postgres_admin) -> str:
    """The URL of a new, empty database on the test server, dropped after the test."""
    from sqlalchemy import text
    name = f"archive_test_{os.getpid()}_{next(_databases)}"
    with postgres_admin.connect() as con:
        con.execute(text(f'CREATE DATABASE "{name}"'))
    yield postgres_admin.url.set(database=name).render_as_string(hide_password=False)
    with postgres_admin.connect() as con:
        # FORCE: a connection the test left open (a server thread's pool) must not keep it.
        con.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
