"""Chat: conversations (an alliance's channels, direct messages), their members' read state,
messages, mentions and reactions.

A message id is the anchor for everything: history pages around it, read state is the last
message id a member has read, unread counts are ``id > last_read`` (Zulip's model).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.common.time import UTCDateTime, utcnow
from server.extensions import Model
from server.members.models import Member

KINDS = ("channel", "direct")


class Conversation(Model):
    __tablename__ = "chat_conversations"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(8))
    alliance_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("alliances.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(60), default="")
    private: Mapped[bool] = mapped_column(default=False)  # a channel only its members see
    # 1:1 direct messages are unique per pair: "min_id:max_id"
    direct_key: Mapped[str | None] = mapped_column(sa.String(32), unique=True)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_message_id: Mapped[int | None] = mapped_column()

    __table_args__ = (sa.CheckConstraint(f"kind IN {KINDS!r}", name="kind"),)


class ConversationMember(Model):
    __tablename__ = "chat_conversation_members"

    conversation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("chat_conversations.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    last_read_id: Mapped[int] = mapped_column(default=0)
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # a direct conversation the member opened or has written in: the others may see their
    # presence (a conversation someone else opened with them is not accepted yet)
    accepted: Mapped[bool] = mapped_column(default=False, server_default=sa.false())

    member: Mapped[Member] = relationship(lazy="raise")


class Message(Model):
    __tablename__ = "chat_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    conversation_id: Mapped[int] = mapped_column(
        sa.ForeignKey("chat_conversations.id", ondelete="CASCADE")
    )
    sender_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"))
    body: Mapped[str] = mapped_column(sa.Text)
    html: Mapped[str] = mapped_column(sa.Text)
    reply_to_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("chat_messages.id", ondelete="SET NULL")
    )
    attachments: Mapped[list[Any]] = mapped_column(sa.JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # the sender's own id for it (a client makes one per message): a send retried with the same
    # id is the same message, and the client recognises its own echo by it
    client_id: Mapped[str | None] = mapped_column(sa.String(64))

    sender: Mapped[Member | None] = relationship(lazy="raise")

    __table_args__ = (
        sa.Index("ix_chat_messages_history", "conversation_id", "id"),
        sa.Index(
            "ix_chat_messages_client_id",
            "sender_id",
            "client_id",
            unique=True,
            sqlite_where=sa.text("client_id IS NOT NULL"),
            postgresql_where=sa.text("client_id IS NOT NULL"),
        ),
    )


class MessageMention(Model):
    __tablename__ = "chat_mentions"

    message_id: Mapped[int] = mapped_column(
        sa.ForeignKey("chat_messages.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    conversation_id: Mapped[int] = mapped_column()

    __table_args__ = (sa.Index("ix_chat_mentions_member", "member_id", "conversation_id"),)


class MessageReaction(Model):
    __tablename__ = "chat_reactions"

    message_id: Mapped[int] = mapped_column(
        sa.ForeignKey("chat_messages.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    reaction: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ChatMute(Model):
    """A member may read an alliance's channels but not send in them until ``until``."""

    __tablename__ = "chat_mutes"

    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(sa.ForeignKey("alliances.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"))
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(sa.String(500), default="")
    moderator_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="SET NULL")
    )
    # the moderator's rank when muting (owner, admin): lifting takes at least that rank
    moderator_role: Mapped[str] = mapped_column(sa.String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (sa.Index("ix_chat_mutes_member", "alliance_id", "member_id"),)


class ChatModerationAction(Model):
    """An alliance's chat audit log: reports by members, deletions and mutes by its admins."""

    __tablename__ = "chat_moderation_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(
        sa.ForeignKey("alliances.id", ondelete="CASCADE"), index=True
    )
    # who acted: an admin, or the member who reported (the forum's log names it so too)
    moderator_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(sa.String(16))  # report | delete | mute | unmute
    target_type: Mapped[str] = mapped_column(sa.String(8))  # message | member
    target_id: Mapped[int] = mapped_column()
    reason: Mapped[str] = mapped_column(sa.String(500), default="")
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    moderator: Mapped[Member | None] = relationship(lazy="raise")
