"""chat_client_id: a message carries the sender's own id for it; a send retried with the same id
is the same message (unique per sender)

Revision ID: 0016_chat_client_id
Revises: 0015_auth_sessions_live
Create Date: 2026-12-01 12:30:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0016_chat_client_id"
down_revision = "0015_auth_sessions_live"
branch_labels = None
depends_on = None

GIVEN = "client_id IS NOT NULL"


def upgrade() -> None:
    op.add_column("chat_messages", sa.Column("client_id", sa.String(length=64), nullable=True))
    op.create_index(
        "ix_chat_messages_client_id", "chat_messages", ["sender_id", "client_id"], unique=True,
        sqlite_where=sa.text(GIVEN), postgresql_where=sa.text(GIVEN),
    )  # fmt: skip


def downgrade() -> None:
    op.drop_index("ix_chat_messages_client_id", table_name="chat_messages")
    with op.batch_alter_table("chat_messages") as batch_op:
        batch_op.drop_column("client_id")
