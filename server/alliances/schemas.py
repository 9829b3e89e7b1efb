"""Alliance bodies, per audience: the card anyone may see of a listed alliance, the caller's
own relation to it, and the manager's views (requests, invites)."""

from __future__ import annotations

import marshmallow as ma

from server.alliances.models import ROLES, VISIBILITIES
from server.alliances.scope import MANAGERS
from server.common import rows
from server.common.fields import Id, Integer, LocalDateTime, Name, Tags, Text, WebURL
from server.common.pagination import PageArgs
from server.common.text import MAX_TAG_CHARS
from server.members.schemas import MemberCardSchema


class AllianceCreateSchema(ma.Schema):
    name = Name(required=True, min_length=2, max_length=60)
    description = Text(max_length=2000, multiline=True)
    avatar_url = WebURL(allow_none=True)
    city = Text(max_length=50, allow_none=True)
    tags = Tags()
    visibility = ma.fields.String(
        load_default="public",
        validate=ma.validate.OneOf(VISIBILITIES),
        metadata={"description": "public: anyone joins; private: by request; secret: invite"},
    )


class AllianceUpdateSchema(AllianceCreateSchema):
    name = Name(min_length=2, max_length=60)
    visibility = ma.fields.String(validate=ma.validate.OneOf(VISIBILITIES))


class AllianceSchema(ma.Schema):
    id = Integer(attribute="alliance.id")
    name = ma.fields.String(attribute="alliance.name")
    description = ma.fields.String(attribute="alliance.description")
    avatar_url = ma.fields.String(attribute="alliance.avatar_url", allow_none=True)
    city = ma.fields.String(attribute="alliance.city", allow_none=True)
    tags = ma.fields.List(ma.fields.String(), attribute="alliance.tags")
    visibility = ma.fields.String(attribute="alliance.visibility")
    member_count = Integer(attribute="alliance.member_count")
    created_at = LocalDateTime(attribute="alliance.created_at")
    my_role = ma.fields.String(
        allow_none=True, metadata={"description": "owner, admin, member, or null"}
    )
    request_status = ma.fields.String(
        allow_none=True, metadata={"description": "The caller's join request, if any"}
    )
    can_manage = ma.fields.Boolean()


# Plain rows (the list rule, server/common/rows.py): service.list_alliances' columns.
rows.serialiser(AllianceSchema, {"can_manage": (("my_role",), lambda role: role in MANAGERS)})


class AllianceListArgs(PageArgs):
    scope = ma.fields.String(
        load_default="discover", validate=ma.validate.OneOf(["discover", "mine"])
    )
    city = Text(min_length=1, max_length=50)
    tag = Text(min_length=1, max_length=MAX_TAG_CHARS)
    q = Text(min_length=1, max_length=60)


class AllianceJoinSchema(ma.Schema):
    message = Text(max_length=500, multiline=True, load_default="")


class JoinRequestSchema(ma.Schema):
    id = Integer()
    member = ma.fields.Nested(MemberCardSchema)
    message = ma.fields.String()
    status = ma.fields.String()
    created_at = LocalDateTime()


class JoinDecisionSchema(ma.Schema):
    decision = ma.fields.String(required=True, validate=ma.validate.OneOf(["approve", "reject"]))


class AllianceInviteCreateSchema(ma.Schema):
    expires_in_hours = Integer(load_default=7 * 24, validate=ma.validate.Range(1, 30 * 24))
    max_uses = Integer(allow_none=True, validate=ma.validate.Range(1, 10_000))


class AllianceInviteSchema(ma.Schema):
    id = Integer()
    expires_at = LocalDateTime()
    max_uses = Integer(allow_none=True)
    uses = Integer()
    created_at = LocalDateTime()


class NewAllianceInviteSchema(AllianceInviteSchema):
    code = ma.fields.String(metadata={"description": "Shown once, when the link is made"})


class AllianceMemberArgs(PageArgs):
    q = Text(min_length=1, max_length=50)
    role = ma.fields.String(validate=ma.validate.OneOf(ROLES))


class AllianceMemberSchema(ma.Schema):
    member = ma.fields.Nested(MemberCardSchema)
    role = ma.fields.String()
    joined_at = LocalDateTime()


class AllianceRoleSchema(ma.Schema):
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES))


class AllianceBanSchema(ma.Schema):
    member_id = Id(required=True)
    reason = Text(max_length=500, multiline=True, load_default="")
