"""The catalog facade: opens the database (SQLite by default, any SQLAlchemy URL) and hands out
sessions. The only module that knows which database engine is underneath."""
from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote

from sqlalchemy import Engine, create_engine, event, inspect, select
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from archive.errors import CatalogError
from archive.models import Base, Meta, Root
from archive.settings import Settings

if TYPE_CHECKING:
    import sqlite3

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    # WAL lets searches read while an ingest writes; the busy timeout makes a second writer wait
    # instead of failing at once; foreign keys are off by default in SQLite.
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_read_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    # A reader changes nothing, not even the journal mode; query_only makes SQLite refuse any
    # write, so a read command cannot change the catalog by mistake.
    cur = dbapi_conn.cursor()
    cur.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cur.execute("PRAGMA query_only=ON")
    cur.close()


def cannot_change(path: Path) -> bool:
    """True when no one can be writing the file: it has no write permission at all (a
    published copy), this process may not write it or its folder (SQLite needs the folder for
    its journal), or it lies on a file system mounted read-only."""
    if not path.stat().st_mode & 0o222:
        return True
    if not os.access(path, os.W_OK) or not os.access(path.parent, os.W_OK):
        return True
    return bool(os.statvfs(path).f_flag & os.ST_RDONLY)


def _read_only_sqlite(db_path: Path) -> tuple[Engine, bool]:
    """An engine that never writes. A file no one can change is opened with mode=ro as
    immutable: SQLite then needs no -wal or -shm file beside it (which it could not create on
    read-only media) and makes none in a published copy's folder. A live catalog, which an
    ingest may be writing, is opened as usual to see the writer's WAL, with query_only on."""
    url = "sqlite:///" + str(db_path)
    immutable = cannot_change(db_path)
    if immutable:
        uri = "file:" + quote(str(db_path)) + "?mode=ro&immutable=1"

        def connect() -> sqlite3.Connection:
            import sqlite3  # the driver, as SQLAlchemy imports it: when a command connects
            return sqlite3.connect(uri, uri=True, check_same_thread=False)

        # The URL only chooses the dialect and a file database's pool; `connect` opens it.
        engine = create_engine(url, creator=connect)
    else:
        engine = create_engine(url)
    event.listen(engine, "connect", _sqlite_read_pragmas)
    return engine, immutable


SQLITE_HEADER = b"SQLite format 3\x00"


def is_sqlite_file(path: Path) -> bool:
    """True for an SQLite database file, an empty file (SQLite makes one of it) or no file
    yet; False for a file holding anything else, which SQLite would call 'not a database'."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(SQLITE_HEADER))
    except (FileNotFoundError, IsADirectoryError):
        return True
    except OSError:
        return True  # unreadable: SQLite says so in its own words
    return head in (b"", SQLITE_HEADER)


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
        if self._schema_is_current():
            return
        db_path = self.settings.catalog_path
        if db_path is None or not cannot_change(db_path):
            Catalog.open(self.settings, create=False).close()  # upgrades, or says why not
            return
        try:
            inspector = inspect(self.engine)
            if not inspector.has_table("items"):
                raise CatalogError(f"{self.settings.catalog} is not an archive catalog "
                                   "(no items table)")
            missing = [f"{t.name}.{c.name}" for t in Base.metadata.sorted_tables
                       if inspector.has_table(t.name)
                       for c in t.columns
                       if c.name not in {x["name"] for x in inspector.get_columns(t.name)}]
            missing += [t.name for t in Base.metadata.sorted_tables
                        if not inspector.has_table(t.name)]
        except OperationalError as exc:
            raise CatalogError(f"unable to open catalog {self.settings.catalog}: "
                               f"{exc.orig}") from None
        if missing:
            raise CatalogError(
                f"the catalog {self.settings.catalog} was made by an older version and is "
                f"read-only, so it cannot be brought up to date (it lacks {', '.join(missing)}); "
                "run any command on a writable copy of it, or publish a copy made by this "
                "version")

    def _ensure_schema(self, create: bool) -> None:
        if self._schema_is_current():
            return  # the usual case: no inspection of every table on every command
        try:
            if create:
                try:
                    Base.metadata.create_all(self.engine)
                except OperationalError:
                    # Two processes creating a new catalog at once: one of them made the
                    # tables between the other's check and create; checking again settles it.
                    Base.metadata.create_all(self.engine)
            elif not inspect(self.engine).has_table("items"):
                raise CatalogError(f"{self.settings.catalog} is not an archive catalog "
                                   "(no items table); run `archive ingest` to create one")
            else:
                Base.metadata.create_all(self.engine)  # tables a newer version added
            self._add_missing_columns()
            self._remember_schema()
        except OperationalError as exc:
            raise CatalogError(f"unable to open catalog {self.settings.catalog}: "
                               f"{exc.orig}") from None
        except SQLAlchemyError as exc:
            # The driver's own words, without SQLAlchemy's "Background on this error" link.
            reason = getattr(exc, "orig", None) or (exc.args[0] if exc.args else exc)
            raise CatalogError(f"unable to open catalog {self.settings.catalog}: "
                               f"{reason}") from None

    def _schema_is_current(self) -> bool:
        try:
            with self.engine.connect() as con:
                stored = con.execute(select(Meta.value).where(Meta.key == "schema")).scalar()
        except SQLAlchemyError:
            return False  # a new catalog, or one from before this table existed
        return stored == schema_fingerprint()

    def _remember_schema(self) -> None:
        try:
            with self.session() as s:
                s.merge(Meta(key="schema", value=schema_fingerprint()))
        except IntegrityError:
            pass  # another process opening the new catalog at the same moment recorded it

    def _add_missing_columns(self) -> None:
        """Bring a catalog made by an earlier version up to date where that is only additive:
        a nullable column the models have and the table lacks is added. Anything else is a
        clear error, never a half-upgraded catalog."""
        inspector = inspect(self.engine)
        for table in Base.metadata.sorted_tables:
            if not inspector.has_table(table.name):
                continue
            present = {c["name"] for c in inspector.get_columns(table.name)}
            for column in table.columns:
                if column.name in present:
                    continue
                if not column.nullable:
                    raise CatalogError(
                        f"the catalog {self.settings.catalog} was made by an older version and "
                        f"lacks {table.name}.{column.name}; ingest into a new catalog")
                kind = column.type.compile(dialect=self.engine.dialect)
                with self.engine.begin() as con:
                    con.exec_driver_sql(
                        f'ALTER TABLE {table.name} ADD COLUMN "{column.name}" {kind}')
                log.info("catalog upgraded: added %s.%s", table.name, column.name)
            have = {i["name"] for i in inspector.get_indexes(table.name)}
            for index in table.indexes:
                if index.name not in have:
                    index.create(self.engine, checkfirst=True)

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

    def close(self) -> None:
        self.engine.dispose()


def schema_fingerprint() -> str:
    """A digest of every table, column and index the models declare."""
    parts = []
    for table in Base.metadata.sorted_tables:
        parts.append(table.name + ":" + ",".join(sorted(c.name for c in table.columns))
                     + ":" + ",".join(sorted(i.name or "" for i in table.indexes)))
    return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:32]


def ensure_root(session: Session, path: str) -> Root:
    root = session.query(Root).filter_by(path=path).one_or_none()
    if root is None:
        root = Root(path=path)
        session.add(root)
        session.flush()
    return root
