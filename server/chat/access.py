"""Who may read a conversation, in one place: the verbs (``service``), the conversation views
(``conversations``) and moderation all load through here, so imports flow one way.

A direct conversation is its members'; an alliance's channel is readable by the alliance's
members (a private one by its members only), and whoever leaves the alliance reads nothing of
it, even with a membership row left behind (``followed``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa

from server.alliances import service as alliances
from server.chat.models import Conversation, ConversationMember
from server.errors import NotFound, register_messages
from server.extensions import db
from server.members.models import Member

register_messages(
    {
        "chat_conversation_not_found": {
            "zh-Hans": "找不到该会话。",
            "zh-Hant": "找不到該對話。",
            "en": "No such conversation.",
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
