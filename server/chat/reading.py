"""Read state and read receipts.

Who may do what: a member who follows a conversation marks it read (``mark_read``, up to a
message, never back) and sees how far the others have read (``list_receipts``); a reader who does
not follow it (a public channel not joined) has no read state: 403 ``chat_not_joined``.
Receipts are kept for small conversations only (at most ``CHAT_RECEIPTS_LIMIT`` members; 409
``chat_receipts_unavailable`` past it). A member's reading reaches the others (the ``read``
event in the conversation's room, their receipts) only once the member has accepted the
direct conversation (``consent.shares_activity``): until then it would tell a stranger when
one is online, so the ``read`` event goes to the member's own devices only.
"""

from __future__ import annotations

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload

from server.chat import consent
from server.chat.access import followed, load_joined
from server.chat.kinds import conversation_subject
from server.chat.models import ConversationMember
from server.chat.rooms import emit_to_conversation, emit_to_member
from server.common.tx import commit
from server.errors import Conflict, register_messages
from server.extensions import db
from server.members.models import Member
from server.notifications import inbox as notifications

register_messages(
    {
        "chat_receipts_unavailable": {
            "zh-Hans": "该会话人数较多，不提供已读回执。",
            "zh-Hant": "該對話人數較多，不提供已讀回條。",
            "en": "Read receipts are kept for small conversations only.",
        },
    }
)


def _small(conversation_id: int) -> bool:
    """At most ``CHAT_RECEIPTS_LIMIT`` members: their reading is shared with each other."""
    limit: int = current_app.config["CHAT_RECEIPTS_LIMIT"]
    first = (
        sa.select(ConversationMember.member_id)
        .where(ConversationMember.conversation_id == conversation_id, followed())
        .limit(limit + 1)
        .subquery()
    )
    count: int = db.session.execute(sa.select(sa.func.count()).select_from(first)).scalar_one()
    return count <= limit


def mark_read(member: Member, conversation_id: int, message_id: int) -> int:
    """Read up to ``message_id``; pushes about what is now read are withdrawn everywhere.
    The ``read`` event goes to the conversation if it is small (read receipts) and the member
    has accepted it, else to the member's own devices."""
    conversation, membership = load_joined(member, conversation_id)
    last = conversation.last_message_id or 0
    membership.last_read_id = max(membership.last_read_id, min(message_id, last))
    if membership.last_read_id >= last:
        subject = conversation_subject(conversation_id)
        notifications.mark_read_ids(
            member.id, [n for n, _s in notifications.unread_subjects(member.id, subject)]
        )
    payload = {
        "conversation_id": conversation_id,
        "member_id": member.id,
        "last_read_id": membership.last_read_id,
    }
    if consent.shares_activity(conversation, membership) and _small(conversation_id):
        emit_to_conversation("read", payload, conversation_id)
    else:
        emit_to_member("read", payload, member.id)
    commit()
    return membership.last_read_id


def list_receipts(member: Member, conversation_id: int) -> list[ConversationMember]:
    """How far each other member of a small conversation has read (409 in a big one); members
    who have not accepted a direct conversation are left out (their reading is their own)."""
    load_joined(member, conversation_id)
    limit = current_app.config["CHAT_RECEIPTS_LIMIT"]
    rows = list(
        db.session.execute(
            sa.select(ConversationMember)
            .options(joinedload(ConversationMember.member))
            .where(
                ConversationMember.conversation_id == conversation_id,
                ConversationMember.member_id != member.id,
                followed(),
                consent.hears_presence(),
            )
            .order_by(ConversationMember.last_read_id.desc(), ConversationMember.member_id)
            .limit(limit)
        ).scalars()
    )
    if len(rows) >= limit:  # with the caller, more than the limit
        raise Conflict("chat_receipts_unavailable")
    return rows
