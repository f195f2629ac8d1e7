"""Alembic's environment for the catalog: runs the revisions on the connection archive/schema.py
hands it, inside its transaction. There is no alembic.ini and no URL of its own."""
from __future__ import annotations

from alembic import context

from archive.models import Base

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the catalog's migrations with `archive upgrade` (archive.schema), "
                       "not with the alembic command")
# Batch operations: SQLite alters a table by copying it, so a revision written with
# op.batch_alter_table runs on both SQLite and PostgreSQL.
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True,
                  compare_type=True)
with context.begin_transaction():
    context.run_migrations()
