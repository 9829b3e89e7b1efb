"""Forum bodies. Output schemas per audience: members see a post's HTML, its author and
moderators also its Markdown source; moderators see flags, the queue and the audit log."""

from __future__ import annotations

from typing import Any

import marshmallow as ma
from flask import current_app

from server.common import rows
from server.common.fields import Id, Integer, LocalDateTime, Mentions, Name, Tags, Text
from server.common.i18n import pick
from server.common.pagination import PageArgs
from server.common.reactions import REACTIONS
from server.common.text import MAX_TAG_CHARS
from server.forum.models import (
    FLAG_REASONS,
    NOTIFICATION_LEVELS,
    POST_POLICIES,
)
from server.forum.threads import unread_count
from server.members.schemas import MemberCardSchema

MAX_POST_CHARS = 20_000


def _long_enough(body: str) -> None:
    """At least ``FORUM_MIN_POST_CHARS`` characters after trimming (a setting: 4 lets
    「同意，學到了」 through and stops "ok" and "+1")."""
    least = current_app.config["FORUM_MIN_POST_CHARS"]
    if len(body) < least:
        raise ma.ValidationError(f"Shorter than minimum length {least}.")


def _post_body() -> Text:
    return Text(
        required=True,
        min_length=1,
        max_length=MAX_POST_CHARS,
        multiline=True,
        validate=[_long_enough],
        metadata={"description": "At least FORUM_MIN_POST_CHARS characters (GET /meta)"},
    )


TITLE: dict[str, Any] = {"min_length": 4, "max_length": 120}


# --- categories ---------------------------------------------------------------------------


class CategoryFields(ma.Schema):
    name = Name(min_length=1, max_length=60)
    description = Text(max_length=500, multiline=True)
    parent_id = Id(allow_none=True)
    position = Integer(validate=ma.validate.Range(-10_000, 10_000))
    post_policy = ma.fields.String(
        validate=ma.validate.OneOf(POST_POLICIES),
        metadata={"description": "Who may start threads: everyone, organisers, or a group"},
    )
    group_id = Id(allow_none=True)
    read_only = ma.fields.Boolean(metadata={"description": "Only staff post (announcements)"})
    members_only = ma.fields.Boolean(
        metadata={"description": "A group category: only its members see it (default true)"}
    )


class CategoryCreateSchema(CategoryFields):
    name = Name(min_length=1, max_length=60, required=True)


class CategorySchema(ma.Schema):
    id = Integer(attribute="category.id")
    name = ma.fields.String(attribute="category.name")
    description = ma.fields.String(attribute="category.description")
    parent_id = Integer(attribute="category.parent_id", allow_none=True)
    position = Integer(attribute="category.position")
    post_policy = ma.fields.String(attribute="category.post_policy")
    group_id = Integer(attribute="category.group_id", allow_none=True)
    read_only = ma.fields.Boolean(attribute="category.read_only")
    members_only = ma.fields.Boolean(attribute="category.members_only")
    thread_count = Integer()
    can_post = ma.fields.Boolean(metadata={"description": "The caller may start threads here"})
    subcategories = ma.fields.List(ma.fields.Nested(lambda: CategorySchema()))


# --- threads --------------------------------------------------------------------------------


class ThreadCreateSchema(ma.Schema):
    category_id = Id(required=True)
    title = Name(required=True, **TITLE)
    body = _post_body()
    tags = Tags()


class ThreadUpdateSchema(ma.Schema):
    title = Name(**TITLE)
    tags = Tags()


class ThreadListArgs(PageArgs):
    sort = ma.fields.String(
        load_default="latest",
        validate=ma.validate.OneOf(["latest", "created", "top"]),
        metadata={"description": "latest activity (pinned first), newest threads, or top"},
    )
    period = ma.fields.String(
        load_default="month",
        validate=ma.validate.OneOf(["day", "week", "month", "year", "all"]),
        metadata={"description": "For sort=top: threads started within this period"},
    )
    category_id = Id()
    tag = Text(min_length=1, max_length=MAX_TAG_CHARS)
    author_id = Id()
    unanswered = ma.fields.Boolean(load_default=False)
    show = ma.fields.String(
        validate=ma.validate.OneOf(["new", "unread", "bookmarked", "watching"]),
        metadata={"description": "Only threads new to the caller, with unread posts, …"},
    )


class _StateFields(ma.Schema):
    last_read_number = Integer(allow_none=True)
    unread_count = Integer()
    is_new = ma.fields.Boolean()
    bookmarked = ma.fields.Boolean()
    watching = ma.fields.Boolean()
    notification_level = ma.fields.String(attribute="level", allow_none=True)


class ThreadStateSchema(_StateFields):
    thread_id = Integer(attribute="thread.id")


UNTITLED = {"zh-Hans": "（标题已删除）", "zh-Hant": "（標題已刪除）", "en": "(title deleted)"}


def _title(item: Any) -> str:
    """A thread's title; one whose author erased their account has none left."""
    return _shown_title(item.thread.title)


class ThreadItemSchema(_StateFields):
    id = Integer(attribute="thread.id")
    title = ma.fields.Function(_title, metadata={"type": "string"})
    excerpt = ma.fields.String(attribute="thread.excerpt")
    category_id = Integer(attribute="thread.category_id")
    tags = ma.fields.List(ma.fields.String(), attribute="thread.tags")
    author = ma.fields.Nested(MemberCardSchema, attribute="thread.author")
    last_poster = ma.fields.Nested(
        MemberCardSchema, attribute="thread.last_poster", allow_none=True
    )
    reply_count = Integer(attribute="thread.reply_count")
    reaction_count = Integer(attribute="thread.reaction_count")
    view_count = Integer(attribute="thread.view_count")
    post_count = Integer(
        attribute="thread.highest_number", metadata={"description": "Highest post number"}
    )
    pinned = ma.fields.Boolean(attribute="thread.pinned")
    pinned_globally = ma.fields.Boolean(
        attribute="thread.pinned_globally",
        metadata={"description": "Pinned on the front page too, not only in its category"},
    )
    locked = ma.fields.Boolean(attribute="thread.locked")
    hidden = ma.fields.Boolean(attribute="thread.hidden")
    created_at = LocalDateTime(attribute="thread.created_at")
    bumped_at = LocalDateTime(
        attribute="thread.bumped_at", metadata={"description": "Time of the last post"}
    )


def _shown_title(title: str) -> str:
    return title or pick(UNTITLED)


# Plain rows (the list rule, server/common/rows.py): threads.list_threads' columns.
rows.serialiser(
    ThreadItemSchema,
    {
        "title": (("title",), _shown_title),
        "unread_count": (("last_read_number", "level", "highest_number"), unread_count),
        "bookmarked": (("bookmarked_at",), lambda at: at is not None),
        "watching": (("level",), lambda level: level == "watching"),
    },
)


class _Permissions(ma.Schema):
    reply = ma.fields.Boolean()
    edit = ma.fields.Boolean()
    moderate = ma.fields.Boolean()


class _CategoryRef(ma.Schema):
    id = Integer()
    name = ma.fields.String()
    read_only = ma.fields.Boolean()


class ThreadDetailSchema(ThreadItemSchema):
    category = ma.fields.Nested(_CategoryRef)
    first_unread_number = Integer(
        allow_none=True, metadata={"description": "Where to start reading; null if all read"}
    )
    permissions = ma.fields.Nested(_Permissions)


class ReadSchema(ma.Schema):
    number = Id(
        required=True,
        metadata={"description": "The highest post number the member has seen"},
    )


class LevelSchema(ma.Schema):
    level = ma.fields.String(required=True, validate=ma.validate.OneOf(NOTIFICATION_LEVELS))


# --- posts ----------------------------------------------------------------------------------


class PostCreateSchema(ma.Schema):
    body = _post_body()
    reply_to_id = Id(
        allow_none=True,
        metadata={"description": "The post of this thread this one answers"},
    )


class PostEditSchema(ma.Schema):
    body = _post_body()
    reason = Text(max_length=200, allow_none=True)


class PostListArgs(PageArgs):
    from_number = Id(
        load_default=1,
        metadata={"description": "Start at this post number (e.g. first_unread_number)"},
    )


class _ReplyTo(ma.Schema):
    id = Integer()
    number = Integer()
    author = ma.fields.Nested(MemberCardSchema)


class _ReactionCount(ma.Schema):
    reaction = ma.fields.String()
    emoji = ma.fields.String()
    count = Integer()


class PostSchema(ma.Schema):
    id = Integer(attribute="post.id")
    thread_id = Integer(attribute="post.thread_id")
    number = Integer(attribute="post.number")
    author = ma.fields.Nested(MemberCardSchema, attribute="post.author")
    reply_to = ma.fields.Nested(_ReplyTo, allow_none=True)
    html = ma.fields.String(
        allow_none=True, metadata={"description": "Sanitised HTML; null when hidden or deleted"}
    )
    mentions = Mentions()
    body = ma.fields.String(
        metadata={"description": "Markdown source: only for its author and moderators"}
    )
    hidden = ma.fields.Boolean()
    deleted = ma.fields.Boolean()
    version = Integer(attribute="post.version")
    reactions = ma.fields.List(ma.fields.Nested(_ReactionCount))
    my_reactions = ma.fields.List(ma.fields.String())
    can_edit = ma.fields.Boolean()
    can_delete = ma.fields.Boolean()
    created_at = LocalDateTime(attribute="post.created_at")
    edited_at = LocalDateTime(attribute="post.edited_at", allow_none=True)

    @ma.post_dump
    def _source_for_editors(self, data: dict[str, Any], **_kwargs: Any) -> dict[str, Any]:
        if data.get("body") is None:
            data.pop("body", None)
        return data


class RevisionSchema(ma.Schema):
    version = Integer()
    body = ma.fields.String()
    title = ma.fields.String(allow_none=True)
    editor = ma.fields.Nested(MemberCardSchema, allow_none=True)
    reason = ma.fields.String(allow_none=True)
    replaced_at = LocalDateTime(attribute="created_at")


# --- flags and moderation -------------------------------------------------------------------


class FlagCreateSchema(ma.Schema):
    reason = ma.fields.String(required=True, validate=ma.validate.OneOf(FLAG_REASONS))
    note = Text(max_length=500, multiline=True)


class FlagResultSchema(ma.Schema):
    post_id = Integer()
    hidden = ma.fields.Boolean(metadata={"description": "The post is now hidden for review"})


def _reason() -> Text:
    return Text(max_length=500, multiline=True, metadata={"description": "Why (audit log)"})


# marshmallow's own text for a missing field (the error handler translates it)
_REQUIRED = ma.fields.Field.default_error_messages["required"]


def _require_for(data: dict[str, Any], action: str, field: str) -> None:
    """``field`` is required when the body's action is ``action``."""
    if data.get("action") == action and data.get(field) is None:
        raise ma.ValidationError(_REQUIRED, field_name=field)


class PostModerationSchema(ma.Schema):
    action = ma.fields.String(
        required=True, validate=ma.validate.OneOf(["hide", "restore", "delete"])
    )
    reason = _reason()


class ThreadModerationSchema(ma.Schema):
    action = ma.fields.String(
        required=True,
        validate=ma.validate.OneOf(["lock", "unlock", "pin", "unpin", "move", "delete", "restore"]),
    )
    category_id = Id(metadata={"description": "The target category; required for move"})
    scope = ma.fields.String(
        load_default="category",
        validate=ma.validate.OneOf(["category", "site"]),
        metadata={
            "description": "For pin: first on its category's page (the category's moderators), "
            "or on the front page too (site staff only)"
        },
    )
    reason = _reason()

    @ma.validates_schema
    def _move_needs_a_category(self, data: dict[str, Any], **_kwargs: Any) -> None:
        _require_for(data, "move", "category_id")


class MemberModerationSchema(ma.Schema):
    action = ma.fields.String(required=True, validate=ma.validate.OneOf(["silence", "unsilence"]))
    hours = Integer(
        validate=ma.validate.Range(1, 24 * 365),
        metadata={"description": "How long; required for silence"},
    )
    reason = _reason()

    @ma.validates_schema
    def _silence_needs_hours(self, data: dict[str, Any], **_kwargs: Any) -> None:
        _require_for(data, "silence", "hours")


class SilenceSchema(ma.Schema):
    member_id = Integer()
    silenced_until = LocalDateTime(allow_none=True)


class ModeratedPostSchema(ma.Schema):
    id = Integer()
    thread_id = Integer()
    hidden = ma.fields.Method("_hidden", metadata={"type": "boolean"})
    deleted = ma.fields.Method("_deleted", metadata={"type": "boolean"})

    def _hidden(self, post: Any) -> bool:
        return post.hidden_at is not None

    def _deleted(self, post: Any) -> bool:
        return post.deleted_at is not None


class ModeratedThreadSchema(ma.Schema):
    id = Integer()
    category_id = Integer()
    locked = ma.fields.Boolean()
    pinned = ma.fields.Boolean()
    pinned_globally = ma.fields.Boolean()
    deleted = ma.fields.Method("_deleted", metadata={"type": "boolean"})

    def _deleted(self, thread: Any) -> bool:
        return thread.deleted_at is not None


class _FlagSchema(ma.Schema):
    id = Integer()
    member_id = Integer()
    reason = ma.fields.String()
    note = ma.fields.String()
    created_at = LocalDateTime()


class QueueItemSchema(ma.Schema):
    post_id = Integer(attribute="post.id")
    thread_id = Integer(attribute="thread.id")
    thread_title = ma.fields.String(attribute="thread.title")
    number = Integer(attribute="post.number")
    author = ma.fields.Nested(MemberCardSchema, attribute="post.author")
    body = ma.fields.String(attribute="post.body")
    html = ma.fields.String(attribute="post.html")
    hidden = ma.fields.Method("_hidden", metadata={"type": "boolean"})
    flag_count = Integer()
    flags = ma.fields.List(
        ma.fields.Nested(_FlagSchema), metadata={"description": "The first ten open flags"}
    )

    def _hidden(self, item: Any) -> bool:
        return item.post.hidden_at is not None


class AuditArgs(PageArgs):
    target_type = ma.fields.String(validate=ma.validate.OneOf(["post", "thread", "member"]))
    target_id = Id()
    thread_id = Id()
    moderator_id = Id()


class AuditEntrySchema(ma.Schema):
    id = Integer()
    action = ma.fields.String()
    moderator = ma.fields.Nested(
        MemberCardSchema, allow_none=True, metadata={"description": "null: the system (flags)"}
    )
    target_type = ma.fields.String()
    target_id = Integer()
    thread_id = Integer(allow_none=True)
    reason = ma.fields.String()
    data = ma.fields.Dict(keys=ma.fields.String())
    created_at = LocalDateTime()


# --- search ---------------------------------------------------------------------------------


class SearchArgs(PageArgs):
    q = Text(required=True, min_length=1, max_length=200)
    category_id = Id()
    tag = Text(min_length=1, max_length=MAX_TAG_CHARS)
    author_id = Id()


class SearchResultSchema(ma.Schema):
    post_id = Integer(attribute="post.id")
    thread_id = Integer(attribute="thread.id")
    number = Integer(attribute="post.number")
    category_id = Integer(attribute="thread.category_id")
    title = ma.fields.Function(_title, metadata={"type": "string"})
    title_html = ma.fields.String(metadata={"description": "Title, matches in <mark>, escaped"})
    snippet = ma.fields.String(metadata={"description": "Excerpt, matches in <mark>, escaped"})
    author = ma.fields.Nested(MemberCardSchema, attribute="post.author")
    created_at = LocalDateTime(attribute="post.created_at")


REACTION_NAMES = sorted(REACTIONS)
