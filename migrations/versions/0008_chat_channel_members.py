"""chat: channel memberships of members no longer in the channel's alliance are dropped

Before this revision leaving an alliance (or being removed or banned) left its channels'
memberships behind; from now on the alliance's hook removes them in the same transaction.

Revision ID: 0008_chat_channel_members
Revises: 0007_chat_moderation
Create Date: 2026-11-26 13:30:00

"""

from alembic import op

revision = "0008_chat_channel_members"
down_revision = "0007_chat_moderation"
branch_labels = None
depends_on = None


DROP_LEFTOVERS = """
        DELETE FROM chat_conversation_members
        WHERE EXISTS (
            SELECT 1 FROM chat_conversations c
            WHERE c.id = chat_conversation_members.conversation_id
              AND c.alliance_id IS NOT NULL
              AND NOT EXISTS (
                SELECT 1 FROM alliance_members am
                WHERE am.alliance_id = c.alliance_id
                  AND am.member_id = chat_conversation_members.member_id
              )
        )
        """


def upgrade():
    op.execute(DROP_LEFTOVERS)


def downgrade():
    pass  # the rows were stale: nothing to put back
