"""Consent in chat: who may open a direct conversation with whom, who may write in a
one-to-one one, and whose presence a member sees.

- **Opening** (or reopening) a direct conversation asks each other member: they have not
  blocked the caller, and their ``direct_messages_from`` lets the caller in (``everyone``;
  ``alliances``: the two share an alliance; ``nobody``). A refusal is one code,
  ``chat_direct_not_allowed``, whichever the reason: a blocked member cannot tell they are
  blocked rather than filtered. Someone the caller blocked is refused as
  ``chat_member_blocked`` (the caller knows whom they blocked).
- **Writing** in a one-to-one conversation stops while either has blocked the other (same
  codes). Group conversations go on; there a block stops mentions and replies only.
- **Presence** of a member shows to members who share an alliance with them, or a direct
  conversation they *accepted*: opened themselves, or have written in. Someone opening a
  conversation with a stranger does not learn when the stranger is online.

Imports models, ``alliances.service`` and ``members.blocks``; ``service`` and ``direct`` import it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from server.alliances import service as alliances
from server.chat.models import Conversation, ConversationMember
from server.errors import DomainError, Forbidden, register_messages
from server.extensions import db
from server.members import blocks
from server.members.models import Member

register_messages(
    {
        "chat_direct_not_allowed": {
            "zh-Hans": "对方目前不接收你的私信。",
            "zh-Hant": "對方目前不接收你的私訊。",
            "en": "This member does not accept direct messages from you.",
        },
        "chat_member_blocked": {
            "zh-Hans": "你已屏蔽该成员，解除屏蔽后才能给对方发私信。",
            "zh-Hant": "你已封鎖該成員，解除封鎖後才能傳私訊給對方。",
            "en": "You have blocked this member: unblock them to write to them.",
        },
    }
)


def direct_key(member_ids: Iterable[int]) -> str:
    """The key of the direct conversation of exactly these members: ``a:b`` for a pair (as
    before), a digest of the set for a group; the column is unique, so a set has one."""
    ids = sorted(set(member_ids))
    if len(ids) == 2:
        return f"{ids[0]}:{ids[1]}"
    return "g:" + hashlib.sha256(",".join(map(str, ids)).encode()).hexdigest()[:30]


def pair_other(conversation: Conversation, member_id: int) -> int | None:
    """The other member of a one-to-one conversation, else None."""
    key = conversation.direct_key
    if conversation.kind != "direct" or not key or key.startswith("g:"):
        return None
    first, _sep, second = key.partition(":")
    return int(second) if int(first) == member_id else int(first)


def check_may_open(member: Member, others: list[int]) -> None:
    """Each of ``others`` exists and accepts a direct conversation from ``member`` (one query)."""
    rows = db.session.execute(
        sa.select(
            Member.id,
            Member.direct_messages_from,
            blocks.blocked(Member.id, member.id).label("blocks_caller"),
            blocks.blocked(member.id, Member.id).label("blocked_by_caller"),
            alliances.shares_alliance(member.id, Member.id).label("shares"),
        ).where(Member.id.in_(others), Member.deleted_at.is_(None))
    ).all()
    if len(rows) != len(others):
        raise DomainError("chat_invalid_members", 422)
    if any(row.blocked_by_caller for row in rows):
        raise Forbidden("chat_member_blocked")
    for row in rows:
        policy = row.direct_messages_from
        if row.blocks_caller or policy == "nobody" or (policy == "alliances" and not row.shares):
            raise Forbidden("chat_direct_not_allowed")


def check_may_write(member: Member, conversation: Conversation) -> None:
    """In a one-to-one conversation, neither writes while one has blocked the other."""
    other = pair_other(conversation, member.id)
    if other is None:
        return
    if blocks.has_blocked(member.id, other):
        raise Forbidden("chat_member_blocked")
    if blocks.has_blocked(other, member.id):
        raise Forbidden("chat_direct_not_allowed")


def hears_presence(membership: Any = ConversationMember) -> sa.ColumnElement[bool]:
    """SQL over ``ConversationMember`` (or an alias): the conversation may hear this member's
    presence — a channel (its members share the alliance), or a direct conversation the member
    accepted."""
    return sa.or_(
        membership.accepted,
        sa.exists().where(
            Conversation.id == membership.conversation_id, Conversation.kind == "channel"
        ),
    )


def presence_visible(viewer_id: int, member_ids: list[int]) -> set[int]:
    """Those of ``member_ids`` whose presence ``viewer_id`` may see (themselves included):
    sharing an alliance, or in a direct conversation with them that they accepted; never
    someone who blocked the viewer."""
    theirs, mine = aliased(ConversationMember), aliased(ConversationMember)
    accepted_with_viewer = (
        sa.exists()
        .where(
            theirs.member_id == Member.id,
            theirs.accepted.is_(True),
            mine.conversation_id == theirs.conversation_id,
            mine.member_id == viewer_id,
            Conversation.id == theirs.conversation_id,
            Conversation.kind == "direct",
        )
        .correlate(Member)
    )
    return set(
        db.session.execute(
            sa.select(Member.id).where(
                Member.id.in_(member_ids),
                sa.or_(
                    Member.id == viewer_id,
                    alliances.shares_alliance(viewer_id, Member.id),
                    accepted_with_viewer,
                ),
                ~blocks.blocked(Member.id, viewer_id),
            )
        ).scalars()
    )
