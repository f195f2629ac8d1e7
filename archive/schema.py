"""Schema versions of the catalog: which Alembic revision a catalog is at, making a new catalog
at the newest revision and upgrading an older one (the revisions: archive/migrations/versions).
Works on a connection it is given; archive/catalog.py chooses the engine and the locking."""
from __future__ import annotations

import functools
import sys
import tempfile
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.util.exc import CommandError
from sqlalchemy import Connection, create_engine, inspect

from archive.models import Base

MIGRATIONS = Path(__file__).with_name("migrations")
HOOKS = "post_write_hooks"


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
    return ScriptDirectory.from_config(alembic_config())


@functools.cache
def head() -> str:
    """The newest revision. Two heads means two revisions were added side by side: a
    developer's mistake the test suite reports (tests/test_migrations.py)."""
    heads = _scripts().get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"the schema revisions have {len(heads)} heads {heads}: set the "
                           "newer one's down_revision to the other (README: Schema migrations)")
    return heads[0]


def _known(revision: str) -> bool:
    try:
        return _scripts().get_revision(revision) is not None
    except CommandError:
        return False


def state(connection: Connection) -> SchemaState:
    """Where the catalog on this connection stands. Reads only."""
    stored = MigrationContext.configure(connection).get_current_heads()
    newest = head()
    if not stored:
        kind = Kind.UNVERSIONED if inspect(connection).has_table("items") else Kind.EMPTY
        return SchemaState(kind, None, newest)
    revision = stored[0]
    if stored == (newest,):
        kind = Kind.CURRENT
    elif all(_known(r) for r in stored):
        kind = Kind.BEHIND
    else:
        kind = Kind.NEWER
    return SchemaState(kind, revision, newest)


def bring_up_to_date(connection: Connection) -> SchemaState:
    """Make an empty catalog at the newest revision, or upgrade an older one; returns the state
    it was found in. The caller holds the transaction (and the lock that keeps two processes
    from doing this at once) and refuses a NEWER catalog before calling."""
    before = state(connection)
    if before.kind is Kind.EMPTY:
        # Tables made from the models at once, then marked as the newest revision: the same
        # schema as running every revision (tests/test_migrations.py holds them equal).
        Base.metadata.create_all(connection)
        MigrationContext.configure(connection).stamp(_scripts(), "head")
    elif before.kind in (Kind.UNVERSIONED, Kind.BEHIND):
        command.upgrade(alembic_config(connection), "head")
    return before


def upgrade_to(connection: Connection, revision: str) -> None:
    """Run the revisions up to `revision` (tests build older catalogs with it)."""
    command.upgrade(alembic_config(connection), revision)


def new_revision(message: str) -> Path:
    """Write the next revision, NNNN_<message>.py, with the operations Alembic finds between
    the models and a scratch SQLite catalog at the newest revision: the developer's draft, to
    read and correct before committing (README: Schema migrations)."""
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
    return Path(script.path)
