"""Forum tables: categories, threads, posts and their revisions, per-member thread state,
reactions, flags, silences and the moderation log.

Threads carry counters (replies, reactions, views, the highest post number, the last post) so
that a list page is one query whatever its size; ``state.refresh_thread`` recomputes them
after every change to a thread's posts. ``ForumThreadState`` is one row per member and thread
holding everything that is the caller's own (last read post, watching, bookmark): one join.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.common.reactions import REACTION_NAMES
from server.common.time import UTCDateTime, utcnow
from server.extensions import Model
from server.members.models import Member

POST_POLICIES = ("everyone", "organisers", "group")
EXCERPT_CHARS = 200  # of a thread's first post, as a thread list shows it under the title
NOTIFICATION_LEVELS = ("watching", "normal", "muted")
FLAG_REASONS = ("spam", "offensive", "off_topic", "inappropriate", "other")
HIDDEN_REASONS = ("flags", "moderator")
MODERATION_ACTIONS = (
    "auto_hide",
    "hide",
    "restore",
    "delete",
    "lock",
    "unlock",
    "pin",
    "unpin",
    "move",
    "silence",
    "unsilence",
)


class ForumCategory(Model):
    __tablename__ = "forum_categories"

    id: Mapped[int] = mapped_column(primary_key=True)
    parent_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("forum_categories.id", ondelete="RESTRICT"), index=True
    )
    name: Mapped[str] = mapped_column(sa.String(60))
    description: Mapped[str] = mapped_column(sa.String(500), default="")
    position: Mapped[int] = mapped_column(default=0)
    # Who may start threads: everyone, organisers only, or members of ``group_id`` (the hook
    # alliances fill in; until then only staff pass it).
    post_policy: Mapped[str] = mapped_column(sa.String(16), default="everyone")
    group_id: Mapped[int | None] = mapped_column(sa.Integer)
    # Read-only: members read, only staff start threads or reply (announcements).
    read_only: Mapped[bool] = mapped_column(default=False)
    # A group category is seen by the group's members only, unless this is off (then anyone
    # reads it and only members post).
    members_only: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint(f"post_policy IN {POST_POLICIES!r}", name="post_policy"),
        sa.UniqueConstraint("parent_id", "name"),
    )


class ForumThread(Model):
    __tablename__ = "forum_threads"

    id: Mapped[int] = mapped_column(primary_key=True)
    category_id: Mapped[int] = mapped_column(
        sa.ForeignKey("forum_categories.id", ondelete="RESTRICT")
    )
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="RESTRICT"))
    title: Mapped[str] = mapped_column(sa.String(120))
    tags: Mapped[list[str]] = mapped_column(sa.JSON, default=list)  # a copy of ForumThreadTag
    excerpt: Mapped[str] = mapped_column(sa.String(EXCERPT_CHARS), default="")  # of the first post
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    # Counters over visible posts, kept by state.refresh_thread.
    reply_count: Mapped[int] = mapped_column(default=0)
    reaction_count: Mapped[int] = mapped_column(default=0)
    view_count: Mapped[int] = mapped_column(default=0)
    score: Mapped[int] = mapped_column(default=0)  # replies + reactions: the "top" order
    highest_number: Mapped[int] = mapped_column(default=0)  # every post ever, for unread counts
    bumped_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # last visible post
    last_poster_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="SET NULL")
    )
    # pinned: first on its category's page (alliance admins may pin in their categories);
    # pinned_globally: first on the front page too (staff only)
    pinned: Mapped[bool] = mapped_column(default=False)
    pinned_globally: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    locked: Mapped[bool] = mapped_column(default=False)
    hidden: Mapped[bool] = mapped_column(default=False)  # its first post is hidden
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # who deleted it: its author (for good) or a moderator (restorable)
    deleted_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="SET NULL")
    )

    author: Mapped[Member] = relationship(foreign_keys=[author_id], lazy="raise")
    last_poster: Mapped[Member | None] = relationship(foreign_keys=[last_poster_id], lazy="raise")
    category: Mapped[ForumCategory] = relationship(lazy="raise")

    __table_args__ = (
        sa.Index("ix_forum_threads_latest", "pinned_globally", "bumped_at", "id"),
        sa.Index("ix_forum_threads_category_latest", "category_id", "pinned", "bumped_at", "id"),
        sa.Index("ix_forum_threads_top", "score", "id"),
        sa.Index("ix_forum_threads_author", "author_id", "bumped_at", "id"),
        sa.Index("ix_forum_threads_created", "created_at", "id"),
        sa.Index("ix_forum_threads_bumped", "bumped_at", "id"),
    )

    @property
    def visible(self) -> bool:
        return self.deleted_at is None and not self.hidden


class ForumThreadTag(Model):
    __tablename__ = "forum_thread_tags"

    thread_id: Mapped[int] = mapped_column(
        sa.ForeignKey("forum_threads.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(sa.String(30), primary_key=True)

    __table_args__ = (sa.Index("ix_forum_thread_tags_tag", "tag", "thread_id"),)


class ForumPost(Model):
    __tablename__ = "forum_posts"

    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(sa.ForeignKey("forum_threads.id", ondelete="CASCADE"))
    number: Mapped[int] = mapped_column()  # 1 is the thread's first post
    author_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="RESTRICT"))
    reply_to_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("forum_posts.id", ondelete="SET NULL")
    )
    body: Mapped[str] = mapped_column(sa.Text)  # Markdown as written
    html: Mapped[str] = mapped_column(sa.Text)  # rendered and sanitised once, on write
    version: Mapped[int] = mapped_column(default=1)
    reaction_count: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_reason: Mapped[str | None] = mapped_column(sa.String(16))
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    deleted_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="SET NULL")
    )

    author: Mapped[Member] = relationship(foreign_keys=[author_id], lazy="raise")
    thread: Mapped[ForumThread] = relationship(lazy="raise")

    __table_args__ = (
        sa.UniqueConstraint("thread_id", "number"),
        sa.Index("ix_forum_posts_author", "author_id", "id"),
        sa.Index("ix_forum_posts_reply_to", "reply_to_id"),
    )

    @property
    def visible(self) -> bool:
        return self.deleted_at is None and self.hidden_at is None


class ForumPostRevision(Model):
    """What a post (and, for a first post, its thread's title) said before an edit."""

    __tablename__ = "forum_post_revisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(
        sa.ForeignKey("forum_posts.id", ondelete="CASCADE"), index=True
    )
    version: Mapped[int] = mapped_column()  # the version this text was
    body: Mapped[str] = mapped_column(sa.Text)
    title: Mapped[str | None] = mapped_column(sa.String(120))
    editor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"))
    reason: Mapped[str | None] = mapped_column(sa.String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)  # when replaced

    editor: Mapped[Member | None] = relationship(lazy="raise")


class ForumThreadState(Model):
    """One member's relation to one thread: what they read, whether they watch or bookmarked."""

    __tablename__ = "forum_thread_states"

    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    thread_id: Mapped[int] = mapped_column(
        sa.ForeignKey("forum_threads.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    last_read_number: Mapped[int] = mapped_column(default=0)
    level: Mapped[str] = mapped_column(sa.String(16), default="normal")
    level_chosen: Mapped[bool] = mapped_column(default=False)  # set by the member: keep it
    bookmarked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_viewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.CheckConstraint(f"level IN {NOTIFICATION_LEVELS!r}", name="level"),
        sa.Index("ix_forum_thread_states_bookmarks", "member_id", "bookmarked_at"),
    )


class ForumReaction(Model):
    __tablename__ = "forum_reactions"

    post_id: Mapped[int] = mapped_column(
        sa.ForeignKey("forum_posts.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    reaction: Mapped[str] = mapped_column(sa.String(16), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.CheckConstraint(f"reaction IN {REACTION_NAMES!r}", name="reaction"),)


class ForumFlag(Model):
    """A member's report of a post; open until a moderator hides (upheld) or restores it."""

    __tablename__ = "forum_flags"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(sa.ForeignKey("forum_posts.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    reason: Mapped[str] = mapped_column(sa.String(16))
    note: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolution: Mapped[str | None] = mapped_column(sa.String(16))  # upheld | rejected

    __table_args__ = (
        sa.UniqueConstraint("post_id", "member_id"),
        sa.CheckConstraint(f"reason IN {FLAG_REASONS!r}", name="reason"),
    )


class ForumSilence(Model):
    """A member may read but not post until ``until`` (or until lifted)."""

    __tablename__ = "forum_silences"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    until: Mapped[datetime] = mapped_column(UTCDateTime)
    reason: Mapped[str] = mapped_column(sa.String(500))
    moderator_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lifted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class ForumModerationAction(Model):
    """The audit log: who did what to which post, thread or member, and why.

    ``moderator_id`` is null for what the system did on members' flags (``auto_hide``).
    """

    __tablename__ = "forum_moderation_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    moderator_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="SET NULL")
    )
    action: Mapped[str] = mapped_column(sa.String(16))
    target_type: Mapped[str] = mapped_column(sa.String(8))  # post | thread | member
    target_id: Mapped[int] = mapped_column()
    thread_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("forum_threads.id", ondelete="SET NULL")
    )
    reason: Mapped[str] = mapped_column(sa.String(500), default="")
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    moderator: Mapped[Member | None] = relationship(lazy="raise")

    __table_args__ = (
        sa.CheckConstraint(f"action IN {MODERATION_ACTIONS!r}", name="action"),
        sa.Index("ix_forum_moderation_log_target", "target_type", "target_id"),
        sa.Index("ix_forum_moderation_log_thread", "thread_id"),
    )
