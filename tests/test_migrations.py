"""Schema migrations (#18 Schema changes as migrations): the revisions build exactly the models'
schema, a catalog made by the previous release is upgraded with its data intact on SQLite and
on PostgreSQL, and an older program refuses a newer catalog."""
from __future__ import annotations

import re
import shutil
import sqlite3
import threading
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from click.testing import CliRunner
from sqlalchemy import Engine, MetaData, create_engine, inspect, select, text

from archive import schema
from archive.catalog import Catalog
from archive.cli import main
from archive.models import Base
from archive.settings import load_settings
from benchmarks.generators.samples import make_jpeg

FIXTURES = Path(__file__).parent / "fixtures"
# Made by the previous release (commit 36e4b3e): the demo collection ingested, an exhibit, an
# edit and a verify run; its search index is not kept.
RELEASE_CATALOG = FIXTURES / "catalog_release_36e4b3e.db"
VERSIONS = Path(schema.__file__).with_name("migrations") / "versions"


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request, tmp_path: Path) -> str:
    """An empty catalog database on each engine."""
    if request.param == "sqlite":
        return str(tmp_path / "catalog.db")
    return str(request.getfixturevalue("postgres_url"))


def _engine(url: str) -> Engine:
    return create_engine(url if "://" in url else f"sqlite:///{url}")


def _invoke(url: str, *args: str) -> Any:
    return CliRunner().invoke(main, ["--catalog", url, *args], catch_exceptions=False)


def _release_tables() -> MetaData:
    """The previous release's tables, as revision 0001 froze them."""
    metadata: MetaData = schema._scripts().get_revision("0001").module.METADATA
    return metadata


def _rows(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the previous release's tables, in the columns it had."""
    out = {}
    with engine.connect() as con:
        for table in _release_tables().sorted_tables:
            order = list(table.primary_key.columns)
            out[table.name] = [tuple(r) for r in con.execute(select(table).order_by(*order))]
    return out


def _schema_differences(engine: Engine) -> list[Any]:
    with engine.connect() as con:
        return list(compare_metadata(MigrationContext.configure(con), Base.metadata))


def test_the_revisions_are_one_line_of_numbered_files():
    files = sorted(p.name for p in VERSIONS.glob("[0-9]*.py"))
    numbers = [name[:4] for name in files]
    assert numbers == [f"{n:04d}" for n in range(1, len(files) + 1)], files
    assert all(re.fullmatch(r"\d{4}_[a-z0-9_]+\.py", name) for name in files), files
    assert schema.head() == numbers[-1]  # one head: each revision follows the one before


def test_the_head_known_without_alembic_is_alembics_head():
    """Opening a current catalog compares it with schema.HEAD instead of reading the revisions
    with Alembic (a third of a second of every command's start-up): it must not drift."""
    assert schema.head() == schema.HEAD, (
        f"archive/schema.py HEAD is {schema.HEAD!r} but the newest revision is "
        f"{schema.head()!r}: set HEAD to it (`python -m archive.migrations` does)")


def test_writing_a_revision_sets_the_head_in_the_source():
    source = Path(schema.__file__).read_text(encoding="utf-8")
    changed = schema.with_head(source, "0123")
    assert '\nHEAD = "0123"\n' in changed and f'\nHEAD = "{schema.HEAD}"\n' not in changed
    assert changed.replace('HEAD = "0123"', f'HEAD = "{schema.HEAD}"') == source
    with pytest.raises(RuntimeError):
        schema.with_head("no head here", "0123")


def test_a_new_catalog_is_marked_as_alembic_marks_it(empty_url, tmp_path):
    """A new catalog's version table is written without Alembic: the same table, key and row
    as Alembic's own stamp of the newest revision."""
    Catalog.open(load_settings({"catalog": empty_url}, environ={})).close()
    ours = _engine(empty_url)
    theirs = _engine(str(tmp_path / "stamped.db"))
    try:
        with theirs.begin() as con:
            MigrationContext.configure(con).stamp(schema._scripts(), "head")

        def described(engine: Engine) -> tuple[Any, ...]:
            found = inspect(engine)
            columns = [(c["name"], str(c["type"]), c["nullable"])
                       for c in found.get_columns("alembic_version")]
            key = found.get_pk_constraint("alembic_version")
            with engine.connect() as con:
                rows = con.execute(text("SELECT version_num FROM alembic_version")).all()
                heads = MigrationContext.configure(con).get_current_heads()
            return columns, key["constrained_columns"], key["name"], rows, heads

        assert described(ours) == described(theirs)
    finally:
        ours.dispose()
        theirs.dispose()


def test_the_revisions_build_the_models_schema(empty_url):
    engine = _engine(empty_url)
    try:
        with engine.begin() as con:
            schema.upgrade_to(con, "head")
        # A schema change in archive/models.py without its revision fails here.
        assert _schema_differences(engine) == []
    finally:
        engine.dispose()


def test_a_new_catalog_is_made_at_the_newest_revision(empty_url):
    catalog = Catalog.open(load_settings({"catalog": empty_url}, environ={}))
    try:
        assert catalog.upgraded is not None and catalog.upgraded.kind is schema.Kind.EMPTY
        with catalog.engine.connect() as con:
            assert schema.state(con).kind is schema.Kind.CURRENT
        assert _schema_differences(catalog.engine) == []
    finally:
        catalog.close()


def test_processes_opening_a_new_catalog_at_once_all_find_it_made(empty_url):
    settings = load_settings({"catalog": empty_url}, environ={})
    errors: list[BaseException] = []

    def open_it() -> None:
        try:
            Catalog.open(settings).close()
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def _copy_rows(source: Engine, target: Engine) -> None:
    """The release catalog's rows into a database at revision 0001, keys and all; then each
    PostgreSQL sequence continues after the largest key, as it would have."""
    tables = _release_tables()
    with source.connect() as src, target.begin() as dst:
        for table in tables.sorted_tables:
            rows = [dict(r._mapping) for r in src.execute(select(table))]
            if rows:
                dst.execute(table.insert(), rows)
        for table in tables.sorted_tables:
            (key,) = table.primary_key.columns if len(table.primary_key.columns) == 1 else (None,)
            if key is not None and key.autoincrement is not False and key.type.python_type is int:
                dst.execute(text(f"SELECT setval(pg_get_serial_sequence('{table.name}', "
                                 f"'{key.name}'), (SELECT max({key.name}) FROM {table.name}))"))


@pytest.fixture(params=["sqlite", "postgresql"])
def release_catalog(request, tmp_path: Path) -> str:
    """A catalog as the previous release left it, on each engine: the committed SQLite
    catalog itself, or on PostgreSQL the schema of revision 0001 holding the same rows."""
    if request.param == "sqlite":
        path = tmp_path / "catalog.db"
        shutil.copyfile(RELEASE_CATALOG, path)
        return str(path)
    url = str(request.getfixturevalue("postgres_url"))
    target, source = create_engine(url), _engine(str(RELEASE_CATALOG))
    try:
        with target.begin() as con:
            schema.upgrade_to(con, "0001")
            con.execute(text("DROP TABLE alembic_version"))  # the release had no revisions
        _copy_rows(source, target)
    finally:
        target.dispose()
        source.dispose()
    return url


def test_a_catalog_of_the_previous_release_is_upgraded_with_its_data_intact(
        release_catalog, tmp_path):
    source = _engine(str(RELEASE_CATALOG))
    before = _rows(source)
    source.dispose()
    assert len(before["items"]) == 15 and len(before["events"]) > 20

    upgraded = _invoke(release_catalog, "upgrade")
    assert upgraded.exit_code == 0, upgraded.output
    assert upgraded.output == (f"Upgraded the catalog {release_catalog} from a release from "
                               f"before schema revisions to schema revision {schema.head()}.\n")
    again = _invoke(release_catalog, "upgrade")
    assert (again.exit_code, again.output) == (
        0, f"The catalog {release_catalog} is up to date (schema revision {schema.head()}).\n")

    engine = _engine(release_catalog)
    try:
        assert _rows(engine) == before
        assert _schema_differences(engine) == []
    finally:
        engine.dispose()

    # And it is a working catalog: the edit made by the release shows, numbering continues.
    shown = _invoke(release_catalog, "show", "QXS-A-00001", "--json")
    assert shown.exit_code == 0 and '"新标题"' in shown.output
    folder = tmp_path / "more" / "钱学森" / "照片"
    make_jpeg(folder / "新照片_1960.jpg")
    ingested = _invoke(release_catalog, "ingest", str(tmp_path / "more"), "--quiet")
    assert ingested.exit_code == 0, ingested.output
    with sqlite3.connect(RELEASE_CATALOG) as con:
        photos = con.execute("SELECT count(*) FROM items WHERE accession LIKE 'QXS-P-%'"
                             ).fetchone()[0]
    listed = _invoke(release_catalog, "export").output
    assert f'"QXS-P-{photos + 1:05d}"' in listed


def test_a_write_command_upgrades_an_older_catalog_itself(tmp_path):
    path = tmp_path / "catalog.db"
    shutil.copyfile(RELEASE_CATALOG, path)
    result = _invoke(str(path), "scientists", "add", "郭永怀")
    assert result.exit_code == 0, result.output
    with sqlite3.connect(path) as con:
        assert con.execute("SELECT version_num FROM alembic_version").fetchall() == [
            (schema.head(),)]


def test_a_catalog_made_before_revisions_by_this_round_is_upgraded(tmp_path):
    """Main made this round's tables on open before revisions landed: 0002 finds them made."""
    path = tmp_path / "catalog.db"
    Catalog.open(load_settings({"catalog": str(path)}, environ={})).close()
    with sqlite3.connect(path) as con:
        con.execute("DROP TABLE alembic_version")
        con.execute("ALTER TABLE items DROP COLUMN type_source")  # and an older column lacks
        con.execute("ALTER TABLE audit_log DROP COLUMN outcome")  # as main made it at first
        con.execute("DROP INDEX ix_audit_log_accession")
    result = _invoke(str(path), "upgrade")
    assert result.exit_code == 0, result.output
    engine = _engine(str(path))
    try:
        assert "type_source" in {c["name"] for c in inspect(engine).get_columns("items")}
        assert _schema_differences(engine) == []
    finally:
        engine.dispose()


@pytest.mark.parametrize("args", [("upgrade",), ("stats",), ("scientists", "add", "郭永怀")])
def test_an_older_program_refuses_a_newer_catalog(empty_url, args):
    Catalog.open(load_settings({"catalog": empty_url}, environ={})).close()
    engine = _engine(empty_url)
    with engine.begin() as con:  # as a later version with a revision 9999 leaves it
        con.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    result = _invoke(empty_url, *args)
    assert result.exit_code == 2
    assert result.output.startswith(f"Error: the catalog {empty_url} was made by a newer "
                                     "version of archive (schema revision 9999; this version "
                                     f"knows revisions up to {schema.head()})")
    assert "Traceback" not in result.output
    with engine.connect() as con:
        assert con.execute(text("SELECT version_num FROM alembic_version")).all() == [("9999",)]
        assert con.execute(text("SELECT count(*) FROM scientists")).scalar() == 0
    engine.dispose()


def test_a_read_only_older_catalog_says_what_to_do(tmp_path):
    """A published copy no one may write (#12.5) cannot be upgraded: the message says so."""
    folder = tmp_path / "published"
    folder.mkdir()
    path = folder / "catalog.db"
    shutil.copyfile(RELEASE_CATALOG, path)
    path.chmod(0o444)
    try:
        result = _invoke(str(path), "stats")
        assert result.exit_code == 2
        assert result.output == (
            f"Error: the catalog {path} was made by an older version (a release from before "
            f"schema revisions) and is read-only, so it cannot be brought up to date to schema "
            f"revision {schema.head()}: run `archive upgrade` on a writable copy of it, or "
            "publish a copy made by this version\n")
    finally:
        path.chmod(0o644)
