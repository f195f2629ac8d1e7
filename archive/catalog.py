"""The catalog facade: opens the database (SQLite by default, any SQLAlchemy URL) and hands out
sessions. The only module that knows which database engine is underneath."""
from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, inspect, select
from sqlalchemy.exc import ArgumentError, IntegrityError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from archive.errors import CatalogError
from archive.models import Base, Meta, Root
from archive.settings import Settings

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


class Catalog:
    """An open catalog. Use `with catalog.session() as s:` for a unit of work."""

    def __init__(self, settings: Settings, engine: Engine):
        self.settings = settings
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, settings: Settings, create: bool = True) -> Catalog:
        url = settings.catalog_url
        if settings.is_sqlite:
            db_path = Path(url.removeprefix("sqlite:///"))
            if not db_path.parent.is_dir():
                raise CatalogError(
                    f"unable to open catalog {db_path}: the folder {db_path.parent} does not "
                    "exist; create it or pass --catalog")
            if not create and not db_path.exists():
                raise CatalogError(
                    f"no catalog at {db_path}: run `archive ingest` first, or pass --catalog "
                    "(or set ARCHIVE_CATALOG) to point at an existing one")
        try:
            engine = create_engine(url, future=True)
        except (ArgumentError, ImportError) as exc:
            raise CatalogError(f"unable to open catalog {url!r}: {exc}") from None
        if engine.dialect.name == "sqlite":
            event.listen(engine, "connect", _sqlite_pragmas)
        catalog = cls(settings, engine)
        catalog._ensure_schema(create)
        return catalog

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
            raise CatalogError(f"unable to open catalog {self.settings.catalog}: {exc}") from None

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
