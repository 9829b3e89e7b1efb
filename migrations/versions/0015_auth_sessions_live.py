"""auth_sessions_live: a member's live sessions by last use, without the revoked ones

``_cap_sessions`` runs at every sign-in: the member's live sessions, most recently used first,
past the cap. With only ``ix_auth_sessions_member_id`` it read every session the member ever
had (revoked ones pile up) and sorted them. The partial index holds the live ones only, in the
order the query wants. On PostgreSQL it is built CONCURRENTLY (sign-ins go on).

Revision ID: 0015_auth_sessions_live
Revises: 0014_idempotency_keys
Create Date: 2026-12-01 12:00:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0015_auth_sessions_live"
down_revision = "0014_idempotency_keys"
branch_labels = None
depends_on = None

LIVE = "revoked_at IS NULL"


def upgrade() -> None:
    columns = ["member_id", "refreshed_at", "id"]  # read backwards: the most recent first
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.create_index(
                "ix_auth_sessions_live", "auth_sessions", columns,
                postgresql_where=sa.text(LIVE), postgresql_concurrently=True,
            )  # fmt: skip
    else:
        op.create_index(
            "ix_auth_sessions_live", "auth_sessions", columns, sqlite_where=sa.text(LIVE)
        )


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        with op.get_context().autocommit_block():
            op.drop_index(
                "ix_auth_sessions_live", table_name="auth_sessions", postgresql_concurrently=True
            )
    else:
        op.drop_index("ix_auth_sessions_live", table_name="auth_sessions")
