"""member blocks, who may message me, accepted conversations, ranks of mutes and bans

- ``member_blocks``: a member blocks another (no conversations, mentions or replies from them).
- ``members.direct_messages_from``: everyone / alliances / nobody may open a conversation.
- ``chat_conversation_members.accepted``: the member opened the conversation or wrote in it
  (only then do its other members see their presence); filled from who created it and who
  has written in it.
- ``chat_mutes.moderator_role`` and ``alliance_bans.banned_by_role``: the rank of who imposed
  it, since lifting takes at least that rank. Existing rows take the imposer's managing role
  in the alliance now, else (they left, or were demoted) ``owner``: only the owner lifts what
  nobody can tell any more. A ban by site staff who is not a manager there is ``staff``.
- Invite links made by members who are no longer the alliance's owner or admin (nor site
  staff) are revoked, as demotion and removal revoke them from now on.

Revision ID: 0010_member_blocks
Revises: 0009_notifications_hardening
Create Date: 2026-12-01 05:10:00

"""

import sqlalchemy as sa
from alembic import op

revision = "0010_member_blocks"
down_revision = "0009_notifications_hardening"
branch_labels = None
depends_on = None

# One statement on both databases, and no table rebuild of ``members`` on SQLite (every other
# table refers to it: a rebuild with foreign keys on would cascade).
ADD_DIRECT_MESSAGES_FROM = """
    ALTER TABLE members ADD COLUMN direct_messages_from VARCHAR(16) DEFAULT 'everyone' NOT NULL
    CONSTRAINT ck_members_direct_messages_from
    CHECK (direct_messages_from IN ('everyone', 'alliances', 'nobody'))
"""

ACCEPTED = """
    UPDATE chat_conversation_members SET accepted = true
    WHERE EXISTS (
        SELECT 1 FROM chat_conversations c
        WHERE c.id = chat_conversation_members.conversation_id
          AND c.created_by_id = chat_conversation_members.member_id
    ) OR EXISTS (
        SELECT 1 FROM chat_messages m
        WHERE m.conversation_id = chat_conversation_members.conversation_id
          AND m.sender_id = chat_conversation_members.member_id
    )
"""

MUTE_ROLES = """
    UPDATE chat_mutes SET moderator_role = COALESCE((
        SELECT am.role FROM alliance_members am
        WHERE am.alliance_id = chat_mutes.alliance_id
          AND am.member_id = chat_mutes.moderator_id
          AND am.role IN ('owner', 'admin')
    ), 'owner')
"""

BAN_ROLES = """
    UPDATE alliance_bans SET banned_by_role = COALESCE((
        SELECT am.role FROM alliance_members am
        WHERE am.alliance_id = alliance_bans.alliance_id
          AND am.member_id = alliance_bans.banned_by_id
          AND am.role IN ('owner', 'admin')
    ), (
        SELECT 'staff' FROM members m WHERE m.id = alliance_bans.banned_by_id AND m.role = 'admin'
    ), 'owner')
"""

REVOKE_ORPHAN_INVITES = """
    UPDATE alliance_invites SET revoked_at = CURRENT_TIMESTAMP
    WHERE revoked_at IS NULL
      AND NOT EXISTS (
        SELECT 1 FROM alliance_members am
        WHERE am.alliance_id = alliance_invites.alliance_id
          AND am.member_id = alliance_invites.created_by_id
          AND am.role IN ('owner', 'admin')
      )
      AND NOT EXISTS (
        SELECT 1 FROM members m WHERE m.id = alliance_invites.created_by_id AND m.role = 'admin'
      )
"""


def upgrade():
    op.create_table(
        "member_blocks",
        sa.Column("member_id", sa.Integer(), nullable=False),
        sa.Column("blocked_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("member_id <> blocked_id", name=op.f("ck_member_blocks_not_self")),
        sa.ForeignKeyConstraint(
            ["blocked_id"], ["members.id"],
            name=op.f("fk_member_blocks_blocked_id_members"), ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["member_id"], ["members.id"],
            name=op.f("fk_member_blocks_member_id_members"), ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("member_id", "blocked_id", name=op.f("pk_member_blocks")),
    )
    op.create_index(
        op.f("ix_member_blocks_blocked_id"), "member_blocks", ["blocked_id"], unique=False
    )
    op.execute(ADD_DIRECT_MESSAGES_FROM)

    op.add_column(
        "chat_conversation_members",
        sa.Column("accepted", sa.Boolean(), server_default=sa.false(), nullable=False),
    )
    op.execute(ACCEPTED)

    op.add_column("chat_mutes", sa.Column("moderator_role", sa.String(length=8), nullable=True))
    op.execute(MUTE_ROLES)
    with op.batch_alter_table("chat_mutes", schema=None) as batch_op:
        batch_op.alter_column("moderator_role", existing_type=sa.String(length=8), nullable=False)

    op.add_column("alliance_bans", sa.Column("banned_by_role", sa.String(length=8), nullable=True))
    op.execute(BAN_ROLES)
    with op.batch_alter_table("alliance_bans", schema=None) as batch_op:
        batch_op.alter_column("banned_by_role", existing_type=sa.String(length=8), nullable=False)

    op.execute(REVOKE_ORPHAN_INVITES)


def downgrade():
    with op.batch_alter_table("alliance_bans", schema=None) as batch_op:
        batch_op.drop_column("banned_by_role")
    with op.batch_alter_table("chat_mutes", schema=None) as batch_op:
        batch_op.drop_column("moderator_role")
    with op.batch_alter_table("chat_conversation_members", schema=None) as batch_op:
        batch_op.drop_column("accepted")
    with op.batch_alter_table("members", schema=None) as batch_op:
        batch_op.drop_constraint(op.f("ck_members_direct_messages_from"), type_="check")
        batch_op.drop_column("direct_messages_from")
    op.drop_index(op.f("ix_member_blocks_blocked_id"), table_name="member_blocks")
    op.drop_table("member_blocks")
