"""PIPL for chat: what a member wrote and follows (export), and erasure.

Erasure empties every message the member sent (a tombstone keeps the others' conversation in
order), removes their reactions, mentions and memberships, and deletes direct conversations
nobody else is left in.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from server.chat.models import (
    Conversation,
    ConversationMember,
    Message,
    MessageMention,
    MessageReaction,
)
from server.chat.rooms import disconnect_member
from server.common.time import utcnow
from server.extensions import db
from server.notifications import retraction


def export(member_id: int) -> dict[str, Any]:
    """What the member wrote (not deleted) and the conversations they follow."""
    messages = db.session.execute(
        sa.select(Message.id, Message.conversation_id, Message.body, Message.created_at)
        .where(Message.sender_id == member_id, Message.deleted_at.is_(None))
        .order_by(Message.id)
    ).all()
    follows = db.session.execute(
        sa.select(Conversation.id, Conversation.kind, Conversation.name)
        .join(ConversationMember, ConversationMember.conversation_id == Conversation.id)
        .where(ConversationMember.member_id == member_id)
    ).all()
    return {
        "conversations": [{"id": i, "kind": k, "name": n} for i, k, n in follows],
        "messages": [
            {"id": i, "conversation_id": c, "body": b, "created_at": t} for i, c, b, t in messages
        ],
    }


def erase(member_id: int) -> None:
    """Empty the member's messages, drop their reactions, mentions and memberships, and close
    their sockets after commit."""
    disconnect_member(member_id)
    db.session.execute(
        sa.update(Message)
        .where(Message.sender_id == member_id)
        .values(
            body="",
            html="",
            attachments=[],
            deleted_at=sa.func.coalesce(Message.deleted_at, utcnow()),
        )  # fmt: skip
        .execution_options(synchronize_session=False)
    )
    for model in (MessageReaction, MessageMention, ConversationMember):
        db.session.execute(sa.delete(model).where(model.member_id == member_id))
    empty = sa.select(Conversation.id).where(
        Conversation.kind == "direct",
        ~sa.exists().where(ConversationMember.conversation_id == Conversation.id),
    )
    db.session.execute(sa.delete(Conversation).where(Conversation.id.in_(empty)))
    # others' entries quoting their messages go, and off their phones
    retraction.forget(["chat.message"], actor_id=member_id, delete=True)
