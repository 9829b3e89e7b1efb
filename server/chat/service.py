"""Chat verbs: conversations, messages, history around an anchor, read state, reactions.

Who may do what: a direct conversation belongs to its members; an alliance's public channel is
open to the alliance's members (they join it to follow it), a private channel to its members
only; the alliance's owner and admins create channels and delete any message in them. Events
(``message``, ``message_edited``, ``message_deleted``, ``reaction``, ``read``) go to the
conversation's Socket.IO room after commit, whether the action came over REST or Socket.IO.
Sending, editing, reacting and typing ask ``consent.check_may_write`` (blocks, and the other's
setting until they accept a one-to-one conversation) and, in a channel, that one is not muted.
A member's reading (``read``, receipts) and typing reach the others only once the member has
accepted the direct conversation: until then they would tell a stranger when one is online.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from server.alliances import service as alliances
from server.chat import consent
from server.chat.access import Access, load
from server.chat.access import followed as _followed
from server.chat.models import (
    Conversation,
    ConversationMember,
    Message,
    MessageMention,
    MessageReaction,
)
from server.common.pagination import Page, SortKey, keyset_page
from server.common.text import extract_mentions, plain_text
from server.common.time import utcnow
from server.common.tx import commit, insert_ignore, on_commit
from server.errors import Conflict, DomainError, Forbidden, NotFound, register_messages
from server.extensions import db, socketio
from server.members import blocks
from server.members import service as members
from server.members.models import Member
from server.notifications import retraction
from server.notifications import service as notifications

NAMESPACE = "/chat"
MAX_ID = 2**31 - 1
MAX_DIRECT_MEMBERS = 8
REACTIONS = ("like", "heart", "laugh", "wow", "sad", "thanks")

register_messages(
    {
        "chat_client_id_reused": {
            "zh-Hans": "这个 client_id 已用于另一个会话中的消息。",
            "zh-Hant": "這個 client_id 已用於另一個對話中的訊息。",
            "en": "This client_id was used for a message in another conversation.",
        },
        "chat_message_not_found": {
            "zh-Hans": "找不到该消息。",
            "zh-Hant": "找不到該訊息。",
            "en": "No such message.",
        },
        "chat_member_not_found": {
            "zh-Hans": "该用户不在这个频道里。",
            "zh-Hant": "該用戶不在這個頻道裡。",
            "en": "That person is not in this channel.",
        },
        "chat_reaction_not_found": {
            "zh-Hans": "没有这种回应。",
            "zh-Hant": "沒有這種回應。",
            "en": "No such reaction.",
        },
        "chat_not_joined": {
            "zh-Hans": "请先加入该频道。",
            "zh-Hant": "請先加入該頻道。",
            "en": "Join the channel first.",
        },
        "chat_receipts_unavailable": {
            "zh-Hans": "该会话人数较多，不提供已读回执。",
            "zh-Hant": "該對話人數較多，不提供已讀回條。",
            "en": "Read receipts are kept for small conversations only.",
        },
        "chat_invalid_members": {
            "zh-Hans": "私信对象无效。",
            "zh-Hant": "私訊對象無效。",
            "en": "Those members cannot be messaged.",
        },
    }
)


def room(conversation_id: int) -> str:
    return f"conversation:{conversation_id}"


def member_room(member_id: int) -> str:
    """Every socket of a member is in it: events for the member alone."""
    return f"member:{member_id}"


def _emit(event: str, payload: dict[str, Any], conversation_id: int) -> None:
    on_commit(lambda: socketio.emit(event, payload, to=room(conversation_id), namespace=NAMESPACE))


def _sync_rooms(
    member_ids: list[int], conversation_ids: list[int], *, announce: list[int] | None = None
) -> None:
    """After commit, put the members' open sockets (in every process) into the rooms of those
    of these conversations they follow now, and take them out of the others, so no reconnect
    is needed either way; tell them (``conversation_added`` / ``conversation_removed``) about
    the ``announce`` ones (default: all). Each run reads the memberships as they are then, so
    two changes whose runs come in the other order still leave the rooms right."""
    from server.chat import conversations, presence
    from server.chat.schemas import ConversationSchema

    def run() -> None:
        following = {
            (m, c)
            for m, c in db.session.execute(
                sa.select(ConversationMember.member_id, ConversationMember.conversation_id).where(
                    ConversationMember.member_id.in_(member_ids),
                    ConversationMember.conversation_id.in_(conversation_ids),
                    _followed(),
                )
            )
        }
        server = socketio.server
        for member_id in member_ids:
            sids = presence.sockets_of(member_id)
            added: list[int] = []
            for conversation_id in conversation_ids:
                inside = (member_id, conversation_id) in following
                for sid in sids:
                    if inside:
                        server.enter_room(sid, room(conversation_id), namespace=NAMESPACE)
                    else:
                        server.leave_room(sid, room(conversation_id), namespace=NAMESPACE)
                if announce is None or conversation_id in announce:
                    if inside:
                        added.append(conversation_id)
                    else:
                        socketio.emit(
                            "conversation_removed",
                            {"conversation_id": conversation_id},
                            to=member_room(member_id),
                            namespace=NAMESPACE,
                        )
            if added and sids:  # the conversation as the list shows it, ready to display
                for view in conversations.views_for(member_id, added):
                    socketio.emit(
                        "conversation_added",
                        ConversationSchema().dump(view),
                        to=member_room(member_id),
                        namespace=NAMESPACE,
                    )

    if member_ids and conversation_ids:
        on_commit(run)


def session_room(auth_session_id: str) -> str:
    """The room of the sockets connected with one sign-in session."""
    return f"session:{auth_session_id}"


def disconnect_member(member_id: int) -> None:
    """After commit, close the member's open sockets in every process (an erased account)."""
    from server.chat import presence

    def run() -> None:
        for sid in presence.sockets_of(member_id):
            socketio.server.disconnect(sid, namespace=NAMESPACE)

    on_commit(run)


def sessions_revoked(member_id: int, session_ids: list[str]) -> None:
    """After commit, the sockets of revoked sessions are told why (``session_revoked`` with
    the error shape, code ``token_revoked``: sign in again, do not retry), then the member's
    sockets are closed in every process. A socket's session is not known outside its process,
    so sockets of the member's live sessions close too, untold: they reconnect at once with
    their live tokens, and only those get back in."""
    from server.errors import message_for

    def tell() -> None:
        payload = {
            "code": "token_revoked",
            "status": 401,
            "message": message_for("token_revoked"),
        }
        for session_id in session_ids:
            socketio.emit(
                "session_revoked", payload, to=session_room(session_id), namespace=NAMESPACE
            )

    on_commit(tell)
    disconnect_member(member_id)


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
    _sync_rooms([member_id], channels, announce=dropped)


def presence_of(member: Member, member_ids: list[int]) -> list[dict[str, Any]]:
    """Presence of each of ``member_ids``, in the order asked: theirs if they share an alliance
    with ``member`` or a direct conversation they accepted (``consent.presence_visible``), else
    ``offline`` — never left out, which would tell hidden (or blocked) from offline."""
    from server.chat import presence

    ids = list(dict.fromkeys(member_ids))
    visible = consent.presence_visible(member.id, ids)
    known = presence.statuses([m for m in ids if m in visible])
    return [{"member_id": m, "status": known.get(m, "offline")} for m in ids]


def conversation_ids_of(member_id: int) -> list[int]:
    return list(
        db.session.execute(
            sa.select(ConversationMember.conversation_id).where(
                ConversationMember.member_id == member_id, _followed()
            )
        ).scalars()
    )


@dataclass
class PresenceAudience:
    conversation_ids: list[int]  # their rooms hear the member's presence changes
    skip_sids: list[str]  # open sockets (of members the member blocked) that never do


def presence_audience(member_id: int) -> PresenceAudience:
    """Who hears the member's presence changes: their channels and the direct conversations
    they accepted (``consent.hears_presence``), with at most ``CHAT_PRESENCE_PUSH_LIMIT``
    members (larger ones poll ``GET /chat/presence``; a count that stops at the limit, whatever
    a channel's size) — but not the sockets of members they blocked, as REST shows those
    ``offline`` (``consent.presence_hidden_from``: one query, then their sockets)."""
    from server.chat import presence

    conversation_ids = _presence_rooms(member_id)
    if not conversation_ids:
        return PresenceAudience([], [])
    skip = [s for m in consent.presence_hidden_from(member_id) for s in presence.sockets_of(m)]
    return PresenceAudience(conversation_ids, skip)


def _presence_rooms(member_id: int) -> list[int]:
    others = sa.orm.aliased(ConversationMember)
    too_big = sa.exists(
        sa.select(others.member_id)
        .where(others.conversation_id == ConversationMember.conversation_id)
        .offset(current_app.config["CHAT_PRESENCE_PUSH_LIMIT"])
        .limit(1)
    )
    return list(
        db.session.execute(
            sa.select(ConversationMember.conversation_id).where(
                ConversationMember.member_id == member_id,
                _followed(),
                consent.hears_presence(),
                ~too_big,
            )
        ).scalars()
    )


# --- conversations --------------------------------------------------------------------------


def create_channel(member: Member, data: Mapping[str, Any]) -> Conversation:
    """A channel in an alliance (its owner and admins); the creator is its first member."""
    alliance_id = data["alliance_id"]
    if not alliances.is_admin(member.id, alliance_id):
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
    _sync_rooms([member.id], [conversation.id])
    commit()
    return conversation


@dataclass
class ChannelView:
    conversation: Conversation
    joined: bool
    member_count: int


def channels(
    member: Member, *, alliance_id: int | None, joined: bool | None, limit: int, cursor: str | None
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


def join(member: Member, conversation_id: int) -> Conversation:
    """Follow a public channel of an alliance one belongs to."""
    access = load(member, conversation_id)
    joining = {"conversation_id": conversation_id, "member_id": member.id}
    if access.membership is None and insert_ignore(ConversationMember, joining):
        _sync_rooms([member.id], [conversation_id])
        commit()
    return access.conversation


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
    _sync_rooms(added, [conversation_id])
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
    gone = db.session.execute(
        sa.delete(ConversationMember).where(
            ConversationMember.conversation_id == conversation_id,
            ConversationMember.member_id == target_id,
        )
    ).rowcount
    if not gone:
        raise NotFound("chat_member_not_found")
    _sync_rooms([target_id], [conversation_id])
    commit()


def leave(member: Member, conversation_id: int) -> None:
    access = load(member, conversation_id)
    if access.membership is None:
        raise Conflict("chat_not_joined")
    db.session.delete(access.membership)
    _sync_rooms([member.id], [conversation_id])
    commit()


# --- messages -------------------------------------------------------------------------------


def message_payload(message: Message) -> dict[str, Any]:
    from server.chat.schemas import MessageSchema

    return MessageSchema().dump(message)


def send(member: Member, conversation_id: int, data: Mapping[str, Any]) -> Message:
    """Post a message; its room hears it after commit; direct messages and mentions push.
    Members who blocked the sender are neither mentioned nor pushed, nor replied to."""
    access = load(member, conversation_id)
    if access.membership is None:
        raise Forbidden("chat_not_joined")
    conversation = access.conversation
    consent.check_not_muted(member, conversation.alliance_id)
    consent.check_may_write(member, conversation)
    reply_to = data.get("reply_to_id")
    if reply_to is not None:
        target = db.session.get(Message, reply_to)
        if target is None or target.conversation_id != conversation_id:
            raise DomainError("chat_message_not_found", 422)
        blocks.check_reply(member, target.sender_id)
    client_id = data.get("client_id")
    if client_id is not None and (sent := _sent_before(member, conversation_id, client_id)):
        return sent  # a retry: the message is there already, and its room has heard it
    message = Message(
        conversation_id=conversation_id,
        sender_id=member.id,
        body=data["body"],
        html=members.render(data["body"]),
        reply_to_id=reply_to,
        attachments=list(data.get("attachments", [])),
        created_at=utcnow(),
        client_id=client_id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(message)
            db.session.flush()
    except IntegrityError:  # the same send, retried while the first was being stored
        sent = _sent_before(member, conversation_id, client_id) if client_id else None
        if sent is None:
            raise
        return sent
    conversation.last_message_id = message.id
    access.membership.last_read_id = message.id
    access.membership.accepted = True  # writing in it accepts it: the others see presence
    _load_sender(message, member)
    handles = extract_mentions(data["body"])[:10]
    mentioned: list[int] = []
    if handles:  # members of this conversation named in the text (not the sender)
        mentioned = list(
            db.session.execute(
                sa.select(Member.id)
                .join(ConversationMember, ConversationMember.member_id == Member.id)
                .where(
                    ConversationMember.conversation_id == conversation_id,
                    _followed(),
                    Member.username.in_(handles),
                    Member.deleted_at.is_(None),
                    Member.id != member.id,
                    ~blocks.blocked(Member.id, member.id),
                )
            ).scalars()
        )
        if mentioned:
            db.session.execute(
                sa.insert(MessageMention),
                [
                    {"message_id": message.id, "member_id": m, "conversation_id": conversation_id}
                    for m in mentioned
                ],
            )
    # Busy channels do not push every message: channels push mentions, direct ones push all.
    push_to = set(mentioned)
    if conversation.kind == "direct":
        push_to = set(
            db.session.execute(
                sa.select(ConversationMember.member_id).where(
                    ConversationMember.conversation_id == conversation_id,
                    ConversationMember.member_id != member.id,
                    ~blocks.blocked(ConversationMember.member_id, member.id),
                )
            ).scalars()
        )
    if push_to:  # members active in a client right now see it there: no push (as Zulip)
        from server.chat import presence

        online = presence.statuses(push_to)
        push_to = {m for m in push_to if online[m] != "online"}
    if push_to:
        text = plain_text(data["body"])
        notifications.notify(
            sorted(push_to),
            "chat.message",
            f"chat:{conversation_id}",
            {
                "conversation_id": conversation_id,
                "message_id": message.id,
                "name": conversation.name or member.display_name,
                "excerpt": text if len(text) <= 80 else text[:79] + "…",
            },
            actor_id=member.id,
        )
    _emit("message", message_payload(message), conversation_id)
    commit()
    return message


def _own_message(member: Member, message_id: int) -> tuple[Message, Access]:
    message = db.session.get(Message, message_id)
    if message is None:
        raise NotFound("chat_message_not_found")
    access = load(member, message.conversation_id)
    if message.deleted_at is not None:
        raise NotFound("chat_message_not_found")
    return message, access


def edit(member: Member, message_id: int, body: str) -> Message:
    """Change one's message (not while muted in the channel's alliance, nor where one may not
    write: ``consent.check_may_write``)."""
    message, access = _own_message(member, message_id)
    if message.sender_id != member.id:
        raise Forbidden()
    consent.check_not_muted(member, access.conversation.alliance_id)
    consent.check_may_write(member, access.conversation)
    message.body, message.html, message.edited_at = body, members.render(body), utcnow()
    _load_sender(message)
    _emit("message_edited", message_payload(message), message.conversation_id)
    commit()
    return message


def delete(member: Member, message_id: int) -> None:
    """Its sender, or an admin of the channel's alliance, deletes a message: a tombstone."""
    message, access = _own_message(member, message_id)
    if message.sender_id != member.id and not access.manager:
        raise Forbidden()
    if message.sender_id != member.id and access.conversation.alliance_id is not None:
        from server.chat.moderation import log

        where = {"conversation_id": message.conversation_id, "sender_id": message.sender_id}
        log(access.conversation.alliance_id, member.id, "delete", "message", message.id, data=where)
    message.body, message.html, message.deleted_at = "", "", utcnow()
    message.attachments = []
    db.session.execute(sa.delete(MessageReaction).where(MessageReaction.message_id == message.id))
    # inbox entries and pushes that quote it stop quoting it
    retraction.forget(
        ["chat.message"],
        subjects=[f"chat:{message.conversation_id}"],
        quoting={"message_id": message.id},
    )
    _emit(
        "message_deleted",
        {"id": message.id, "conversation_id": message.conversation_id},
        message.conversation_id,
    )
    commit()


def _sent_before(member: Member, conversation_id: int, client_id: str) -> Message | None:
    """The message this member already sent with this client id (in this conversation; the
    same id in another one is a client's bug: 409)."""
    sent = db.session.execute(
        sa.select(Message).where(Message.sender_id == member.id, Message.client_id == client_id)
    ).scalar_one_or_none()
    if sent is None:
        return None
    if sent.conversation_id != conversation_id:
        raise Conflict("chat_client_id_reused")
    _load_sender(sent, member)
    return sent


def _load_sender(message: Message, sender: Member | None = None) -> None:
    """Attach the sender (given, or one primary-key load) so the schema can dump it."""
    if "sender" not in message.__dict__:
        if sender is None and message.sender_id:
            sender = db.session.get(Member, message.sender_id)
        set_committed_value(message, "sender", sender)


def react(member: Member, message_id: int, reaction: str, on: bool) -> dict[str, Any]:
    """Add a reaction (not while muted in the channel's alliance, nor where one may not write:
    ``consent.check_may_write``) or take one back."""
    if reaction not in REACTIONS:
        raise NotFound("chat_reaction_not_found")
    message, access = _own_message(member, message_id)
    if on:
        consent.check_not_muted(member, access.conversation.alliance_id)
        consent.check_may_write(member, access.conversation)
        insert_ignore(
            MessageReaction,
            {"message_id": message.id, "member_id": member.id, "reaction": reaction,
             "created_at": utcnow()},
        )  # fmt: skip
    else:
        db.session.execute(
            sa.delete(MessageReaction).where(
                MessageReaction.message_id == message.id,
                MessageReaction.member_id == member.id,
                MessageReaction.reaction == reaction,
            )
        )
    payload = {
        "message_id": message.id,
        "conversation_id": message.conversation_id,
        "member_id": member.id,
        "reaction": reaction,
        "on": on,
    }
    _emit("reaction", payload, message.conversation_id)
    commit()
    return payload


def check_may_type(member: Member, conversation_id: int) -> int:
    """The conversation whose room may hear ``member`` typing, or a ``DomainError`` (the socket
    drops the event): typing goes only where one could write — following it, not muted in the
    channel's alliance, ``consent.check_may_write`` — and only once one has accepted a direct
    conversation (before, it would tell whoever opened it that one is online)."""
    access = load(member, conversation_id)
    if access.membership is None:
        raise Forbidden("chat_not_joined")
    if not _shares_activity(access.conversation, access.membership):
        raise Forbidden()
    consent.check_not_muted(member, access.conversation.alliance_id)
    consent.check_may_write(member, access.conversation)
    return access.conversation.id


@dataclass
class History:
    messages: list[Message]
    found_anchor: bool
    found_oldest: bool
    found_newest: bool


def history(
    member: Member, conversation_id: int, *, anchor: str, num_before: int, num_after: int
) -> History:
    """Messages around ``anchor`` (a message id, ``newest`` or ``first_unread``), oldest first,
    as Zulip pages: never by page number."""
    access = load(member, conversation_id)
    if anchor == "newest":
        anchor_id = MAX_ID
    elif anchor == "first_unread":
        read = access.membership.last_read_id if access.membership else 0
        anchor_id = read + 1
    else:
        anchor_id = min(int(anchor), MAX_ID)  # ids are int4: past the last, it is "newest"
    base = (
        sa.select(Message)
        .options(joinedload(Message.sender))
        .where(Message.conversation_id == conversation_id)
    )
    before = list(
        db.session.execute(
            base.where(Message.id < anchor_id).order_by(Message.id.desc()).limit(num_before + 1)
        ).scalars()
    )
    after = list(
        db.session.execute(
            base.where(Message.id >= anchor_id).order_by(Message.id).limit(num_after + 1)
        ).scalars()
    )
    found_oldest = len(before) <= num_before
    found_newest = len(after) <= num_after
    found_anchor = bool(after) and after[0].id == anchor_id
    messages = list(reversed(before[:num_before])) + after[:num_after]
    return History(messages, found_anchor, found_oldest, found_newest)


def _small(conversation_id: int) -> bool:
    """At most ``CHAT_RECEIPTS_LIMIT`` members: their reading is shared with each other."""
    limit = current_app.config["CHAT_RECEIPTS_LIMIT"]
    first = (
        sa.select(ConversationMember.member_id)
        .where(ConversationMember.conversation_id == conversation_id, _followed())
        .limit(limit + 1)
        .subquery()
    )
    return db.session.execute(sa.select(sa.func.count()).select_from(first)).scalar_one() <= limit


def _shares_activity(conversation: Conversation, membership: ConversationMember) -> bool:
    """The member's reading and typing may reach the others: a channel, or a direct
    conversation they accepted (as ``consent.hears_presence``); until then either would tell
    whoever opened it when the member is online."""
    return conversation.kind == "channel" or membership.accepted


def mark_read(member: Member, conversation_id: int, message_id: int) -> int:
    """Read up to ``message_id``; pushes about what is now read are withdrawn everywhere.
    The ``read`` event goes to the conversation if it is small (read receipts) and the member
    has accepted it, else to the member's own devices."""
    access = load(member, conversation_id)
    if access.membership is None:
        raise Conflict("chat_not_joined")
    last = access.conversation.last_message_id or 0
    access.membership.last_read_id = max(access.membership.last_read_id, min(message_id, last))
    if access.membership.last_read_id >= last:
        notifications.mark_read_ids(
            member.id,
            [n for n, _s in notifications.unread_subjects(member.id, f"chat:{conversation_id}")],
        )
    payload = {
        "conversation_id": conversation_id,
        "member_id": member.id,
        "last_read_id": access.membership.last_read_id,
    }
    if _shares_activity(access.conversation, access.membership) and _small(conversation_id):
        _emit("read", payload, conversation_id)
    else:
        on_commit(
            lambda: socketio.emit("read", payload, to=member_room(member.id), namespace=NAMESPACE)
        )
    commit()
    return access.membership.last_read_id


def receipts(member: Member, conversation_id: int) -> list[ConversationMember]:
    """How far each other member of a small conversation has read (409 in a big one); members
    who have not accepted a direct conversation are left out (their reading is their own)."""
    access = load(member, conversation_id)
    if access.membership is None:
        raise Forbidden("chat_not_joined")
    limit = current_app.config["CHAT_RECEIPTS_LIMIT"]
    rows = list(
        db.session.execute(
            sa.select(ConversationMember)
            .options(joinedload(ConversationMember.member))
            .where(
                ConversationMember.conversation_id == conversation_id,
                ConversationMember.member_id != member.id,
                _followed(),
                consent.hears_presence(),
            )
            .order_by(ConversationMember.last_read_id.desc(), ConversationMember.member_id)
            .limit(limit)
        ).scalars()
    )
    if len(rows) >= limit:  # with the caller, more than the limit
        raise Conflict("chat_receipts_unavailable")
    return rows
