"""This round's additions: OCR pages and lines, users, access requests, the audit log (with its
outcome), items.access_until.

Each step is skipped when its table or column is there already: main made them on open, before
revisions existed, so a catalog made then is upgraded from 0001 as well.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    inspector = sa.inspect(op.get_bind())
    tables = set(inspector.get_table_names())
    if "audit_log" not in tables:
        op.create_table(
            "audit_log",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("at", sa.DateTime(), nullable=False),
            sa.Column("user_name", sa.String(length=100), nullable=True),
            sa.Column("item_id", sa.Integer(), nullable=True),
            sa.Column("accession", sa.String(length=40), nullable=True),
            sa.Column("action", sa.String(length=20), nullable=False),
            sa.Column("path", sa.String(length=2000), nullable=True),
            sa.Column("address", sa.String(length=64), nullable=True),
            sa.Column("outcome", sa.String(length=12), nullable=False),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("audit_log", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_audit_log_accession"), ["accession"], unique=False)
            batch_op.create_index(batch_op.f("ix_audit_log_at"), ["at"], unique=False)
            batch_op.create_index(batch_op.f("ix_audit_log_item_id"), ["item_id"], unique=False)
            batch_op.create_index(batch_op.f("ix_audit_log_user_name"), ["user_name"], unique=False)
    else:  # made on open by main before revisions, perhaps before its outcome and index
        if "outcome" not in {c["name"] for c in inspector.get_columns("audit_log")}:
            with op.batch_alter_table("audit_log", schema=None) as batch_op:
                batch_op.add_column(
                    sa.Column("outcome", sa.String(12), nullable=False, server_default="served")
                )
        if "ix_audit_log_accession" not in {i["name"] for i in inspector.get_indexes("audit_log")}:
            op.create_index("ix_audit_log_accession", "audit_log", ["accession"], unique=False)

    if "users" not in tables:
        op.create_table(
            "users",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("name", sa.String(length=100), nullable=False),
            sa.Column("email", sa.String(length=300), nullable=True),
            sa.Column("role", sa.String(length=12), nullable=False),
            sa.Column("password_hash", sa.String(length=300), nullable=True),
            sa.Column("disabled_at", sa.DateTime(), nullable=True),
            sa.Column("failed_logins", sa.Integer(), nullable=False),
            sa.Column("locked_until", sa.DateTime(), nullable=True),
            sa.Column("last_login_at", sa.DateTime(), nullable=True),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("name"),
        )

    if "access_requests" not in tables:
        op.create_table(
            "access_requests",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("user_id", sa.Integer(), nullable=False),
            sa.Column("item_id", sa.Integer(), nullable=False),
            sa.Column("reason", sa.Text(), nullable=False),
            sa.Column("status", sa.String(length=12), nullable=False),
            sa.Column("created_at", sa.DateTime(), nullable=False),
            sa.Column("decided_at", sa.DateTime(), nullable=True),
            sa.Column("decided_by", sa.String(length=200), nullable=True),
            sa.Column("note", sa.Text(), nullable=True),
            sa.Column("expires_at", sa.DateTime(), nullable=True),
            sa.ForeignKeyConstraint(
                ["item_id"],
                ["items.id"],
            ),
            sa.ForeignKeyConstraint(
                ["user_id"],
                ["users.id"],
            ),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("access_requests", schema=None) as batch_op:
            batch_op.create_index(
                batch_op.f("ix_access_requests_expires_at"), ["expires_at"], unique=False
            )
            batch_op.create_index(
                batch_op.f("ix_access_requests_item_id"), ["item_id"], unique=False
            )
            batch_op.create_index(
                batch_op.f("ix_access_requests_user_id"), ["user_id"], unique=False
            )

    if "ocr_pages" not in tables:
        op.create_table(
            "ocr_pages",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("file_id", sa.Integer(), nullable=False),
            sa.Column("page", sa.Integer(), nullable=False),
            sa.Column("width", sa.Integer(), nullable=True),
            sa.Column("height", sa.Integer(), nullable=True),
            sa.Column("engine", sa.String(length=60), nullable=False),
            sa.Column("model", sa.String(length=200), nullable=False),
            sa.Column("status", sa.String(length=12), nullable=False),
            sa.Column("error", sa.Text(), nullable=True),
            sa.Column("rotation", sa.Integer(), nullable=True),
            sa.Column("seconds", sa.Float(), nullable=True),
            sa.Column("read_at", sa.DateTime(), nullable=False),
            sa.ForeignKeyConstraint(["file_id"], ["files.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
            sa.UniqueConstraint("file_id", "page"),
        )
        with op.batch_alter_table("ocr_pages", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_ocr_pages_file_id"), ["file_id"], unique=False)

    if "ocr_lines" not in tables:
        op.create_table(
            "ocr_lines",
            sa.Column("id", sa.Integer(), nullable=False),
            sa.Column("page_id", sa.Integer(), nullable=False),
            sa.Column("line_no", sa.Integer(), nullable=False),
            sa.Column("text", sa.Text(), nullable=False),
            sa.Column("x", sa.Integer(), nullable=False),
            sa.Column("y", sa.Integer(), nullable=False),
            sa.Column("w", sa.Integer(), nullable=False),
            sa.Column("h", sa.Integer(), nullable=False),
            sa.Column("confidence", sa.Float(), nullable=True),
            sa.ForeignKeyConstraint(["page_id"], ["ocr_pages.id"], ondelete="CASCADE"),
            sa.PrimaryKeyConstraint("id"),
        )
        with op.batch_alter_table("ocr_lines", schema=None) as batch_op:
            batch_op.create_index(batch_op.f("ix_ocr_lines_page_id"), ["page_id"], unique=False)

    if "access_until" not in {c["name"] for c in inspector.get_columns("items")}:
        with op.batch_alter_table("items", schema=None) as batch_op:
            batch_op.add_column(sa.Column("access_until", sa.Date(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("items", schema=None) as batch_op:
        batch_op.drop_column("access_until")

    with op.batch_alter_table("ocr_lines", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ocr_lines_page_id"))

    op.drop_table("ocr_lines")
    with op.batch_alter_table("ocr_pages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ocr_pages_file_id"))

    op.drop_table("ocr_pages")
    with op.batch_alter_table("access_requests", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_access_requests_user_id"))
        batch_op.drop_index(batch_op.f("ix_access_requests_item_id"))
        batch_op.drop_index(batch_op.f("ix_access_requests_expires_at"))

    op.drop_table("access_requests")
    op.drop_table("users")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_audit_log_user_name"))
        batch_op.drop_index(batch_op.f("ix_audit_log_item_id"))
        batch_op.drop_index(batch_op.f("ix_audit_log_at"))
        batch_op.drop_index(batch_op.f("ix_audit_log_accession"))

    op.drop_table("audit_log")
