"""Opening direct conversations, with consent.

A direct conversation has the caller and one to eight others. Exactly the same members always
get the same conversation (one-to-one or group: ``consent.direct_key``), so opening it again
reuses it, and puts the caller back in it if they had left — never the others, who left on
purpose. Every opening, new or reused, asks the others' consent (``consent.check_may_open``);
only new conversations count toward ``CHAT_DIRECT_OPEN_LIMIT``. The caller has *accepted* the
conversation (the others see their presence); the others accept it by writing in it.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from server.chat import consent, limits
from server.chat.models import Conversation, ConversationMember
from server.chat.rooms import sync_rooms
from server.common.tx import commit, insert_ignore
from server.errors import DomainError
from server.extensions import db
from server.members.models import Member

MAX_DIRECT_MEMBERS = 8


def _by_key(key: str) -> Conversation | None:
    return db.session.execute(
        sa.select(Conversation).where(Conversation.direct_key == key)
    ).scalar_one_or_none()


def _reopen(member: Member, conversation: Conversation) -> Conversation:
    """The caller is (back) in it, and has accepted it."""
    back = {"conversation_id": conversation.id, "member_id": member.id, "accepted": True}
    if insert_ignore(ConversationMember, back):
        sync_rooms([member.id], [conversation.id])
    else:
        db.session.execute(
            sa.update(ConversationMember)
            .where(
                ConversationMember.conversation_id == conversation.id,
                ConversationMember.member_id == member.id,
                ConversationMember.accepted.is_(False),
            )
            .values(accepted=True)
        )
    commit()
    return conversation


def open_direct(member: Member, member_ids: list[int]) -> Conversation:
    """The direct conversation of the caller and these one to eight others: the existing one,
    or a new one (rate-limited); 403 if one of them does not accept it."""
    others = sorted(set(member_ids) - {member.id})
    if not others or len(others) > MAX_DIRECT_MEMBERS:
        raise DomainError("chat_invalid_members", 422)
    consent.check_may_open(member, others)
    key = consent.direct_key([member.id, *others])
    existing = _by_key(key)
    if existing is not None:
        return _reopen(member, existing)
    limits.check("open", member.id)
    conversation = Conversation(kind="direct", direct_key=key, created_by_id=member.id)
    try:
        with db.session.begin_nested():
            db.session.add(conversation)
            db.session.flush()
    except IntegrityError:  # the same members, opened by another request just now
        existing = _by_key(key)
        if existing is None:
            raise
        return _reopen(member, existing)
    db.session.execute(
        sa.insert(ConversationMember),
        [
            {"conversation_id": conversation.id, "member_id": m, "accepted": m == member.id}
            for m in [member.id, *others]
        ],
    )
    sync_rooms([member.id, *others], [conversation.id])
    commit()
    return conversation
