"""locks.lease_until: a writer lock's lease, renewed by its holder, so a lock left by a machine
that died expires and another machine takes the folder over (#18)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 21:39:26.680740
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Locks held while upgrading keep NULL: no lease, cleared as before (by their holder, or
    # on their host once its process is gone).
    if "lease_until" in {c["name"] for c in sa.inspect(op.get_bind()).get_columns("locks")}:
        return
    with op.batch_alter_table("locks", schema=None) as batch_op:
        batch_op.add_column(sa.Column("lease_until", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("locks", schema=None) as batch_op:
        batch_op.drop_column("lease_until")
