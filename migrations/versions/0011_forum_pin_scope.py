"""forum: pins have a scope — in a category (alliance admins may) or site-wide (staff only)

Before this revision any pin put the thread first on the front page, so an alliance admin
could pin a thread of their group category for the whole site. ``pinned`` now means first on
its category's page; ``pinned_globally`` first on the front page too, and the front page's
index sorts on it. Threads pinned before keep their place on the front page, except those of
an alliance's (group) category: their pins may be an alliance admin's, so they stay pinned in
their category only (staff pin them for the site again if they want).

Revision ID: 0011_forum_pin_scope
Revises: 0010_member_blocks
Create Date: 2026-12-01 06:45:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0011_forum_pin_scope"
down_revision = "0010_member_blocks"
branch_labels = None
depends_on = None

# pins of the site's own categories stay on the front page; a group category's may be an
# alliance admin's: pinned in the category only
PIN_SITE_WIDE = """
    UPDATE forum_threads SET pinned_globally = true
    WHERE pinned AND EXISTS (
        SELECT 1 FROM forum_categories c
        WHERE c.id = forum_threads.category_id AND c.group_id IS NULL
    )
"""


def upgrade() -> None:
    with op.batch_alter_table("forum_threads", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("pinned_globally", sa.Boolean(), server_default=sa.false(), nullable=False)
        )
    op.execute(PIN_SITE_WIDE)
    with op.batch_alter_table("forum_threads", schema=None) as batch_op:
        batch_op.drop_index("ix_forum_threads_latest")
        batch_op.create_index(
            "ix_forum_threads_latest", ["pinned_globally", "bumped_at", "id"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("forum_threads", schema=None) as batch_op:
        batch_op.drop_index("ix_forum_threads_latest")
        batch_op.create_index(
            "ix_forum_threads_latest", ["pinned", "bumped_at", "id"], unique=False
        )
        batch_op.drop_column("pinned_globally")
