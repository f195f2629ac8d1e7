"""Schema versions of the catalog: which Alembic revision a catalog is at, making a new catalog
at the newest revision and upgrading an older one (the revisions: archive/migrations/versions).
Works on a connection it is given; archive/catalog.py chooses the engine and the locking.

Every command that opens a catalog asks where it stands, and almost always it is current: that
answer takes one plain query against `HEAD`, without importing Alembic (a third of a second of
start-up). Alembic is imported only to read the revisions themselves: to upgrade an older
catalog, to tell an older revision from a newer one, and for the developer's tools. Nor does
importing this module import SQLAlchemy: a command-line search reads `HEAD` through
archive.catalog_reader, without it."""
from __future__ import annotations

import functools
import re
import sys
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from alembic.config import Config
    from alembic.script import ScriptDirectory
    from sqlalchemy import Connection, Table

MIGRATIONS = Path(__file__).with_name("migrations")
HOOKS = "post_write_hooks"

# The newest revision in migrations/versions, known without reading them: a catalog at it is
# current, a new catalog is marked with it. `python -m archive.migrations` sets it when it
# writes a revision; tests/test_migrations.py holds it equal to the head Alembic computes.
HEAD = "0005"

VERSION_TABLE_NAME = "alembic_version"


@functools.cache
def version_table() -> Table:
    """The table in which a catalog records its revision, as Alembic makes it (alembic.runtime.
    migration.MigrationContext): a new catalog is stamped here without importing Alembic."""
    from sqlalchemy import Column, MetaData, PrimaryKeyConstraint, String, Table
    return Table(VERSION_TABLE_NAME, MetaData(),
                 Column("version_num", String(32), nullable=False),
                 PrimaryKeyConstraint("version_num", name="alembic_version_pkc"))


class Kind(StrEnum):
    EMPTY = "empty"  # no tables: a new catalog
    UNVERSIONED = "unversioned"  # made before the schema had revisions
    BEHIND = "behind"  # made by an older version: `archive upgrade` brings it up to date
    CURRENT = "current"
    NEWER = "newer"  # made by a newer version, which this one cannot read safely


@dataclass(frozen=True)
class SchemaState:
    kind: Kind
    revision: str | None  # what the catalog records; None before revisions
    head: str  # the newest revision this version knows


def alembic_config(connection: Connection | None = None) -> Config:
    """Alembic's settings, made in code: the installed package needs no alembic.ini."""
    from alembic.config import Config
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    # NNNN_what_changed.py; `%%` because Alembic's settings interpolate `%(...)s`.
    config.set_main_option("file_template", "%%(rev)s_%%(slug)s")
    ruff = Path(sys.executable).with_name("ruff")
    if ruff.exists():  # a draft that passes `make lint`'s line length, in the project's quotes
        config.set_section_option(HOOKS, "hooks", "ruff")
        config.set_section_option(HOOKS, "ruff.type", "exec")
        config.set_section_option(HOOKS, "ruff.executable", str(ruff))
        config.set_section_option(HOOKS, "ruff.options",
                                  "format --line-length 100 REVISION_SCRIPT_FILENAME")
    config.attributes["connection"] = connection
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    from alembic.script import ScriptDirectory
    return ScriptDirectory.from_config(alembic_config())


@functools.cache
def head() -> str:
    """The newest revision, as Alembic reads it from the revisions (`HEAD` is the same, known
    without reading them). Two heads means two revisions were added side by side: a
    developer's mistake the test suite reports (tests/test_migrations.py)."""
    heads = _scripts().get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"the schema revisions have {len(heads)} heads {heads}: set the "
                           "newer one's down_revision to the other (README: Schema migrations)")
    return heads[0]


def _known(revision: str) -> bool:
    from alembic.util.exc import CommandError
    try:
        return _scripts().get_revision(revision) is not None
    except CommandError:
        return False


def _stored(connection: Connection) -> tuple[str, ...]:
    """The revisions the catalog records (one, or none before revisions), read as Alembic
    reads them."""
    from sqlalchemy import inspect, select
    if not inspect(connection).has_table(VERSION_TABLE_NAME):
        return ()
    return tuple(connection.scalars(select(version_table().c.version_num)))


def state(connection: Connection) -> SchemaState:
    """Where the catalog on this connection stands. Reads only."""
    stored = _stored(connection)
    if stored == (HEAD,):
        return SchemaState(Kind.CURRENT, HEAD, HEAD)  # the usual case: no Alembic
    if not stored and not _has_items(connection):
        return SchemaState(Kind.EMPTY, None, HEAD)  # made from the models: no Alembic either
    newest = head()
    if not stored:
        return SchemaState(Kind.UNVERSIONED, None, newest)
    revision = stored[0]
    if stored == (newest,):
        kind = Kind.CURRENT
    elif all(_known(r) for r in stored):
        kind = Kind.BEHIND
    else:
        kind = Kind.NEWER
    return SchemaState(kind, revision, newest)


def _has_items(connection: Connection) -> bool:
    from sqlalchemy import inspect
    return inspect(connection).has_table("items")


def bring_up_to_date(connection: Connection) -> SchemaState:
    """Make an empty catalog at the newest revision, or upgrade an older one; returns the state
    it was found in. The caller holds the transaction (and the lock that keeps two processes
    from doing this at once) and refuses a NEWER catalog before calling."""
    before = state(connection)
    if before.kind is Kind.EMPTY:
        # Tables made from the models at once, then marked as the newest revision: the same
        # schema as running every revision, and the same mark as Alembic's stamp
        # (tests/test_migrations.py holds both equal).
        from archive.models import Base
        Base.metadata.create_all(connection)
        version_table().create(connection)
        connection.execute(version_table().insert().values(version_num=HEAD))
    elif before.kind in (Kind.UNVERSIONED, Kind.BEHIND):
        upgrade_to(connection, "head")
    return before


def upgrade_to(connection: Connection, revision: str) -> None:
    """Run the revisions up to `revision` (tests build older catalogs with it)."""
    from alembic import command
    command.upgrade(alembic_config(connection), revision)


def with_head(source: str, revision: str) -> str:
    """This module's text with `HEAD` set to `revision` (done when a revision is written).

        with_head('HEAD = "0041"\n', "0042") -> 'HEAD = "0042"\n'
    """
    changed, count = re.subn(r'^HEAD = "\d+"$', f'HEAD = "{revision}"', source, flags=re.M)
    if count != 1:
        raise RuntimeError("archive/schema.py has no single `HEAD = \"NNNN\"` line to update")
    return changed


def new_revision(message: str) -> Path:
    """Write the next revision, NNNN_<message>.py, with the operations Alembic finds between
    the models and a scratch SQLite catalog at the newest revision: the developer's draft, to
    read and correct before committing (README: Schema migrations)."""
    import tempfile

    from alembic import command
    from sqlalchemy import create_engine
    number = f"{int(head()) + 1:04d}"
    with tempfile.TemporaryDirectory() as scratch:
        engine = create_engine(f"sqlite:///{scratch}/scratch.db")
        try:
            with engine.begin() as con:
                upgrade_to(con, "head")
            with engine.begin() as con:
                script = command.revision(alembic_config(con), message, autogenerate=True,
                                          rev_id=number)
        finally:
            engine.dispose()
    assert script is not None and not isinstance(script, list)
    here = Path(__file__)
    here.write_text(with_head(here.read_text(encoding="utf-8"), number), encoding="utf-8")
    return Path(script.path)
