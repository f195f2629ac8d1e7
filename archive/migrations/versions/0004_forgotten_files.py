"""forgotten_files: the paths `archive forget` took out, skipped by later ingests (#11)

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-01 19:53:30.812136
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A catalog opened by a version from before revisions made its tables from the models,
    # this one among them: it is then there already.
    if "forgotten_files" in sa.inspect(op.get_bind()).get_table_names():
        return
    op.create_table(
        "forgotten_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("root_id", sa.Integer(), nullable=False),
        sa.Column("path", sa.String(length=2000), nullable=False),
        sa.Column("path_raw", sa.LargeBinary(), nullable=True),
        sa.Column("sha256", sa.String(length=64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("forgotten_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["root_id"],
            ["roots.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("root_id", "path"),
    )


def downgrade() -> None:
    op.drop_table("forgotten_files")
