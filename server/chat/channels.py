"""An alliance's channels, and who follows which conversation.

Who may do what: the alliance's owner and admins create channels, put members of the alliance
in them (how a private channel gets its members) and take members out (only the owner takes
out an admin; nobody the owner). Any member of the alliance lists its public channels and
joins them; a private channel is listed to its members only. Anyone stops following a
conversation (a channel or a direct one) with ``leave_conversation``; leaving the alliance
stops following its channels (``on_alliance_left``). Every change moves the members' open
sockets into or out of the conversation's room after commit (``rooms.sync_rooms``), announced
to them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from server.alliances import scope as alliances
from server.chat.access import load
from server.chat.models import Conversation, ConversationMember
from server.chat.rooms import sync_rooms
from server.common.pagination import Page, SortKey, keyset_page
from server.common.tx import changed, commit, insert_ignore
from server.errors import Conflict, DomainError, Forbidden, NotFound, register_messages
from server.extensions import db
from server.members.models import Member

if TYPE_CHECKING:
    pass

register_messages(
    {
        "chat_member_not_found": {
            "zh-Hans": "该用户不在这个频道里。",
            "zh-Hant": "該用戶不在這個頻道裡。",
            "en": "That person is not in this channel.",
        },
        "chat_not_following": {
            "zh-Hans": "你没有关注这个会话。",
            "zh-Hant": "你沒有關注這個對話。",
            "en": "You do not follow this conversation.",
        },
    }
)


def create_channel(member: Member, data: Mapping[str, Any]) -> Conversation:
    """A channel in an alliance (its owner and admins); the creator is its first member."""
    alliance_id = data["alliance_id"]
    if not alliances.is_manager(member.id, alliance_id):
        raise Forbidden()
    conversation = Conversation(
        kind="channel",
        alliance_id=alliance_id,
        name=data["name"],
        private=data.get("private", False),
        created_by_id=member.id,
    )
    db.session.add(conversation)
    db.session.flush()
    db.session.add(ConversationMember(conversation_id=conversation.id, member_id=member.id))
    sync_rooms([member.id], [conversation.id])
    commit()
    return conversation


@dataclass
class ChannelView:
    conversation: Conversation
    joined: bool
    member_count: int


def list_channels(
    member: Member,
    *,
    alliance_id: int | None = None,
    joined: bool | None = None,
    limit: int,
    cursor: str | None,
) -> Page[ChannelView]:
    """The channels of the caller's alliances they may see: public ones (``joined=false``:
    the ones they could join) and private ones they are in; newest first, one query a page."""
    mine = alliances.alliance_ids_of(member.id)
    if alliance_id is not None:
        mine &= {alliance_id}
    following = (
        sa.exists()
        .where(
            ConversationMember.conversation_id == Conversation.id,
            ConversationMember.member_id == member.id,
        )
        .correlate(Conversation)
    )
    others = sa.orm.aliased(ConversationMember)
    size = (
        sa.select(sa.func.count())
        .where(others.conversation_id == Conversation.id)
        .correlate(Conversation)
        .scalar_subquery()
    )
    stmt = sa.select(Conversation, following.label("joined"), size.label("member_count")).where(
        Conversation.kind == "channel",
        Conversation.alliance_id.in_(mine),
        sa.or_(Conversation.private.is_(False), following),
    )
    if joined is not None:
        stmt = stmt.where(following if joined else ~following)
    page = keyset_page(
        stmt, [SortKey(Conversation.id)], name="chat.channels", limit=limit, cursor=cursor,
        key_of=lambda row: [row[0].id], scalars=False,
    )  # fmt: skip
    return Page([ChannelView(c, bool(j), n) for c, j, n in page.items], page.next_cursor)


def join_conversation(member: Member, conversation_id: int) -> Conversation:
    """Follow a public channel of an alliance one belongs to."""
    access = load(member, conversation_id)
    joining = {"conversation_id": conversation_id, "member_id": member.id}
    if access.membership is None and insert_ignore(ConversationMember, joining):
        sync_rooms([member.id], [conversation_id])
        commit()
    return access.conversation


def leave_conversation(member: Member, conversation_id: int) -> None:
    """Stop following a conversation (409 ``chat_not_following`` if one does not)."""
    access = load(member, conversation_id)
    if access.membership is None:
        raise Conflict("chat_not_following")
    db.session.delete(access.membership)
    sync_rooms([member.id], [conversation_id])
    commit()


def _channel_to_manage(member: Member, conversation_id: int) -> tuple[Conversation, str]:
    """The channel and the caller's role in its alliance, if they are its owner or an admin
    (private channels they are not in included); 404 if they may not see it, else 403."""
    conversation = db.session.get(Conversation, conversation_id)
    if conversation is not None and conversation.alliance_id is not None:
        role = alliances.role_in(member.id, conversation.alliance_id)
        if role in alliances.MANAGERS:
            return conversation, role
    load(member, conversation_id)
    raise Forbidden()


def add_members(member: Member, conversation_id: int, member_ids: list[int]) -> None:
    """The alliance's owner and admins put members of the alliance in a channel (how a private
    channel gets its members); their open sockets join its room."""
    conversation, _role = _channel_to_manage(member, conversation_id)
    wanted = sorted(set(member_ids))
    in_alliance = alliances.member_ids_in(conversation.alliance_id, wanted)
    if len(in_alliance) != len(wanted):
        raise DomainError("chat_invalid_members", 422)
    added = [
        m
        for m in wanted
        if insert_ignore(ConversationMember, {"conversation_id": conversation_id, "member_id": m})
    ]
    sync_rooms(added, [conversation_id])
    commit()


def remove_member(member: Member, conversation_id: int, target_id: int) -> None:
    """The alliance's owner and admins take a member out of a channel; only the owner takes
    out an admin, and nobody the owner (as in the alliance itself)."""
    conversation, role = _channel_to_manage(member, conversation_id)
    target_role = alliances.role_in(target_id, conversation.alliance_id or 0)
    if target_id != member.id and target_role in alliances.MANAGERS and role != "owner":
        raise Forbidden()
    if target_role == "owner" and target_id != member.id:
        raise Forbidden()
    removed = changed(
        sa.delete(ConversationMember).where(
            ConversationMember.conversation_id == conversation_id,
            ConversationMember.member_id == target_id,
        )
    )
    if not removed:
        raise NotFound("chat_member_not_found")
    sync_rooms([target_id], [conversation_id])
    commit()


def on_alliance_left(alliance_id: int, member_id: int) -> None:
    """A member left or was removed from an alliance: they stop following its channels, and
    their sockets leave every room of it (also those entered with ``join``, without following)."""
    channels = list(
        db.session.execute(
            sa.select(Conversation.id).where(Conversation.alliance_id == alliance_id)
        ).scalars()
    )
    dropped = list(
        db.session.execute(
            sa.delete(ConversationMember)
            .where(
                ConversationMember.member_id == member_id,
                ConversationMember.conversation_id.in_(channels),
            )
            .returning(ConversationMember.conversation_id)
        ).scalars()
    )
    sync_rooms([member_id], channels, announce=dropped)
