"""Consent in chat: who may open a direct conversation with whom, who may write in a
one-to-one one, and whose presence a member sees.

- **Opening** (or reopening) a direct conversation asks each other member: they have not
  blocked the caller, and their ``direct_messages_from`` lets the caller in (``everyone``;
  ``alliances``: the two share an alliance; ``nobody``). A refusal is one code,
  ``chat_direct_not_allowed``, whichever the reason: a blocked member cannot tell they are
  blocked rather than filtered. Someone the caller blocked is refused as
  ``chat_member_blocked`` (the caller knows whom they blocked).
- **Writing** (sending, editing, reacting; typing too) in a one-to-one conversation stops
  while either has blocked the other (same codes), and while the other member has not
  *accepted* the conversation their ``direct_messages_from`` still applies, as at opening. So
  in a conversation someone opened with a stranger who never answered, a refusal reads the
  same whether the stranger blocked them or changed the setting. Once the other has accepted
  it their setting no longer applies there, and a refusal does mean a block: we chose that over
  silently swallowing messages, and say so in the README. Group conversations go on; there a
  block stops mentions and replies only.
- **Presence** of a member shows to members who share an alliance with them, or a direct
  conversation they *accepted*: opened themselves, or have written in — never to someone they
  blocked (who sees them ``offline``, as everyone whose presence is hidden). Someone opening a
  conversation with a stranger does not learn when the stranger is online: not from presence,
  and not from the stranger's read receipts or typing, which stay on the stranger's own
  devices until they accept the conversation.

Imports models, ``alliances.scope`` and ``members.blocks``; the verbs import it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from server.alliances import scope as alliances
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
        # also ``direct`` (not one to eight others) and ``channels`` (not in the alliance)
        "chat_invalid_members": {
            "zh-Hans": "私信对象无效。",
            "zh-Hant": "私訊對象無效。",
            "en": "Those members cannot be messaged.",
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


def _consent_columns(member: Member) -> list[Any]:
    """Columns over ``Member`` (the other member): what their consent to ``member`` depends on."""
    return [
        Member.direct_messages_from,
        blocks.blocked(Member.id, member.id).label("blocks_caller"),
        blocks.blocked(member.id, Member.id).label("blocked_by_caller"),
        alliances.shares_alliance(member.id, Member.id).label("shares"),
    ]


def _refuses(row: Any) -> bool:
    """The other member (a row of ``_consent_columns``) does not let the caller in. One answer
    for a block and for the setting, so that neither can be told from the other."""
    policy = row.direct_messages_from
    return row.blocks_caller or policy == "nobody" or (policy == "alliances" and not row.shares)


def check_may_open(member: Member, others: list[int]) -> None:
    """Each of ``others`` exists and accepts a direct conversation from ``member`` (one query)."""
    rows = db.session.execute(
        sa.select(Member.id, *_consent_columns(member)).where(
            Member.id.in_(others), Member.deleted_at.is_(None)
        )
    ).all()
    if len(rows) != len(others):
        raise DomainError("chat_invalid_members", 422)
    if any(row.blocked_by_caller for row in rows):
        raise Forbidden("chat_member_blocked")
    if any(_refuses(row) for row in rows):
        raise Forbidden("chat_direct_not_allowed")


def check_may_write(member: Member, conversation: Conversation) -> None:
    """In a one-to-one conversation, neither writes while one has blocked the other; until the
    other has accepted it, their ``direct_messages_from`` applies too (one query)."""
    other = pair_other(conversation, member.id)
    if other is None:
        return
    theirs = aliased(ConversationMember)
    accepted = (
        sa.select(theirs.accepted)
        .where(theirs.conversation_id == conversation.id, theirs.member_id == Member.id)
        .correlate(Member)
        .scalar_subquery()
    )
    row = db.session.execute(
        sa.select(*_consent_columns(member), accepted.label("accepted")).where(Member.id == other)
    ).one_or_none()
    if row is None:
        return
    if row.blocked_by_caller:
        raise Forbidden("chat_member_blocked")
    # an accepted conversation is past the setting (it was asked at opening); a block is not
    if row.blocks_caller or (not row.accepted and _refuses(row)):
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


def shares_activity(conversation: Conversation, membership: ConversationMember) -> bool:
    """The member's reading and typing may reach the others: a channel, or a direct
    conversation they accepted (as ``hears_presence``); until then either would tell whoever
    opened it when the member is online."""
    return conversation.kind == "channel" or membership.accepted


def presence_visible(viewer_id: int, member_ids: list[int]) -> set[int]:
    """Those of ``member_ids`` whose presence ``viewer_id`` may see (themselves included):
    sharing an alliance, or in a direct conversation with them that they accepted; never
    someone who blocked the viewer (``presence_hidden_from`` is the same rule for sockets)."""
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


def presence_hidden_from(member_id: int) -> list[int]:
    """Members who never hear ``member_id``'s presence, whatever conversations they share:
    those ``member_id`` has blocked — the rule ``presence_visible`` applies (one query)."""
    return blocks.blocked_by(member_id)
