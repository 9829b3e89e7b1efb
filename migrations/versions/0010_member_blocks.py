"""member_blocks: placeholder filled in by issue #10's work

Revision ID: 0010_member_blocks
Revises: 0009_notifications_hardening
Create Date: 2026-12-01 05:10:00

"""

from alembic import op  # noqa: F401

revision = "0010_member_blocks"
down_revision = "0009_notifications_hardening"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
