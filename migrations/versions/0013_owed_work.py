"""owed_work: work that must happen (announcement fan-outs, and every later fan-out), recorded
by the transaction that promises it and advanced by jobs (``server/common/owed.py``)

Revision ID: 0013_owed_work
Revises: 0012_notifications_subject_index
Create Date: 2026-12-01 10:40:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0013_owed_work"
down_revision = "0012_notifications_subject_index"
branch_labels = None
depends_on = None

UNFINISHED = "done_at IS NULL AND failed_at IS NULL"


def upgrade() -> None:
    op.create_table(
        "owed_work",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=64), nullable=False),
        sa.Column("args", sa.JSON(), nullable=False),
        sa.Column("cursor", sa.JSON(), nullable=True),
        sa.Column("steps", sa.Integer(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("last_error", sa.String(length=500), nullable=True),
        sa.Column("not_before", sa.DateTime(timezone=True), nullable=False),
        sa.Column("lease_owner", sa.String(length=32), nullable=True),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("failed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_owed_work")),
    )
    op.create_index(
        "ix_owed_work_unfinished",
        "owed_work",
        ["not_before"],
        unique=False,
        sqlite_where=sa.text(UNFINISHED),
        postgresql_where=sa.text(UNFINISHED),
    )


def downgrade() -> None:
    op.drop_index("ix_owed_work_unfinished", table_name="owed_work")
    op.drop_table("owed_work")
