"""notifications_hardening: placeholder filled in by issue #10's work

Revision ID: 0009_notifications_hardening
Revises: 0008_chat_channel_members
Create Date: 2026-12-01 05:10:00

"""

from alembic import op  # noqa: F401

revision = "0009_notifications_hardening"
down_revision = "0008_chat_channel_members"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
