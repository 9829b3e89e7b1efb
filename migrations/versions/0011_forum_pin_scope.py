"""forum_pin_scope: placeholder filled in by issue #10's work

Revision ID: 0011_forum_pin_scope
Revises: 0010_member_blocks
Create Date: 2026-12-01 05:10:00

"""

from alembic import op  # noqa: F401

revision = "0011_forum_pin_scope"
down_revision = "0010_member_blocks"
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
