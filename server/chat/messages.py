"""Messages: ``send_message``, ``update_message`` (edit), ``delete_message``,
``react_to_message``, typing, and history around an anchor.

Who may do what. **Sending** takes following the conversation (``access.load_joined``), not
being muted in the channel's alliance (``access.check_not_muted``), ``consent.check_may_write``
(blocks, and in a one-to-one conversation the other's setting until they accept it), and a
reply's target must be a message of the same conversation whose sender has not blocked the
caller (``blocks.check_reply``): all of it is ``check_send``, the one place the send path
checks permissions; ``do_send`` then stores and delivers. **Editing** is the sender's, under
the same rules of writing; **deleting** is the sender's or an admin's of the channel's
alliance (then logged in its chat audit log), and leaves a tombstone; **reacting** takes the
rules of writing, taking a reaction back does not. **Typing** goes only where one could send,
and only once one has accepted a direct conversation (``consent.shares_activity``).
**History** is every reader's.

Events (``message``, ``message_edited``, ``message_deleted``, ``reaction``) go to the
conversation's room after commit (``rooms.emit_to_conversation``), whether the action came
over REST or Socket.IO. Direct messages push to the other members, channel messages to those
mentioned — not to members active in a client right now, nor to members who blocked the sender.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload
from sqlalchemy.orm.attributes import set_committed_value

from server.chat import consent, moderation, presence
from server.chat.access import check_not_muted, followed, load, load_joined, load_message
from server.chat.kinds import conversation_subject
from server.chat.models import (
    Conversation,
    ConversationMember,
    Message,
    MessageMention,
    MessageReaction,
)
from server.chat.rooms import emit_to_conversation
from server.chat.schemas import MessageSchema
from server.common.fields import MAX_ID
from server.common.reactions import REACTIONS
from server.common.text import excerpt, extract_mentions
from server.common.time import utcnow
from server.common.tx import commit, insert_ignore
from server.errors import Conflict, DomainError, Forbidden, NotFound, register_messages
from server.extensions import db
from server.members import blocks
from server.members import service as members
from server.members.models import Member
from server.notifications import retraction
from server.notifications import service as notifications

register_messages(
    {
        "chat_client_id_reused": {
            "zh-Hans": "这个 client_id 已用于另一个会话中的消息。",
            "zh-Hant": "這個 client_id 已用於另一個對話中的訊息。",
            "en": "This client_id was used for a message in another conversation.",
        },
        "chat_reply_to_invalid": {
            "zh-Hans": "只能回复本会话中的消息。",
            "zh-Hant": "只能回覆本對話中的訊息。",
            "en": "You can reply only to a message of this conversation.",
        },
        "chat_reaction_not_found": {
            "zh-Hans": "没有这种回应。",
            "zh-Hant": "沒有這種回應。",
            "en": "No such reaction.",
        },
    }
)


def message_payload(message: Message) -> dict[str, Any]:
    """A message as the API and the ``message`` event show it."""
    return cast(dict[str, Any], MessageSchema().dump(message))


def _check_may_add(member: Member, conversation: Conversation) -> None:
    """Adding to a conversation (a message, an edit, a reaction, typing): not muted in the
    channel's alliance, nor where ``consent.check_may_write`` refuses."""
    check_not_muted(member, conversation.alliance_id)
    consent.check_may_write(member, conversation)


# --- send --------------------------------------------------------------------------------------


def check_send(
    member: Member, conversation_id: int, reply_to_id: int | None
) -> tuple[Conversation, ConversationMember]:
    """Whether ``member`` may send to the conversation (replying to ``reply_to_id``): 404 if
    they may not read it, 403 if they do not follow it (``chat_not_joined``), are muted or
    refused by consent, or the reply's sender blocked them; 422 ``chat_reply_to_invalid`` if
    the reply's target is no message of this conversation."""
    conversation, membership = load_joined(member, conversation_id)
    _check_may_add(member, conversation)
    if reply_to_id is not None:
        target = db.session.get(Message, reply_to_id)
        if target is None or target.conversation_id != conversation_id:
            raise DomainError("chat_reply_to_invalid", 422)
        blocks.check_reply(member, target.sender_id)
    return conversation, membership


def send_message(member: Member, conversation_id: int, data: Mapping[str, Any]) -> Message:
    """Post a message; its room hears it after commit; direct messages and mentions push.
    Members who blocked the sender are neither mentioned nor pushed, nor replied to."""
    conversation, membership = check_send(member, conversation_id, data.get("reply_to_id"))
    client_id = data.get("client_id")
    if client_id is not None and (sent := _sent_before(member, conversation_id, client_id)):
        return sent  # a retry: the message is there already, and its room has heard it
    return do_send(member, conversation, membership, data)


def do_send(
    member: Member,
    conversation: Conversation,
    membership: ConversationMember,
    data: Mapping[str, Any],
) -> Message:
    """Store a message ``check_send`` allowed (once per ``client_id``), with the sender's read
    state, mentions and pushes, in one transaction; the room hears it after commit."""
    client_id = data.get("client_id")
    message = Message(
        conversation_id=conversation.id,
        sender_id=member.id,
        body=data["body"],
        html=members.render(data["body"]),
        reply_to_id=data.get("reply_to_id"),
        attachments=list(data.get("attachments", [])),
        created_at=utcnow(),
        client_id=client_id,
    )
    try:
        with db.session.begin_nested():
            db.session.add(message)
            db.session.flush()
    except IntegrityError:  # the same send, retried while the first was being stored
        sent = _sent_before(member, conversation.id, client_id) if client_id else None
        if sent is None:
            raise
        return sent
    conversation.last_message_id = message.id
    membership.last_read_id = message.id
    membership.accepted = True  # writing in it accepts it: the others see presence
    _load_sender(message, member)
    mentioned = _mention(member, message)
    _push(member, conversation, message, mentioned)
    emit_to_conversation("message", message_payload(message), conversation.id)
    commit()
    return message


def _mention(member: Member, message: Message) -> list[int]:
    """Members of the conversation named in the text (not the sender, nor members who blocked
    the sender): their mentions are stored."""
    handles = extract_mentions(message.body)[:10]
    if not handles:
        return []
    mentioned = list(
        db.session.execute(
            sa.select(Member.id)
            .join(ConversationMember, ConversationMember.member_id == Member.id)
            .where(
                ConversationMember.conversation_id == message.conversation_id,
                followed(),
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
                {"message_id": message.id, "member_id": m,
                 "conversation_id": message.conversation_id}
                for m in mentioned
            ],
        )  # fmt: skip
    return mentioned


def _push(
    member: Member, conversation: Conversation, message: Message, mentioned: list[int]
) -> None:
    """Busy channels do not push every message: channels push mentions, direct ones push all
    (not to members who blocked the sender); members active in a client right now see it
    there: no push (as Zulip)."""
    push_to = set(mentioned)
    if conversation.kind == "direct":
        push_to = set(
            db.session.execute(
                sa.select(ConversationMember.member_id).where(
                    ConversationMember.conversation_id == conversation.id,
                    ConversationMember.member_id != member.id,
                    ~blocks.blocked(ConversationMember.member_id, member.id),
                )
            ).scalars()
        )
    if push_to:
        online = presence.statuses(push_to)
        push_to = {m for m in push_to if online[m] != "online"}
    if not push_to:
        return
    notifications.notify(
        sorted(push_to),
        "chat.message",
        conversation_subject(conversation.id),
        {
            "conversation_id": conversation.id,
            "message_id": message.id,
            "name": conversation.name or member.display_name,
            "excerpt": excerpt(message.body),
        },
        actor_id=member.id,
    )


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


# --- edit, delete, react, type ---------------------------------------------------------------


def update_message(member: Member, message_id: int, body: str) -> Message:
    """Change one's message (not while muted in the channel's alliance, nor where one may not
    write: ``consent.check_may_write``)."""
    message, access = load_message(member, message_id)
    if message.sender_id != member.id:
        raise Forbidden()
    _check_may_add(member, access.conversation)
    message.body, message.html, message.edited_at = body, members.render(body), utcnow()
    _load_sender(message)
    emit_to_conversation("message_edited", message_payload(message), message.conversation_id)
    commit()
    return message


def delete_message(member: Member, message_id: int) -> None:
    """Its sender, or an admin of the channel's alliance, deletes a message: a tombstone."""
    message, access = load_message(member, message_id)
    if message.sender_id != member.id and not access.manager:
        raise Forbidden()
    if message.sender_id != member.id and access.conversation.alliance_id is not None:
        where = {"conversation_id": message.conversation_id, "sender_id": message.sender_id}
        moderation.log_action(
            access.conversation.alliance_id, member.id, "delete", "message", message.id,
            data=where,
        )  # fmt: skip
    message.body, message.html, message.deleted_at = "", "", utcnow()
    message.attachments = []
    db.session.execute(sa.delete(MessageReaction).where(MessageReaction.message_id == message.id))
    # inbox entries and pushes that quote it stop quoting it
    retraction.forget(
        ["chat.message"],
        subjects=[conversation_subject(message.conversation_id)],
        quoting={"message_id": message.id},
    )
    emit_to_conversation(
        "message_deleted",
        {"id": message.id, "conversation_id": message.conversation_id},
        message.conversation_id,
    )
    commit()


def react_to_message(member: Member, message_id: int, reaction: str, on: bool) -> dict[str, Any]:
    """Add a reaction (not while muted in the channel's alliance, nor where one may not write:
    ``consent.check_may_write``) or take one back."""
    if reaction not in REACTIONS:
        raise NotFound("chat_reaction_not_found")
    message, access = load_message(member, message_id)
    if on:
        _check_may_add(member, access.conversation)
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
    emit_to_conversation("reaction", payload, message.conversation_id)
    commit()
    return payload


def check_may_type(member: Member, conversation_id: int) -> int:
    """The conversation whose room may hear ``member`` typing, or a ``DomainError`` (the socket
    drops the event): typing goes only where one could write — following it, not muted in the
    channel's alliance, ``consent.check_may_write`` — and only once one has accepted a direct
    conversation (before, it would tell whoever opened it that one is online)."""
    conversation, membership = load_joined(member, conversation_id)
    if not consent.shares_activity(conversation, membership):
        raise Forbidden()
    _check_may_add(member, conversation)
    return conversation.id


# --- history ---------------------------------------------------------------------------------


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
