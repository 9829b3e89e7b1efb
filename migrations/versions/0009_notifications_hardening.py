"""notifications_hardening: silent burst updates, withdraws that outlive their entry, and
the indexes that find which entries quote some content

- ``push_deliveries.alerted``: whether a sent push alerted (sound, high priority) or updated
  the shown one silently; the burst rule looks at the last alerting push per device.
- ``push_deliveries.detached`` and a nullable ``notification_id``: the withdraw of an entry
  deleted with an erased account still reaches the phones that show it.
- ``ix_notifications_about`` (subject) and ``ix_notifications_actor`` (actor_id): hiding,
  deleting or erasing content finds the entries that quote it across every inbox.

Revision ID: 0009_notifications_hardening
Revises: 0008_chat_channel_members
Create Date: 2026-12-01 05:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0009_notifications_hardening"
down_revision = "0008_chat_channel_members"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("push_deliveries", schema=None) as batch_op:
        batch_op.add_column(sa.Column("alerted", sa.Boolean(), nullable=True))
        batch_op.add_column(sa.Column("detached", sa.JSON(), nullable=True))
        batch_op.alter_column("notification_id", existing_type=sa.Integer(), nullable=True)
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.create_index("ix_notifications_about", ["subject"], unique=False)
        batch_op.create_index("ix_notifications_actor", ["actor_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notifications", schema=None) as batch_op:
        batch_op.drop_index("ix_notifications_actor")
        batch_op.drop_index("ix_notifications_about")
    op.execute("DELETE FROM push_deliveries WHERE notification_id IS NULL")
    with op.batch_alter_table("push_deliveries", schema=None) as batch_op:
        batch_op.alter_column("notification_id", existing_type=sa.Integer(), nullable=False)
        batch_op.drop_column("detached")
        batch_op.drop_column("alerted")
