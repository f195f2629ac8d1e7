"""Several archivists and machines at once (#18): locks.scope (an ingest locks the folders it
walks) and work_claims (derive and verify claim files with a lease, archive/claims.py).

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 19:30:45.717100
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Each step is skipped when done already: a catalog made from the models without
    # revisions (adopted at 0001) has them.
    inspector = sa.inspect(op.get_bind())
    if "work_claims" not in set(inspector.get_table_names()):
        op.create_table(
            "work_claims",
            sa.Column("kind", sa.String(length=12), nullable=False),
            sa.Column("file_id", sa.Integer(), nullable=False),
            sa.Column("holder", sa.String(length=200), nullable=False),
            sa.Column("claimed_at", sa.DateTime(), nullable=False),
            sa.Column("expires_at", sa.DateTime(), nullable=False),
            sa.Column("done_at", sa.DateTime(), nullable=True),
            sa.ForeignKeyConstraint(["file_id"], ["files.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("kind", "file_id"),
        )
        with op.batch_alter_table("work_claims", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_work_claims_file_id"), ["file_id"],
                                  unique=False)
    if "scope" not in {c["name"] for c in inspector.get_columns("locks")}:
        with op.batch_alter_table("locks", schema=None) as batch_op:
            batch_op.add_column(sa.Column("scope", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("locks", schema=None) as batch_op:
        batch_op.drop_column("scope")

    with op.batch_alter_table("work_claims", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_claims_file_id"))

    op.drop_table("work_claims")
