"""What a client shows of a conversation: its name, its members' cards, and the caller's unread
and mention counts, for the list at launch (``list_conversations``), one conversation
(``get_conversation``) and the ``conversation_added`` event (``views_for``) alike.

A direct conversation is named after its other members; a channel by its own name. Each view
carries up to ``MAX_CARDS`` member cards (all of a direct conversation's, which has at most nine;
the first to join a channel's) and ``member_count``. A list costs the same five queries whatever
its length.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from server.chat.access import followed, load
from server.chat.models import Conversation, ConversationMember, Message, MessageMention
from server.extensions import db
from server.members.models import Member

MAX_CONVERSATIONS = 500
MAX_CARDS = 20


@dataclass
class ConversationView:
    conversation: Conversation
    viewer_id: int
    joined: bool  # the caller follows it (a public channel can be read without joining)
    last_read_id: int
    unread_count: int = 0
    mention_count: int = 0
    last_message: Message | None = None
    member_count: int = 0
    members: list[Member] = field(default_factory=list)


def list_conversations(member: Member) -> list[ConversationView]:
    """The conversations the member follows, most recent first: what a client needs at launch.

    Bounded, not paged: the ``MAX_CONVERSATIONS`` most recently active (the operation's
    description says so); a client reaches any other with ``get_conversation``."""
    return views_for(member.id)


def get_conversation(member: Member, conversation_id: int) -> ConversationView:
    """One conversation the member may read (else 404), followed or not."""
    access = load(member, conversation_id)
    if access.membership is not None:
        found = views_for(member.id, [conversation_id])
        if found:
            return found[0]
    view = ConversationView(access.conversation, member.id, False, 0)
    _complete([view])
    return view


def views_for(member_id: int, conversation_ids: list[int] | None = None) -> list[ConversationView]:
    """The views of the conversations the member follows (of ``conversation_ids`` only, if
    given), with the member's unread and mention counts."""
    query = (
        sa.select(Conversation, ConversationMember.last_read_id)
        .join(ConversationMember, ConversationMember.conversation_id == Conversation.id)
        .where(ConversationMember.member_id == member_id, followed())
        .order_by(Conversation.last_message_id.desc().nulls_last(), Conversation.id.desc())
        .limit(MAX_CONVERSATIONS)
    )
    if conversation_ids is not None:
        query = query.where(Conversation.id.in_(conversation_ids))
    views = [ConversationView(c, member_id, True, read) for c, read in db.session.execute(query)]
    if not views:
        return views
    ids = [v.conversation.id for v in views]
    mine = sa.and_(
        ConversationMember.conversation_id == Message.conversation_id,
        ConversationMember.member_id == member_id,
    )
    unread = dict(
        db.session.execute(
            sa.select(Message.conversation_id, sa.func.count())
            .join(ConversationMember, mine)
            .where(
                Message.conversation_id.in_(ids),
                Message.id > ConversationMember.last_read_id,
                Message.deleted_at.is_(None),
                sa.or_(Message.sender_id.is_(None), Message.sender_id != member_id),
            )
            .group_by(Message.conversation_id)
        ).all()
    )
    mentions = dict(
        db.session.execute(
            sa.select(MessageMention.conversation_id, sa.func.count())
            .join(
                ConversationMember,
                sa.and_(
                    ConversationMember.conversation_id == MessageMention.conversation_id,
                    ConversationMember.member_id == member_id,
                ),
            )
            .where(
                MessageMention.member_id == member_id,
                MessageMention.conversation_id.in_(ids),
                MessageMention.message_id > ConversationMember.last_read_id,
            )
            .group_by(MessageMention.conversation_id)
        ).all()
    )
    for view in views:
        view.unread_count = unread.get(view.conversation.id, 0)
        view.mention_count = mentions.get(view.conversation.id, 0)
    _complete(views)
    return views


def _complete(views: list[ConversationView]) -> None:
    """Each view's last message, member count and first member cards (two queries)."""
    ids = [v.conversation.id for v in views]
    last_ids = [v.conversation.last_message_id for v in views if v.conversation.last_message_id]
    last = {
        m.id: m
        for m in db.session.execute(
            sa.select(Message).options(joinedload(Message.sender)).where(Message.id.in_(last_ids))
        ).scalars()
    }
    ranked = (
        sa.select(
            ConversationMember.conversation_id,
            ConversationMember.member_id,
            sa.func.row_number()
            .over(
                partition_by=ConversationMember.conversation_id,
                order_by=(ConversationMember.joined_at, ConversationMember.member_id),
            )
            .label("n"),
            sa.func.count().over(partition_by=ConversationMember.conversation_id).label("total"),
        )
        .where(ConversationMember.conversation_id.in_(ids), followed())
        .subquery()
    )
    counts: dict[int, int] = {}
    cards: dict[int, list[Member]] = defaultdict(list)
    for conversation_id, total, member in db.session.execute(
        sa.select(ranked.c.conversation_id, ranked.c.total, Member)
        .join(Member, Member.id == ranked.c.member_id)
        .where(ranked.c.n <= MAX_CARDS)
        .order_by(ranked.c.conversation_id, ranked.c.n)
    ):
        counts[conversation_id] = total
        cards[conversation_id].append(member)
    for view in views:
        conversation = view.conversation
        view.last_message = last.get(conversation.last_message_id or 0)
        view.member_count = counts.get(conversation.id, 0)
        view.members = cards.get(conversation.id, [])
