"""Member schemas, one per audience: a card (anyone signed in, always), the public profile
(members, when the profile is visible), and the member's own view (never shown to others)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import marshmallow as ma

from server.common import rows
from server.common.fields import Handle, Integer, LocalDateTime, Name, Text, WebURL
from server.common.i18n import pick
from server.common.pagination import PageArgs
from server.common.time import is_time_zone
from server.members.models import DIRECT_MESSAGES_FROM, LOCALES, ROLES, VISIBILITIES
from server.members.occupations import MAX_OCCUPATIONS, OCCUPATIONS

DELETED_NAME = {"zh-Hans": "已注销用户", "zh-Hant": "已註銷用戶", "en": "Deleted member"}


def _validate_time_zone(value: str) -> None:
    if not is_time_zone(value):
        raise ma.ValidationError("Not a valid time zone.")


def shown_name(display_name: str, deleted_at: datetime | None) -> str:
    """The name a card shows: an erased member's is "Deleted member" in the reader's language."""
    return pick(DELETED_NAME) if deleted_at is not None else str(display_name)


class MemberCardSchema(ma.Schema):
    """What anyone signed in may see of any member: enough to show an author."""

    id = Integer()
    username = ma.fields.String()
    display_name = ma.fields.Method("_display_name", metadata={"type": "string"})
    avatar_url = ma.fields.String(allow_none=True)

    def _display_name(self, member: Any) -> str:
        if isinstance(member, dict):  # a card already dumped (a hidden profile)
            return str(member["display_name"])
        return shown_name(member.display_name, member.deleted_at)


class PublicMemberSchema(MemberCardSchema):
    """A visible profile, as other members see it: never e-mail, phone or settings."""

    bio = ma.fields.String()
    city = ma.fields.String(allow_none=True)
    occupation_tags = ma.fields.List(ma.fields.String())
    role = ma.fields.String()
    joined_at = LocalDateTime(attribute="created_at")


# Plain rows (the list rule, server/common/rows.py): a card in another list's row, the directory.
CARD_COMPUTED: rows.Computed = {"display_name": (("display_name", "deleted_at"), shown_name)}
rows.serialiser(MemberCardSchema, CARD_COMPUTED)
rows.serialiser(PublicMemberSchema, CARD_COMPUTED)


class MeSchema(PublicMemberSchema):
    """The member's own account."""

    email = ma.fields.Email()
    phone = ma.fields.String(allow_none=True)
    locale = ma.fields.String()
    time_zone = ma.fields.String()
    profile_visibility = ma.fields.String()
    direct_messages_from = ma.fields.String(
        metadata={"description": "Who may open a direct conversation: everyone, alliances, nobody"}
    )
    privacy_policy_version = ma.fields.String(allow_none=True)
    updated_at = LocalDateTime()


class MeUpdateSchema(ma.Schema):
    """Fields a member may change on their own profile; send only those that change."""

    display_name = Name(min_length=1, max_length=50)
    username = Handle()
    avatar_url = WebURL(allow_none=True)
    bio = Text(max_length=500, multiline=True)
    city = Text(max_length=50, allow_none=True)
    occupation_tags = ma.fields.List(
        ma.fields.String(validate=ma.validate.OneOf(sorted(OCCUPATIONS))),
        validate=ma.validate.Length(max=MAX_OCCUPATIONS),
    )
    phone = ma.fields.String(
        allow_none=True,
        validate=ma.validate.Regexp(r"^\+?[0-9 -]{5,20}$", error="Not a valid phone number."),
    )
    locale = ma.fields.String(validate=ma.validate.OneOf(LOCALES))
    time_zone = ma.fields.String(validate=[ma.validate.Length(max=64), _validate_time_zone])
    profile_visibility = ma.fields.String(validate=ma.validate.OneOf(VISIBILITIES))
    direct_messages_from = ma.fields.String(
        validate=ma.validate.OneOf(DIRECT_MESSAGES_FROM),
        metadata={
            "description": "Who may open a direct conversation with me: everyone, alliances "
            "(members sharing an alliance with me) or nobody; checked when one is opened"
        },
    )


class DirectoryArgs(PageArgs):
    q = Text(max_length=50, metadata={"description": "Part of a name or handle (简/繁 alike)"})
    city = Text(max_length=50, metadata={"description": "City, 简/繁 alike"})
    tag = ma.fields.String(
        validate=ma.validate.OneOf(sorted(OCCUPATIONS)), metadata={"description": "Occupation"}
    )


class RoleSchema(ma.Schema):
    role = ma.fields.String(required=True, validate=ma.validate.OneOf(ROLES))


class OccupationSchema(ma.Schema):
    tag = ma.fields.String()
    label = ma.fields.String()


class ConsentSchema(ma.Schema):
    privacy_policy_version = Text(required=True, min_length=1, max_length=32)


class DeleteAccountSchema(ma.Schema):
    password = ma.fields.String(required=True, validate=ma.validate.Length(min=1, max=128))


class BlockSchema(ma.Schema):
    member = ma.fields.Nested(MemberCardSchema, attribute="blocked")
    blocked_at = LocalDateTime(attribute="created_at")


class ExportSchema(ma.Schema):
    generated_at = LocalDateTime()
    member_id = Integer()
    sections = ma.fields.Dict(keys=ma.fields.String())
