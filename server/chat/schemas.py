"""Chat bodies."""

from __future__ import annotations

import marshmallow as ma
from webargs.fields import DelimitedList

from server.common.fields import LocalDateTime, Text, WebURL
from server.common.pagination import PageArgs
from server.members.schemas import MemberCardSchema

_ID = ma.validate.Range(1, 2**31 - 1)


class ChannelCreateSchema(ma.Schema):
    alliance_id = ma.fields.Integer(required=True, validate=_ID)
    name = Text(required=True, min_length=1, max_length=60)
    private = ma.fields.Boolean(load_default=False)


class DirectCreateSchema(ma.Schema):
    member_ids = ma.fields.List(
        ma.fields.Integer(validate=_ID), required=True, validate=ma.validate.Length(1, 8)
    )


class MessageSchema(ma.Schema):
    id = ma.fields.Integer()
    conversation_id = ma.fields.Integer()
    sender = ma.fields.Nested(MemberCardSchema, allow_none=True)
    html = ma.fields.String()
    reply_to_id = ma.fields.Integer(allow_none=True)
    attachments = ma.fields.List(ma.fields.String())
    created_at = LocalDateTime()
    edited_at = LocalDateTime(allow_none=True)
    deleted = ma.fields.Function(lambda m: m.deleted_at is not None, metadata={"type": "boolean"})


class ConversationSchema(ma.Schema):
    id = ma.fields.Integer(attribute="conversation.id")
    kind = ma.fields.String(attribute="conversation.kind")
    alliance_id = ma.fields.Integer(attribute="conversation.alliance_id", allow_none=True)
    name = ma.fields.String(attribute="conversation.name")
    private = ma.fields.Boolean(attribute="conversation.private")
    last_read_id = ma.fields.Integer()
    unread_count = ma.fields.Integer()
    mention_count = ma.fields.Integer()
    last_message = ma.fields.Nested(MessageSchema, allow_none=True)


class ChatMembersAddSchema(ma.Schema):
    member_ids = ma.fields.List(
        ma.fields.Integer(validate=_ID), required=True, validate=ma.validate.Length(1, 100)
    )


class ChatChannelArgs(PageArgs):
    alliance_id = ma.fields.Integer(validate=_ID, load_default=None)
    joined = ma.fields.Boolean(
        load_default=None,
        metadata={"description": "false: the channels one could join; true: the ones one follows"},
    )


class ChatChannelSchema(ma.Schema):
    id = ma.fields.Integer(attribute="conversation.id")
    alliance_id = ma.fields.Integer(attribute="conversation.alliance_id")
    name = ma.fields.String(attribute="conversation.name")
    private = ma.fields.Boolean(attribute="conversation.private")
    joined = ma.fields.Boolean()
    member_count = ma.fields.Integer()
    last_message_id = ma.fields.Integer(attribute="conversation.last_message_id", allow_none=True)


class CreatedConversationSchema(ma.Schema):
    id = ma.fields.Integer()
    kind = ma.fields.String()
    alliance_id = ma.fields.Integer(allow_none=True)
    name = ma.fields.String()
    private = ma.fields.Boolean()


class MessageSendSchema(ma.Schema):
    body = Text(required=True, min_length=1, max_length=10_000, multiline=True)
    reply_to_id = ma.fields.Integer(allow_none=True, validate=_ID)
    attachments = ma.fields.List(WebURL(), validate=ma.validate.Length(max=10))


class MessageEditSchema(ma.Schema):
    body = Text(required=True, min_length=1, max_length=10_000, multiline=True)


class ChatHistoryArgs(ma.Schema):
    anchor = ma.fields.String(
        load_default="newest",
        validate=ma.validate.Regexp(r"^(newest|first_unread|[1-9][0-9]{0,17})$"),
        metadata={"description": "A message id, newest, or first_unread"},
    )
    num_before = ma.fields.Integer(load_default=50, validate=ma.validate.Range(0, 200))
    num_after = ma.fields.Integer(load_default=0, validate=ma.validate.Range(0, 200))


class ChatHistorySchema(ma.Schema):
    messages = ma.fields.List(ma.fields.Nested(MessageSchema))
    found_anchor = ma.fields.Boolean()
    found_oldest = ma.fields.Boolean()
    found_newest = ma.fields.Boolean()


class ChatReadSchema(ma.Schema):
    message_id = ma.fields.Integer(required=True, validate=_ID)


class ChatReadStateSchema(ma.Schema):
    last_read_id = ma.fields.Integer()


class ChatReceiptSchema(ma.Schema):
    member = ma.fields.Nested(MemberCardSchema)
    last_read_id = ma.fields.Integer(metadata={"description": "Read up to this message id"})


class ChatReactionSchema(ma.Schema):
    message_id = ma.fields.Integer()
    conversation_id = ma.fields.Integer()
    member_id = ma.fields.Integer()
    reaction = ma.fields.String()
    on = ma.fields.Boolean()


class PresenceArgs(ma.Schema):
    member_ids = DelimitedList(
        ma.fields.Integer(validate=_ID), required=True, validate=ma.validate.Length(1, 100)
    )


class PresenceSchema(ma.Schema):
    member_id = ma.fields.Integer()
    status = ma.fields.String(metadata={"description": "online, away or offline"})


class ReportSchema(ma.Schema):
    reason = Text(required=True, min_length=1, max_length=500, multiline=True)


class MuteSchema(ma.Schema):
    member_id = ma.fields.Integer(required=True, validate=_ID)
    hours = ma.fields.Integer(required=True, validate=ma.validate.Range(1, 24 * 365))
    reason = Text(max_length=500, multiline=True, load_default="")


class ChatLogEntrySchema(ma.Schema):
    id = ma.fields.Integer()
    action = ma.fields.String()
    actor = ma.fields.Nested(MemberCardSchema, allow_none=True)
    target_type = ma.fields.String()
    target_id = ma.fields.Integer()
    reason = ma.fields.String()
    data = ma.fields.Dict(keys=ma.fields.String())
    created_at = LocalDateTime()
