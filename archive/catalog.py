"""The catalog facade: opens the database (SQLite by default, any SQLAlchemy URL) and hands out
sessions. The only module that knows which database engine is underneath."""
from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import Connection, Engine, create_engine, event, text
from sqlalchemy.exc import ArgumentError, DBAPIError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from archive import schema
from archive.catalog_reader import (
    SQLITE_BUSY_TIMEOUT_MS,
    cannot_change,
    is_sqlite_file,
    reader_uri,
    sqlite_read_pragmas,
)
from archive.errors import CatalogError
from archive.models import Root
from archive.settings import Settings

if TYPE_CHECKING:
    import sqlite3

log = logging.getLogger(__name__)


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets searches read while an ingest writes; the busy timeout makes a second writer wait
    # instead of failing at once (set first: switching a new file to WAL takes a lock, and
    # several processes opening a new catalog at once must wait for it, not fail); foreign keys
    # are off by default in SQLite.
    import sqlite3  # the driver SQLAlchemy has loaded already, to connect

    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    # SQLite answers a journal-mode change that meets another at once with "database is
    # locked" without calling the busy handler: wait for it by hand, as the timeout would.
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            cur.execute("PRAGMA journal_mode=WAL")
            break
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_read_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    # A reader changes nothing, not even the journal mode (archive.catalog_reader).
    sqlite_read_pragmas(dbapi_conn)


def _read_only_sqlite(db_path: Path) -> tuple[Engine, bool]:
    """An engine that never writes. A file no one can change is opened with mode=ro as
    immutable (catalog_reader.reader_uri says why). A live catalog, which an ingest may be
    writing, is opened as usual to see the writer's WAL, with query_only on."""
    url = "sqlite:///" + str(db_path)
    immutable = cannot_change(db_path)
    if immutable:
        uri = reader_uri(db_path, immutable=True)

        def connect() -> sqlite3.Connection:
            import sqlite3  # the driver, as SQLAlchemy imports it: when a command connects
            return sqlite3.connect(uri, uri=True, check_same_thread=False)

        # The URL only chooses the dialect and a file database's pool; `connect` opens it.
        engine = create_engine(url, creator=connect)
    else:
        engine = create_engine(url)
    event.listen(engine, "connect", _sqlite_read_pragmas)
    return engine, immutable


def shown_url(url: str) -> str:
    """A catalog URL fit for a message: its password hidden."""
    from sqlalchemy.engine import make_url
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return url


def missing_driver(url: str, module: str) -> str:
    """The message for a catalog URL whose database driver is not installed.

        missing_driver("postgresql+psycopg://h/db", "psycopg")
            -> "... needs the PostgreSQL driver psycopg, which is not installed: install the
                postgres extra: pip install 'scientists-archive[postgres]'"
    """
    if url.startswith("postgresql"):
        return (f"the catalog {shown_url(url)} needs the PostgreSQL driver {module}, which is not "
                "installed: install the postgres extra: "
                "pip install 'scientists-archive[postgres]'")
    return (f"the catalog {shown_url(url)} needs the database driver {module}, which is not "
            f"installed: pip install {module}")


class Catalog:
    """An open catalog. Use `with catalog.session() as s:` for a unit of work."""

    def __init__(self, settings: Settings, engine: Engine, read_only: bool = False,
                 immutable: bool = False):
        self.settings = settings
        self.engine = engine
        self.read_only = read_only  # this process writes nothing to the catalog
        # No one can change it (a published copy): nothing beside it is written either, not
        # even the search index, which then stays as it was published.
        self.immutable = immutable
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        # The schema state this open found and changed (a new or an upgraded catalog), else None.
        self.upgraded: schema.SchemaState | None = None

    @classmethod
    def open(cls, settings: Settings, create: bool = True, read_only: bool = False) -> Catalog:
        """Open (and with `create`, make) the catalog. With `read_only`, for commands that only
        read, nothing is ever written to it: no schema upgrade, no journal-mode switch, and
        SQLite refuses writes; so a read-only catalog file (mode 444, read-only media, a
        published copy) can be read."""
        url = settings.catalog_url
        db_path = settings.catalog_path
        if db_path is not None:
            if not db_path.parent.is_dir():
                raise CatalogError(
                    f"unable to open catalog {db_path}: the folder {db_path.parent} does not "
                    "exist; create it or pass --catalog")
            if db_path.is_dir():
                raise CatalogError(
                    f"unable to open catalog: {db_path} is a folder; give the catalog file, "
                    f"e.g. --catalog {db_path / 'catalog.db'}")
            if not is_sqlite_file(db_path):
                raise CatalogError(
                    f"{db_path} is not an archive catalog (not an SQLite database); pass "
                    "--catalog with the catalog file, or a new file name to make one")
            if (not create or read_only) and not db_path.exists():
                raise CatalogError(
                    f"no catalog at {db_path}: run `archive ingest` first, or pass --catalog "
                    "(or set ARCHIVE_CATALOG) to point at an existing one")
            if read_only:
                engine, immutable = _read_only_sqlite(db_path)
                catalog = cls(settings, engine, read_only=True, immutable=immutable)
                catalog._check_readable_schema()
                return catalog
        try:
            engine = create_engine(url, future=True)
        except ImportError as exc:
            raise CatalogError(missing_driver(url, exc.name or str(exc))) from None
        except ArgumentError as exc:
            raise CatalogError(f"unable to open catalog {shown_url(url)}: {exc}") from None
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        catalog = cls(settings, engine, read_only)
        if read_only:
            catalog._check_readable_schema()
        else:
            catalog._ensure_schema(create)
        return catalog

    def _check_readable_schema(self) -> None:
        """A reader cannot upgrade the catalog: an older one is brought up to date first by a
        writable open when the file can be written, else it is refused with what to do."""
        found = self._schema_state()
        if found.kind is schema.Kind.CURRENT:
            return
        self._refuse_newer(found)
        if found.kind is schema.Kind.EMPTY:
            raise CatalogError(f"{self.settings.catalog} is not an archive catalog "
                               "(no items table)")
        db_path = self.settings.catalog_path
        if db_path is None or not cannot_change(db_path):
            Catalog.open(self.settings, create=False).close()  # upgrades, or says why not
            return
        raise CatalogError(
            f"the catalog {self.settings.catalog} was made by an older version "
            f"({_revision(found)}) and is read-only, so it cannot be brought up to date to "
            f"schema revision {found.head}: run `archive upgrade` on a writable copy of it, "
            "or publish a copy made by this version")

    def _schema_state(self) -> schema.SchemaState:
        try:
            with self.engine.connect() as con:
                return schema.state(con)
        except SQLAlchemyError as exc:
            raise CatalogError(f"unable to open catalog {self.settings.catalog}: "
                               f"{_reason(exc)}") from None

    def _refuse_newer(self, found: schema.SchemaState) -> None:
        if found.kind is schema.Kind.NEWER:
            raise CatalogError(
                f"the catalog {self.settings.catalog} was made by a newer version of archive "
                f"(schema revision {found.revision}; this version knows revisions up to "
                f"{found.head}): use that version or a newer one; this one changes nothing "
                "in it")

    def _ensure_schema(self, create: bool) -> None:
        """Make a new catalog at the newest schema revision, or upgrade an older one in place
        (what `archive upgrade` does), as an archivist expects of a newer program; records in
        `self.upgraded` the state it was found in when it changed anything."""
        found = self._schema_state()
        if found.kind is schema.Kind.CURRENT:
            return  # the usual case: one small query per command
        self._refuse_newer(found)
        if found.kind is schema.Kind.EMPTY and not create:
            raise CatalogError(f"{self.settings.catalog} is not an archive catalog "
                               "(no items table); run `archive ingest` to create one")
        engine = _schema_engine(self.settings.catalog_url)
        try:
            with engine.begin() as con:
                _lock_for_schema(con)
                found = schema.state(con)  # again, now no one else can be changing it
                self._refuse_newer(found)
                if found.kind is not schema.Kind.CURRENT:
                    schema.bring_up_to_date(con)
                    _check_foreign_keys(con)
        except SQLAlchemyError as exc:
            doing = ("create the catalog" if found.kind is schema.Kind.EMPTY else
                     f"upgrade the catalog from {_revision(found)} to schema revision "
                     f"{found.head}")
            raise CatalogError(f"unable to {doing} {self.settings.catalog}: {_reason(exc)}"
                               ) from None
        finally:
            engine.dispose()
        if found.kind is not schema.Kind.CURRENT:
            if found.kind is not schema.Kind.EMPTY:
                log.info("catalog %s upgraded from %s to schema revision %s",
                         self.settings.catalog, _revision(found), found.head)
            self.upgraded = found

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on any exception."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """A session for a unit of work that reads and then writes while other processes
        write too (two ingests). On SQLite it takes the write lock at once (BEGIN IMMEDIATE,
        waiting its turn by the busy timeout): a transaction that read first and another
        writer committed since could not write at all. A server locks rows as it goes."""
        with self.session() as s:
            if self.engine.dialect.name == "sqlite":
                s.connection().exec_driver_sql("BEGIN IMMEDIATE")
            yield s

    def close(self) -> None:
        self.engine.dispose()


def _revision(found: schema.SchemaState) -> str:
    return (f"schema revision {found.revision}" if found.revision
            else "a release from before schema revisions")


def _reason(exc: SQLAlchemyError) -> object:
    """The driver's own words, without SQLAlchemy's "Background on this error" link."""
    return getattr(exc, "orig", None) or (exc.args[0] if exc.args else exc)


def _schema_engine(url: str) -> Engine:
    """An engine for changing the schema in one transaction. SQLite's Python driver would
    commit before each CREATE or ALTER, and a table copied by a batch operation must not fire
    foreign keys: so here SQLite gets BEGIN IMMEDIATE (which also makes a second process wait
    its turn) with foreign keys off, checked before the commit (_check_foreign_keys)."""
    engine = create_engine(url, poolclass=NullPool)
    if engine.dialect.name != "sqlite":
        return engine

    def connect(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_conn.isolation_level = None  # the driver's own transaction handling off
        cur = dbapi_conn.cursor()
        cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
        cur.execute("PRAGMA foreign_keys=OFF")
        cur.close()

    def begin(con: Connection) -> None:
        con.exec_driver_sql("BEGIN IMMEDIATE")

    event.listen(engine, "connect", connect)
    event.listen(engine, "begin", begin)
    return engine


SCHEMA_LOCK = 0x61726368  # "arch": PostgreSQL's advisory lock key for schema changes


def _lock_for_schema(con: Connection) -> None:
    """Two processes opening a new or older catalog at once: the second waits, then finds it
    done. SQLite's BEGIN IMMEDIATE did this already; PostgreSQL takes a transaction lock."""
    if con.dialect.name == "postgresql":
        con.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})


def _check_foreign_keys(con: Connection) -> None:
    if con.dialect.name == "sqlite":
        broken = con.exec_driver_sql("PRAGMA foreign_key_check").fetchall()
        if broken:
            raise CatalogError(f"the schema change would break {len(broken)} references "
                               f"(first: {tuple(broken[0])}); nothing was changed")


# PostgreSQL's deadlock_detected and serialization_failure: the transaction was chosen to give
# way and may simply be run again.
_RETRYABLE_SQLSTATES = {"40P01", "40001"}


def is_transient(exc: BaseException) -> bool:
    """True for a database error that running the same transaction again may not meet: a
    deadlock or serialization failure on a server, a busy SQLite file (the busy timeout ran
    out, or another writer committed since this transaction first read, which SQLite reports
    at once rather than waiting)."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in _RETRYABLE_SQLSTATES:
        return True
    return isinstance(exc, OperationalError) and "database is locked" in str(orig)


def ensure_root(session: Session, path: str) -> Root:
    root = session.query(Root).filter_by(path=path).one_or_none()
    if root is None:
        root = Root(path=path)
        session.add(root)
        session.flush()
    return root
