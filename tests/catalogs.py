"""Where the tests' catalogs live. By default an SQLite file at the path a test names. With
ARCHIVE_TEST_POSTGRES_URL (a PostgreSQL server on which the tests may create databases, as
`make test-postgres` starts one) a database on that server stands for each such path: emptied
for the test that names it, with the search index and derivatives beside the path, where they
are beside an SQLite catalog, so a test looks for them in one place on either engine.

Tests name catalogs by path and ask here for what to pass: `catalog_url(path)` for --catalog,
`catalog_settings(path)` for Settings, `catalog_env(path)` for a command's environment."""
from __future__ import annotations

import itertools
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from archive.settings import Settings, load_settings

POSTGRES_URL = os.environ.get("ARCHIVE_TEST_POSTGRES_URL") or None
ON_POSTGRES = POSTGRES_URL is not None
ENGINE = "postgresql" if ON_POSTGRES else "sqlite"


class _Databases:
    """Databases at the newest schema on the test server, reused from test to test: emptying
    one (TRUNCATE) takes a tenth of the time of making one, which the whole suite pays for
    every catalog it opens."""

    def __init__(self, admin_url: str):
        self._admin_url = admin_url
        self._admin: Engine | None = None
        self._names = (f"archive_test_{os.getpid()}_{n}" for n in itertools.count(1))
        self._made: list[str] = []
        self._free: list[str] = []
        self._held: dict[str, str] = {}  # the path's key -> its database
        self._of_test: list[str] = []  # keys to give back when the test ends
        self.in_test = False

    def admin(self) -> Engine:
        if self._admin is None:
            self._admin = create_engine(self._admin_url, isolation_level="AUTOCOMMIT")
        return self._admin

    def url_of(self, name: str) -> str:
        return self.admin().url.set(database=name).render_as_string(hide_password=False)

    def database_for(self, path: Path | str) -> str:
        key = str(Path(path).absolute())
        name = self._held.get(key)
        if name is None:
            name = self._free.pop() if self._free else self._make()
            self._empty(name)
            self._held[key] = name
            if self.in_test:  # else a session fixture's: it keeps its database to the end
                self._of_test.append(key)
        return name

    def _make(self) -> str:
        from archive.catalog import Catalog
        name = next(self._names)
        with self.admin().connect() as con:
            con.execute(text(f'CREATE DATABASE "{name}"'))
        self._made.append(name)
        Catalog.open(load_settings({"catalog": self.url_of(name)}, environ={})).close()
        return name

    def _empty(self, name: str) -> None:
        engine = create_engine(self.url_of(name), isolation_level="AUTOCOMMIT")
        try:
            with engine.connect() as con:
                # A process the last test left behind (a server, a killed ingest's pool) must
                # not hold a lock on a table, nor see this test's rows.
                con.execute(text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                                 "WHERE datname = current_database() "
                                 "AND pid <> pg_backend_pid()"))
                tables = [r[0] for r in con.execute(text(
                    "SELECT tablename FROM pg_tables WHERE schemaname = 'public' "
                    "AND tablename <> 'alembic_version'"))]
                con.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
        finally:
            engine.dispose()

    def end_test(self) -> None:
        while self._of_test:
            self._free.append(self._held.pop(self._of_test.pop()))
        self.in_test = False

    def drop_all(self) -> None:
        if self._admin is None:
            return
        with self._admin.connect() as con:
            for name in self._made:
                con.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        self._admin.dispose()


DATABASES = _Databases(POSTGRES_URL) if POSTGRES_URL else None


def catalog_url(path: Path | str) -> str:
    """What to give --catalog (or the catalog setting) for the catalog at `path`."""
    if DATABASES is None:
        return str(path)
    return DATABASES.url_of(DATABASES.database_for(path))


def catalog_env(path: Path | str) -> dict[str, str]:
    """The environment a command needs beside --catalog: on PostgreSQL, the index and the
    derivatives beside the path, as an SQLite catalog has them."""
    if DATABASES is None:
        return {}
    return {"ARCHIVE_INDEX_DIR": f"{path}.index", "ARCHIVE_DERIVATIVES_DIR": f"{path}.derivatives"}


def catalog_settings(path: Path | str, **overrides: Any) -> Settings:
    """Settings for the catalog at `path` (none from the environment), with `overrides`."""
    folders: dict[str, Any] = {}
    if DATABASES is not None:
        folders = {"index_dir": f"{path}.index", "derivatives_dir": f"{path}.derivatives"}
    return load_settings({"catalog": catalog_url(path), **folders, **overrides}, environ={})


def _engine(path: Path | str) -> Engine:
    url = catalog_url(path)
    return create_engine(url if "://" in url else f"sqlite:///{url}", poolclass=NullPool)


def catalog_rows(path: Path | str, sql: str, params: Any = None) -> list[tuple[Any, ...]]:
    """The rows a query (`:name` parameters) gives on the catalog at `path`, read as a test
    reads: its own connection, closed after."""
    engine = _engine(path)
    try:
        with engine.connect() as con:
            return [tuple(r) for r in con.execute(text(sql), params or {})]
    finally:
        engine.dispose()


def catalog_execute(path: Path | str, sql: str, params: Any = None) -> None:
    """Change the catalog at `path` as no command would (an age, a damage), and commit."""
    engine = _engine(path)
    try:
        with engine.begin() as con:
            con.execute(text(sql), params or {})
    finally:
        engine.dispose()


def nothing_written(path: Path | str) -> bool:
    """No catalog was made at `path`: no SQLite file, or on PostgreSQL no row in any table."""
    if DATABASES is None:
        return not Path(path).exists()
    tables = [r[0] for r in catalog_rows(path, "SELECT tablename FROM pg_tables WHERE "
                                               "schemaname = 'public' AND tablename <> "
                                               "'alembic_version'")]
    return not any(catalog_rows(path, f"SELECT EXISTS (SELECT 1 FROM {t})")[0][0]
                   for t in tables)


def copy_catalog(source: Path | str, target: Path | str) -> None:
    """Copy the catalog at `source` to `target` (which has none yet): SQLite's backup, or on
    PostgreSQL every row into the target's empty database, keys and all, its sequences then
    going on after them. (CREATE DATABASE … TEMPLATE would need the source's connections
    closed, and a session's site keeps some open.)"""
    if DATABASES is None:
        import sqlite3
        with sqlite3.connect(source) as src, sqlite3.connect(target) as dst:
            src.backup(dst)
        return
    from archive.models import Base
    src, dst = _engine(source), _engine(target)
    try:
        with src.connect() as read, dst.begin() as write:
            for table in Base.metadata.sorted_tables:
                rows = [dict(r._mapping) for r in read.execute(table.select())]
                if rows:
                    write.execute(table.insert(), rows)
            for table in Base.metadata.sorted_tables:
                keys = list(table.primary_key.columns)
                if len(keys) == 1 and keys[0].autoincrement in (True, "auto") and \
                        keys[0].type.python_type is int:
                    key = keys[0].name
                    write.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{table.name}', '{key}'), "
                        f"coalesce((SELECT max({key}) FROM {table.name}), 0) + 1, false)"))
    finally:
        src.dispose()
        dst.dispose()
