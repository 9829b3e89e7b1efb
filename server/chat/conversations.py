"""What a client shows of a conversation: its name, its members' cards, and the caller's unread
and mention counts, for the list at launch (``list_conversations``), one conversation
(``get_conversation``) and the ``conversation_added`` event (``views_for``) alike.

A direct conversation is named after its other members; a channel by its own name. Each view
carries up to ``MAX_CARDS`` member cards (all of a direct conversation's, which has at most nine;
the first to join a channel's) and ``member_count``. The list follows the list rule (plain rows,
``server/common/rows.py``): one query for the conversations with the caller's counts and the last
message, one for the member cards of them all, whatever their number; one or a few conversations
(``views_for``) are ORM objects for ``ConversationSchema``, counted by the same SQL.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from server.chat.access import followed, load
from server.chat.models import Conversation, ConversationMember, Message, MessageMention
from server.common.pagination import Page, RowPage
from server.extensions import db
from server.members.models import Member
from server.members.service import CARD_COLUMNS, card_columns

MAX_CONVERSATIONS = 500
MAX_CARDS = 20

CONVERSATIONS = Conversation.__table__
MEMBERSHIPS = ConversationMember.__table__
_MESSAGE_COLUMNS = (
    "id", "conversation_id", "html", "reply_to_id", "attachments", "created_at", "edited_at",
    "deleted_at", "client_id",
)  # fmt: skip
# made once (an alias's columns cost to build): each conversation's last message and its sender
_LAST = Message.__table__.alias("last_message")
_SENDER = Member.__table__.alias("sender")
# what list_conversations adds to each row after its query: ConversationSchema's other values
_ADDED = ("member_count", "members", "viewer_id", "joined")


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
    members: list[Any] = field(default_factory=list)  # card rows (MemberCardSchema's columns)


# The caller is a bound parameter: the list's select is built once (building one costs more
# than running it), and views_for shares its counts.
_VIEWER: sa.BindParameter[int] = sa.bindparam("viewer")


def _counts() -> list[sa.Label[int]]:
    """The caller's unread messages (not their own, not deleted) and unread mentions in the
    conversation of the enclosing query, past their ``last_read_id``: correlated counts."""
    c, mine = CONVERSATIONS.c, MEMBERSHIPS.c
    m, mention = Message.__table__.c, MessageMention.__table__.c
    unread = sa.select(sa.func.count()).where(
        m.conversation_id == c.id,
        m.id > mine.last_read_id,
        m.deleted_at.is_(None),
        sa.or_(m.sender_id.is_(None), m.sender_id != _VIEWER),
    )
    mentions = sa.select(sa.func.count()).where(
        mention.member_id == _VIEWER,
        mention.conversation_id == c.id,
        mention.message_id > mine.last_read_id,
    )
    return [
        unread.scalar_subquery().label("unread_count"),
        mentions.scalar_subquery().label("mention_count"),
    ]


_FOLLOWED = sa.and_(MEMBERSHIPS.c.member_id == _VIEWER, followed(MEMBERSHIPS.c))
_LIST = (
    sa.select(
        CONVERSATIONS.c.id,
        CONVERSATIONS.c.kind,
        CONVERSATIONS.c.alliance_id,
        CONVERSATIONS.c.name,
        CONVERSATIONS.c.private,
        MEMBERSHIPS.c.last_read_id,
        *_counts(),
        *(_LAST.c[name].label(f"last_message__{name}") for name in _MESSAGE_COLUMNS),
        *card_columns(_SENDER, "last_message__sender"),
    )
    .select_from(
        CONVERSATIONS.join(MEMBERSHIPS, MEMBERSHIPS.c.conversation_id == CONVERSATIONS.c.id)
        .outerjoin(_LAST, _LAST.c.id == CONVERSATIONS.c.last_message_id)
        .outerjoin(_SENDER, _SENDER.c.id == _LAST.c.sender_id)
    )
    .where(_FOLLOWED)
    .order_by(CONVERSATIONS.c.last_message_id.desc().nulls_last(), CONVERSATIONS.c.id.desc())
    .limit(MAX_CONVERSATIONS)
)


def list_conversations(member: Member) -> Page[Any]:
    """The conversations the member follows, most recent first: what a client needs at launch.

    Bounded, not paged: the ``MAX_CONVERSATIONS`` most recently active (the operation's
    description says so); a client reaches any other with ``get_conversation``."""
    result = db.session.execute(_LIST, {"viewer": member.id})
    fields = (*result.keys(), *_ADDED)
    found = result.all()
    counts, cards = _cards([row.id for row in found])
    items = [(*row, counts.get(row.id, 0), cards[row.id], member.id, True) for row in found]
    return RowPage(items, None, fields)


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
        sa.select(Conversation, MEMBERSHIPS.c.last_read_id, *_counts())
        .join(MEMBERSHIPS, MEMBERSHIPS.c.conversation_id == Conversation.id)
        .where(_FOLLOWED)
        .order_by(Conversation.last_message_id.desc().nulls_last(), Conversation.id.desc())
        .limit(MAX_CONVERSATIONS)
    )
    if conversation_ids is not None:
        query = query.where(Conversation.id.in_(conversation_ids))
    views = [
        ConversationView(c, member_id, True, read, unread, mentioned)
        for c, read, unread, mentioned in db.session.execute(query, {"viewer": member_id})
    ]
    if views:
        _complete(views)
    return views


def _cards(conversation_ids: list[int]) -> tuple[dict[int, int], dict[int, list[Any]]]:
    """Each conversation's member count and first ``MAX_CARDS`` member cards, in the order
    they joined, in one query for them all. A card is a row with ``MemberCardSchema``'s
    columns (and its conversation's id and member count)."""
    counts: dict[int, int] = {}
    cards: dict[int, list[Any]] = defaultdict(list)
    if not conversation_ids:
        return counts, cards
    mine = MEMBERSHIPS.c
    ranked = (
        sa.select(
            mine.conversation_id,
            mine.member_id,
            sa.func.row_number()
            .over(partition_by=mine.conversation_id, order_by=(mine.joined_at, mine.member_id))
            .label("n"),
            sa.func.count().over(partition_by=mine.conversation_id).label("total"),
        )
        .where(mine.conversation_id.in_(conversation_ids), followed(mine))
        .subquery()
    )
    members = Member.__table__
    for card in db.session.execute(
        sa.select(ranked.c.conversation_id, ranked.c.total, *(members.c[n] for n in CARD_COLUMNS))
        .join(members, members.c.id == ranked.c.member_id)
        .where(ranked.c.n <= MAX_CARDS)
        .order_by(ranked.c.conversation_id, ranked.c.n)
    ):
        counts[card.conversation_id] = card.total
        cards[card.conversation_id].append(card)
    return counts, cards


def _complete(views: list[ConversationView]) -> None:
    """Each view's last message, member count and first member cards (two queries)."""
    last_ids = [v.conversation.last_message_id for v in views if v.conversation.last_message_id]
    last = {
        m.id: m
        for m in db.session.execute(
            sa.select(Message).options(joinedload(Message.sender)).where(Message.id.in_(last_ids))
        ).scalars()
    }
    counts, cards = _cards([v.conversation.id for v in views])
    for view in views:
        conversation = view.conversation
        view.last_message = last.get(conversation.last_message_id or 0)
        view.member_count = counts.get(conversation.id, 0)
        view.members = cards.get(conversation.id, [])
