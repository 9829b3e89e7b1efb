"""Notification, preference and device bodies."""

from __future__ import annotations

import re
from typing import Any

import marshmallow as ma
from flask import g

from server.common import rows
from server.common.fields import Integer, LocalDateTime, Name, Text
from server.common.i18n import get_locale, pick
from server.common.pagination import PageArgs
from server.members.models import LOCALES
from server.members.schemas import MemberCardSchema
from server.notifications.kinds import KINDS, render
from server.notifications.models import PLATFORMS

_CLOCK = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")


class NotificationSchema(ma.Schema):
    id = Integer()
    kind = ma.fields.String()
    title = ma.fields.Method("_title", metadata={"type": "string"})
    body = ma.fields.Method("_body", metadata={"type": "string"})
    count = Integer(metadata={"description": "Events collapsed into this entry"})
    data = ma.fields.Dict(
        keys=ma.fields.String(),
        metadata={
            "description": (
                "What the entry is about, per kind: ids for the deep link (such as `thread_id`, "
                "`post_id`) and the words it quotes (such as `title`, `excerpt`). A key keeps "
                "its type in every entry of a kind. Quoted content that is no longer available "
                "(hidden, deleted, erased) is an empty string, its key listed in `gone` (an "
                "array of strings, present only then); `title` and `body` say so in the "
                "reader's language."
            )
        },
    )
    actor = ma.fields.Nested(MemberCardSchema, allow_none=True)
    read = ma.fields.Method("_read", metadata={"type": "boolean"})
    created_at = LocalDateTime()
    updated_at = LocalDateTime()

    def _text(self, n: Any) -> tuple[str, str]:
        cache: dict[int, tuple[str, str]] = g.setdefault("rendered_notifications", {})
        if n.id not in cache:
            actor = n.actor.display_name if n.actor and n.actor.deleted_at is None else ""
            cache[n.id] = render(n.kind, n.data, n.count, actor, get_locale())
        return cache[n.id]

    def _title(self, n: Any) -> str:
        return self._text(n)[0]

    def _body(self, n: Any) -> str:
        return self._text(n)[1]

    def _read(self, n: Any) -> bool:
        return n.read_at is not None


def _rendered(
    kind: str, data: dict[str, Any], count: int, actor: str | None, actor_deleted: Any
) -> tuple[str, str]:
    shown = actor if actor is not None and actor_deleted is None else ""
    return render(kind, data, count, shown, get_locale())


# Plain rows (the list rule, server/common/rows.py): inbox.list_notifications' columns.
rows.serialiser(
    NotificationSchema,
    {
        ("title", "body"): (
            ("kind", "data", "count", "actor__display_name", "actor__deleted_at"),
            _rendered,
        ),
        "read": (("read_at",), lambda read_at: read_at is not None),
    },
)


class InboxArgs(PageArgs):
    unread = ma.fields.Boolean(load_default=False, metadata={"description": "Only unread"})


class UnreadCountSchema(ma.Schema):
    unread = Integer(required=True)


class MarkedSchema(ma.Schema):
    marked = Integer(required=True)


def _clock(value: str) -> None:
    if not _CLOCK.match(value):
        raise ma.ValidationError("Use HH:MM, 24-hour.")


class QuietHoursSchema(ma.Schema):
    start = ma.fields.String(required=True, validate=_clock, metadata={"example": "22:00"})
    end = ma.fields.String(required=True, validate=_clock, metadata={"example": "08:00"})


class KindPreferenceSchema(ma.Schema):
    kind = ma.fields.String(
        required=True,
        validate=[ma.validate.Length(max=64), lambda k: k in KINDS or _unknown_kind()],
        metadata={"description": "A kind listed by GET /notifications/preferences"},
    )
    label = ma.fields.Method("_label", dump_only=True, metadata={"type": "string"})
    in_app = ma.fields.Boolean()
    push = ma.fields.Boolean()

    def _label(self, item: Any) -> str:
        return pick(item["label"])


def _unknown_kind() -> bool:
    raise ma.ValidationError("Unknown notification kind.")


class PreferencesSchema(ma.Schema):
    kinds = ma.fields.List(
        ma.fields.Nested(KindPreferenceSchema), validate=ma.validate.Length(max=100)
    )
    quiet_hours = ma.fields.Nested(QuietHoursSchema, allow_none=True)


class DeviceSchema(ma.Schema):
    token = ma.fields.String(required=True, validate=ma.validate.Length(min=8, max=512))
    platform = ma.fields.String(required=True, validate=ma.validate.OneOf(PLATFORMS))
    app_version = Text(max_length=32, allow_none=True)
    locale = ma.fields.String(validate=ma.validate.OneOf(LOCALES), allow_none=True)
    created_at = LocalDateTime(dump_only=True)
    last_seen_at = LocalDateTime(dump_only=True)


# FCM refuses messages over 4,096 bytes; title and body must leave room for the rest.
MAX_PUSH_TEXT_BYTES = 3000


class AnnouncementSchema(ma.Schema):
    id = Integer(dump_only=True)
    title = Name(required=True, min_length=1, max_length=100)
    body = Text(required=True, min_length=1, max_length=1000, multiline=True)
    created_at = LocalDateTime(dump_only=True)

    @ma.validates_schema
    def _fits_a_push(self, data: dict[str, Any], **_kwargs: Any) -> None:
        size = len(data.get("title", "").encode()) + len(data.get("body", "").encode())
        if size > MAX_PUSH_TEXT_BYTES:
            raise ma.ValidationError(
                f"Longer than maximum length {MAX_PUSH_TEXT_BYTES}.", field_name="body"
            )
