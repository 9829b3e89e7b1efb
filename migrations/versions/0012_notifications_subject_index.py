"""notifications_subject_index: the entries under a subject prefix are found by the index on
PostgreSQL too, whatever the database's collation

``retraction.forget`` finds the entries that quote a thread by its subject and the subjects
under it (``forum.thread:7`` and ``forum.thread:7:…``). Under a collation other than C,
PostgreSQL's btree on ``subject`` serves neither LIKE nor a prefix range (a collation may not
even sort "forum.thread:7:1" between "forum.thread:7:" and "forum.thread:7;"), so each
forget scanned the largest table with FOR UPDATE. ``ix_notifications_subject_prefix`` uses
``varchar_pattern_ops``: byte order, which serves equality and the ``~>=~``/``~<~`` range
the query uses. On PostgreSQL it is built CONCURRENTLY (writes to notifications go on), so
outside the migration's transaction; it replaces ``ix_notifications_about``. SQLite compares
bytes already: the index is only renamed.

Revision ID: 0012_notifications_subject_index
Revises: 0011_forum_pin_scope
Create Date: 2026-12-01 08:00:00

"""

from alembic import op

revision = "0012_notifications_subject_index"
down_revision = "0011_forum_pin_scope"
branch_labels = None
depends_on = None


def _replace(old: str, new: str, ops: dict[str, str]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.create_index(
                new,
                "notifications",
                ["subject"],
                unique=False,
                postgresql_ops=ops,
                postgresql_concurrently=True,
            )
            op.drop_index(old, table_name="notifications", postgresql_concurrently=True)
    else:
        with op.batch_alter_table("notifications", schema=None) as batch_op:
            batch_op.create_index(new, ["subject"], unique=False)
            batch_op.drop_index(old)


def upgrade() -> None:
    _replace(
        "ix_notifications_about",
        "ix_notifications_subject_prefix",
        {"subject": "varchar_pattern_ops"},
    )


def downgrade() -> None:
    _replace("ix_notifications_subject_prefix", "ix_notifications_about", {})
