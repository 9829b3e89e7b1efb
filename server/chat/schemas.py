"""Chat bodies."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import marshmallow as ma
from webargs.fields import DelimitedList

from server.common import rows
from server.common.fields import Id, Integer, LocalDateTime, Mentions, Name, Text, WebURL
from server.common.i18n import get_locale
from server.common.pagination import PageArgs
from server.common.text import mentions_in
from server.members.schemas import MemberCardSchema, shown_name


class ChannelCreateSchema(ma.Schema):
    alliance_id = Id(required=True)
    name = Name(required=True, min_length=1, max_length=60)
    private = ma.fields.Boolean(load_default=False)


class DirectCreateSchema(ma.Schema):
    member_ids = ma.fields.List(Id(), required=True, validate=ma.validate.Length(1, 8))


MAX_MESSAGE_CHARS = 10_000


class MessageSchema(ma.Schema):
    id = Integer()
    conversation_id = Integer()
    sender = ma.fields.Nested(MemberCardSchema, allow_none=True)
    html = ma.fields.Function(
        lambda m: None if m.deleted_at is not None else m.html,
        allow_none=True,
        metadata={"type": "string", "description": "Sanitised HTML; null when deleted"},
    )
    mentions = Mentions()
    reply_to_id = Integer(allow_none=True)
    attachments = ma.fields.List(ma.fields.String())
    created_at = LocalDateTime()
    edited_at = LocalDateTime(allow_none=True)
    deleted = ma.fields.Function(lambda m: m.deleted_at is not None, metadata={"type": "boolean"})
    client_id = ma.fields.String(
        allow_none=True, metadata={"description": "The sender's own id for it, if it gave one"}
    )


class ConversationSchema(ma.Schema):
    """A conversation as the caller sees it (``conversations.ConversationView``)."""

    id = Integer(attribute="conversation.id")
    kind = ma.fields.String(
        attribute="conversation.kind", validate=ma.validate.OneOf(["direct", "channel"])
    )
    alliance_id = Integer(attribute="conversation.alliance_id", allow_none=True)
    name = ma.fields.Function(
        lambda v: v.conversation.name if v.conversation.kind != "direct" else None,
        allow_none=True,
        metadata={"type": "string", "description": "A channel's name; null for a direct one"},
    )
    display_name = ma.fields.Method(
        "_display_name",
        metadata={
            "type": "string",
            "description": "What to show: a channel's name, or a direct conversation's other "
            "members' names",
        },
    )
    private = ma.fields.Boolean(attribute="conversation.private")
    joined = ma.fields.Boolean(metadata={"description": "The caller follows it"})
    member_count = Integer()
    members = ma.fields.List(
        ma.fields.Nested(MemberCardSchema),
        metadata={
            "description": "Cards of the first members (all of a direct conversation's), at most 20"
        },
    )
    last_read_id = Integer()
    unread_count = Integer()
    mention_count = Integer()
    last_message = ma.fields.Nested(MessageSchema, allow_none=True)

    def _display_name(self, view: Any) -> str:
        conversation = view.conversation
        return display_name(conversation.kind, conversation.name, view.members, view.viewer_id)


def display_name(kind: str, name: str | None, members: Sequence[Any], viewer_id: int) -> str:
    """What a client shows for a conversation: a channel's name, or a direct conversation's
    other members' names (their cards), in the caller's language."""
    if kind != "direct":
        return name or ""
    others = [shown_name(m.display_name, m.deleted_at) for m in members if m.id != viewer_id]
    if not others:  # everyone else has left: the caller's own name
        others = [shown_name(m.display_name, m.deleted_at) for m in members]
    return ("、" if get_locale().startswith("zh") else ", ").join(others)


# Plain rows (the list rule, server/common/rows.py): conversations.list_conversations' items.
rows.serialiser(
    MessageSchema,
    {
        "html": (
            ("html", "deleted_at"),
            lambda html, deleted_at: None if deleted_at is not None else html,
        ),
        "mentions": (("html",), lambda html: mentions_in(html if isinstance(html, str) else None)),
        "deleted": (("deleted_at",), lambda deleted_at: deleted_at is not None),
    },
)
rows.serialiser(
    ConversationSchema,
    {
        "name": (("kind", "name"), lambda kind, name: name if kind != "direct" else None),
        "display_name": (("kind", "name", "members", "viewer_id"), display_name),
    },
)


class ChatMembersAddSchema(ma.Schema):
    member_ids = ma.fields.List(Id(), required=True, validate=ma.validate.Length(1, 100))


class ChatChannelArgs(PageArgs):
    alliance_id = Id(load_default=None)
    joined = ma.fields.Boolean(
        load_default=None,
        metadata={"description": "false: the channels one could join; true: the ones one follows"},
    )


class ChatChannelSchema(ma.Schema):
    id = Integer(attribute="conversation.id")
    alliance_id = Integer(attribute="conversation.alliance_id")
    name = ma.fields.String(attribute="conversation.name")
    private = ma.fields.Boolean(attribute="conversation.private")
    joined = ma.fields.Boolean()
    member_count = Integer()
    last_message_id = Integer(attribute="conversation.last_message_id", allow_none=True)


class CreatedConversationSchema(ma.Schema):
    id = Integer()
    kind = ma.fields.String()
    alliance_id = Integer(allow_none=True)
    name = ma.fields.String()
    private = ma.fields.Boolean()


class MessageSendSchema(ma.Schema):
    body = Text(required=True, min_length=1, max_length=MAX_MESSAGE_CHARS, multiline=True)
    reply_to_id = Id(allow_none=True)
    attachments = ma.fields.List(WebURL(), validate=ma.validate.Length(max=10))
    client_id = ma.fields.String(
        validate=[ma.validate.Length(1, 64), ma.validate.Regexp(r"^[A-Za-z0-9_-]+$")],
        metadata={
            "description": "The client's own id for this message (a UUID): it comes back in the "
            "answer and the `message` event, and a send retried with it is not sent twice"
        },
    )


class MessageEditSchema(ma.Schema):
    body = Text(required=True, min_length=1, max_length=MAX_MESSAGE_CHARS, multiline=True)


class ChatHistoryArgs(ma.Schema):
    anchor = ma.fields.String(
        load_default="newest",
        validate=ma.validate.Regexp(r"^(newest|first_unread|[1-9][0-9]{0,17})$"),
        metadata={"description": "A message id, newest, or first_unread"},
    )
    num_before = Integer(load_default=50, validate=ma.validate.Range(0, 200))
    num_after = Integer(load_default=0, validate=ma.validate.Range(0, 200))


class ChatHistorySchema(ma.Schema):
    messages = ma.fields.List(ma.fields.Nested(MessageSchema))
    found_anchor = ma.fields.Boolean()
    found_oldest = ma.fields.Boolean()
    found_newest = ma.fields.Boolean()


class ChatReadSchema(ma.Schema):
    message_id = Id(required=True)


class ChatReadStateSchema(ma.Schema):
    last_read_id = Integer()


class ChatReceiptSchema(ma.Schema):
    member = ma.fields.Nested(MemberCardSchema)
    last_read_id = Integer(metadata={"description": "Read up to this message id"})


class ChatReactionSchema(ma.Schema):
    message_id = Integer()
    conversation_id = Integer()
    member_id = Integer()
    reaction = ma.fields.String()
    on = ma.fields.Boolean()


class PresenceArgs(ma.Schema):
    member_ids = DelimitedList(Id(), required=True, validate=ma.validate.Length(1, 100))


class PresenceSchema(ma.Schema):
    member_id = Integer()
    status = ma.fields.String(metadata={"description": "online, away or offline"})


class ReportSchema(ma.Schema):
    reason = Text(required=True, min_length=1, max_length=500, multiline=True)


class MuteSchema(ma.Schema):
    member_id = Id(required=True)
    hours = Integer(required=True, validate=ma.validate.Range(1, 24 * 365))
    reason = Text(max_length=500, multiline=True, load_default="")


class ChatLogEntrySchema(ma.Schema):
    id = Integer()
    action = ma.fields.String()
    moderator = ma.fields.Nested(
        MemberCardSchema,
        allow_none=True,
        metadata={"description": "Who acted: an admin, or the member who reported"},
    )
    target_type = ma.fields.String()
    target_id = Integer()
    reason = ma.fields.String()
    data = ma.fields.Dict(keys=ma.fields.String())
    created_at = LocalDateTime()
