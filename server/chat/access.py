"""Who may read a conversation, and who may add to it, in one place: every verb, the
conversation views and moderation load through here, so imports flow one way (this module
imports no other module of chat but ``models``).

A direct conversation is its members'; an alliance's channel is readable by the alliance's
members (a private one by its members only), and whoever leaves the alliance reads nothing of
it, even with a membership row left behind (``followed``). What one does in a conversation
beyond reading it (send, type, mark read, see receipts) takes following it
(``load_joined``: else 403 ``chat_not_joined``); a message is reached through its
conversation (``load_message``). Muted in an alliance, one reads and adds nothing to its
channels (``check_not_muted``; the mutes themselves are ``moderation``'s).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from server.alliances import scope as alliances
from server.chat.models import ChatMute, Conversation, ConversationMember, Message
from server.common.time import utcnow
from server.errors import Forbidden, NotFound, register_messages
from server.extensions import db
from server.members.models import Member

register_messages(
    {
        "chat_conversation_not_found": {
            "zh-Hans": "找不到该会话。",
            "zh-Hant": "找不到該對話。",
            "en": "No such conversation.",
        },
        "chat_message_not_found": {
            "zh-Hans": "找不到该消息。",
            "zh-Hant": "找不到該訊息。",
            "en": "No such message.",
        },
        "chat_not_joined": {
            "zh-Hans": "请先加入该频道。",
            "zh-Hant": "請先加入該頻道。",
            "en": "Join the channel first.",
        },
        "chat_muted": {
            "zh-Hans": "你在该联盟的聊天中被禁言。",
            "zh-Hant": "你在該聯盟的聊天中被禁言。",
            "en": "You are muted in this alliance's chat.",
        },
    }
)


@dataclass
class Access:
    conversation: Conversation
    membership: ConversationMember | None
    manager: bool  # an admin of the channel's alliance


def load(member: Member, conversation_id: int) -> Access:
    """The conversation if ``member`` may read it, else 404 (never says it exists)."""
    conversation = db.session.get(Conversation, conversation_id)
    if conversation is None:
        raise NotFound("chat_conversation_not_found")
    membership = db.session.get(ConversationMember, (conversation_id, member.id))
    manager = False
    if conversation.kind == "channel" and conversation.alliance_id is not None:
        # a channel is its alliance's: whoever is no longer in the alliance reads nothing
        role = alliances.role_in(member.id, conversation.alliance_id)
        manager = role in alliances.MANAGERS
        readable = role is not None and (membership is not None or not conversation.private)
    else:
        readable = membership is not None
    if not readable:
        raise NotFound("chat_conversation_not_found")
    return Access(conversation, membership, manager)


def load_joined(member: Member, conversation_id: int) -> tuple[Conversation, ConversationMember]:
    """The conversation and the member's membership if they follow it: 404 if they may not
    read it, 403 ``chat_not_joined`` if they only read it (a public channel not joined)."""
    access = load(member, conversation_id)
    if access.membership is None:
        raise Forbidden("chat_not_joined")
    return access.conversation, access.membership


def load_message(member: Member, message_id: int) -> tuple[Message, Access]:
    """A message that is not deleted, in a conversation the member may read, else 404
    (whoever sent it: the verbs check what they need of the sender)."""
    message = db.session.get(Message, message_id)
    if message is None:
        raise NotFound("chat_message_not_found")
    access = load(member, message.conversation_id)
    if message.deleted_at is not None:
        raise NotFound("chat_message_not_found")
    return message, access


def followed(membership: Any = ConversationMember) -> sa.ColumnElement[bool]:
    """SQL over ``ConversationMember`` (or an alias of it): a membership that still counts —
    of a direct conversation, or of a channel whose alliance the member is (still) in."""
    conversation = sa.orm.aliased(Conversation)
    return sa.exists().where(
        conversation.id == membership.conversation_id,
        sa.or_(
            conversation.alliance_id.is_(None),
            alliances.belongs(conversation.alliance_id, membership.member_id),
        ),
    )


def check_not_muted(member: Member, alliance_id: int | None) -> None:
    """Muted in an alliance means no new content in its channels: no message, edit, reaction
    or typing (reading still works)."""
    if alliance_id is None:
        return
    muted = db.session.execute(
        sa.select(ChatMute.id).where(
            ChatMute.alliance_id == alliance_id,
            ChatMute.member_id == member.id,
            ChatMute.lifted_at.is_(None),
            ChatMute.until > utcnow(),
        )
    ).first()
    if muted:
        raise Forbidden("chat_muted")
