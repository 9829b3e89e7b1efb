"""Threads: start, list, read one, retitle or retag, delete.

Anyone who may see a category reads its threads; who may start one is the category's
``post_policy`` (``access.check_start_thread``), who may edit or delete is ``access`` too: the
author within the edit window, or moderators. An author deletes a thread only while nobody
else has replied; a moderator's deletion goes through ``moderation`` (logged, restorable).
Lists run one query whatever their size: counters are columns of the thread (kept by
``state``), the caller's own state (``ThreadItem``) is one outer join.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from server.common.pagination import Page, SortKey, keyset_page
from server.common.text import clean_tags, excerpt
from server.common.time import utcnow
from server.common.tx import commit, write_ahead
from server.errors import DomainError, register_messages
from server.extensions import db
from server.forum import access, moderation, notices
from server.forum.categories import load_category
from server.forum.models import (
    EXCERPT_CHARS,
    ForumCategory,
    ForumPost,
    ForumPostRevision,
    ForumThread,
    ForumThreadState,
    ForumThreadTag,
)
from server.forum.state import delete_by_author, index_post, state_of
from server.members import service as members
from server.members.models import Member

NEW_THREAD_DAYS = 7

register_messages(
    {
        "forum_thread_has_replies": {
            "zh-Hans": "主题已有他人回复，不能删除；可以编辑或请版主处理。",
            "zh-Hant": "主題已有他人回覆，不能刪除；可以編輯或請版主處理。",
            "en": "Others have replied to this thread; it cannot be deleted by its author.",
        },
    }
)


@dataclass
class ThreadItem:
    """A thread as one caller sees it in a list: the thread, and the caller's own state."""

    thread: ForumThread
    last_read_number: int | None = None
    level: str | None = None
    bookmarked_at: datetime | None = None
    is_new: bool = False

    @property
    def unread_count(self) -> int:
        if self.last_read_number is None or self.level == "muted":
            return 0
        return max(0, self.thread.highest_number - self.last_read_number)

    @property
    def bookmarked(self) -> bool:
        return self.bookmarked_at is not None

    @property
    def watching(self) -> bool:
        return self.level == "watching"


@dataclass
class ThreadDetail(ThreadItem):
    """A thread for its own page: its category, where to start reading, what the caller may do."""

    category: ForumCategory | None = None
    first_unread_number: int | None = None
    permissions: dict[str, bool] = field(default_factory=dict)


def _set_tags(thread: ForumThread, tags: list[str]) -> None:
    db.session.execute(sa.delete(ForumThreadTag).where(ForumThreadTag.thread_id == thread.id))
    if tags:
        db.session.execute(
            sa.insert(ForumThreadTag), [{"thread_id": thread.id, "tag": t} for t in tags]
        )
    thread.tags = tags


def create_thread(member: Member, data: Mapping[str, Any]) -> ThreadDetail:
    """Start a thread: its title, tags and first post; the author watches it."""
    category = load_category(data["category_id"], member)
    access.check_start_thread(member, category)
    tags = clean_tags(data.get("tags", []))
    now = utcnow()
    thread = ForumThread(
        category_id=category.id,
        author_id=member.id,
        title=data["title"],
        excerpt=excerpt(data["body"], EXCERPT_CHARS),
        created_at=now,
        bumped_at=now,
        last_poster_id=member.id,
        highest_number=1,
    )
    db.session.add(thread)
    db.session.flush()
    post = ForumPost(
        thread_id=thread.id,
        number=1,
        author_id=member.id,
        body=data["body"],
        html=members.render(data["body"]),
        created_at=now,
    )
    db.session.add(post)
    db.session.flush()
    _set_tags(thread, tags)
    index_post(post, thread)
    state = state_of(member.id, thread.id)
    state.level, state.last_read_number = "watching", 1
    notices.new_post(member, thread, post, None)
    commit()
    return get_thread(member, thread.id, count_view=False)


def update_thread(member: Member, thread_id: int, changes: Mapping[str, Any]) -> ThreadDetail:
    """Change a thread's title or tags (its author within the edit window, or moderators)."""
    thread, category = access.load_thread(member, thread_id, for_update=True)
    first = db.session.execute(
        sa.select(ForumPost).where(ForumPost.thread_id == thread.id, ForumPost.number == 1)
    ).scalar_one()
    access.check_edit(member, first, thread, category)
    if "title" in changes and changes["title"] != thread.title:
        db.session.add(
            ForumPostRevision(
                post_id=first.id,
                version=first.version,
                body=first.body,
                title=thread.title,
                editor_id=member.id,
            )
        )
        first.version += 1
        first.edited_at = utcnow()
        thread.title = changes["title"]
        index_post(first, thread)
    if "tags" in changes:
        _set_tags(thread, clean_tags(changes["tags"]))
    commit()
    return get_thread(member, thread.id, count_view=False)


def _new_since(member: Member) -> datetime:
    return max(member.created_at - timedelta(days=1), utcnow() - timedelta(days=NEW_THREAD_DAYS))


def get_thread(member: Member, thread_id: int, *, count_view: bool = True) -> ThreadDetail:
    """A thread with the caller's state, where to start reading, and what the caller may do.

    A view is counted once per member per eight hours (as Discourse dedupes views)."""
    thread, category = access.load_thread(member, thread_id)
    state = db.session.get(ForumThreadState, (member.id, thread.id))
    if count_view:
        now = utcnow()
        if (
            state is None
            or state.last_viewed_at is None
            or (state.last_viewed_at < now - timedelta(hours=8))
        ):
            if write_ahead():  # SQLite: a write after reads starts a write transaction
                thread, category = access.load_thread(member, thread_id)
            state = state_of(member.id, thread.id)
            state.last_viewed_at = now
            db.session.execute(
                sa.update(ForumThread)
                .where(ForumThread.id == thread.id)
                .values(view_count=ForumThread.view_count + 1)
            )
            commit()  # the UPDATE also refreshed thread.view_count in the session
    last_read = state.last_read_number if state else None
    detail = ThreadDetail(
        thread=thread,
        last_read_number=last_read,
        level=state.level if state else None,
        bookmarked_at=state.bookmarked_at if state else None,
        is_new=state is None and thread.created_at > _new_since(member),
        category=category,
        first_unread_number=(
            (last_read or 0) + 1 if (last_read or 0) < thread.highest_number else None
        ),
        permissions={
            "reply": access.can_reply(member, thread, category),
            "edit": access.can_moderate(member, category)
            or (
                thread.author_id == member.id
                and not thread.locked
                and thread.created_at + access.edit_window() > utcnow()
            ),
            "moderate": access.can_moderate(member, category),
        },
    )
    # the author and last poster as cards (primary-key loads, often in the identity map)
    set_committed_value(thread, "author", db.session.get(Member, thread.author_id))
    set_committed_value(
        thread,
        "last_poster",
        db.session.get(Member, thread.last_poster_id) if thread.last_poster_id else None,
    )
    return detail


def list_threads(
    member: Member,
    *,
    sort: str = "latest",
    period: str = "month",
    category_id: int | None = None,
    tag: str | None = None,
    author_id: int | None = None,
    unanswered: bool = False,
    show: str | None = None,
    limit: int,
    cursor: str | None,
) -> Page[ThreadItem]:
    """Threads by ``sort`` (latest, new threads first, top over a period) and filters.

    One query whatever the page size: counters are columns, the caller's state an outer join,
    authors joined eagerly.
    """
    state = aliased(ForumThreadState)
    stmt = (
        sa.select(ForumThread, state.last_read_number, state.level, state.bookmarked_at)
        .outerjoin(state, sa.and_(state.thread_id == ForumThread.id, state.member_id == member.id))
        .options(joinedload(ForumThread.author), joinedload(ForumThread.last_poster))
        .where(ForumThread.deleted_at.is_(None), ForumThread.hidden.is_(False))
    )
    filtered = False
    hidden = access.hidden_category_ids(member)
    if hidden:
        stmt = stmt.where(ForumThread.category_id.not_in(hidden))
    if category_id is not None:
        category = load_category(category_id, member)
        children = db.session.execute(
            sa.select(ForumCategory.id).where(ForumCategory.parent_id == category.id)
        ).scalars()
        ids = [category.id, *children]
        stmt = stmt.where(
            ForumThread.category_id == ids[0] if len(ids) == 1 else ForumThread.category_id.in_(ids)
        )
    if tag:
        stmt = stmt.where(
            ForumThread.id.in_(
                sa.select(ForumThreadTag.thread_id).where(ForumThreadTag.tag == tag.strip().lower())
            )
        )
        filtered = True
    if author_id is not None:
        stmt = stmt.where(ForumThread.author_id == author_id)
        filtered = True
    if unanswered:
        stmt = stmt.where(ForumThread.reply_count == 0)
        filtered = True
    if show == "new":
        stmt = stmt.where(state.member_id.is_(None), ForumThread.created_at > _new_since(member))
    elif show == "unread":
        stmt = stmt.where(
            state.last_read_number < ForumThread.highest_number, state.level != "muted"
        )
    elif show == "bookmarked":
        stmt = stmt.where(state.bookmarked_at.is_not(None))
    elif show == "watching":
        stmt = stmt.where(state.level == "watching")
    filtered = filtered or show is not None

    if sort == "top":
        if period != "all":
            days = {"day": 1, "week": 7, "month": 30, "year": 365}[period]
            stmt = stmt.where(ForumThread.created_at > utcnow() - timedelta(days=days))
        keys = [SortKey(ForumThread.score), SortKey(ForumThread.id)]
    elif sort == "created":
        keys = [SortKey(ForumThread.created_at), SortKey(ForumThread.id)]
    elif filtered:
        keys = [SortKey(ForumThread.bumped_at), SortKey(ForumThread.id)]
    else:  # pinned threads first: site-wide pins on the front page, any pin in a category
        pinned = ForumThread.pinned if category_id is not None else None
        keys = [
            SortKey(pinned if pinned is not None else ForumThread.pinned_globally),
            SortKey(ForumThread.bumped_at),
            SortKey(ForumThread.id),
        ]
    shape = "f" if len(keys) == 2 else "c" if pinned is not None else "p"
    # one list, several orders: the order and the key's shape are part of the name, so a
    # cursor of one order is refused by another (forum.threads.latest.p, forum.threads.top.f…)
    page = keyset_page(
        stmt,
        keys,
        name=f"forum.threads.{sort}.{shape}",
        limit=limit,
        cursor=cursor,
        scalars=False,
        key_of=lambda row: [getattr(row[0], k.attribute) for k in keys],
    )
    since = _new_since(member)
    items = [
        ThreadItem(
            thread=t,
            last_read_number=read,
            level=level,
            bookmarked_at=marked,
            is_new=level is None and t.created_at > since,
        )
        for t, read, level, marked in page.items
    ]
    return Page(items, page.next_cursor)


def delete_thread(member: Member, thread_id: int) -> None:
    """The author deletes their thread while nobody else has replied; moderators any time."""
    thread, category = access.load_thread(member, thread_id, for_update=True)
    if thread.author_id != member.id:
        moderation.moderate_thread(member, thread_id, {"action": "delete", "reason": ""})
        return
    others = db.session.execute(
        sa.select(ForumPost.id)
        .where(
            ForumPost.thread_id == thread.id,
            ForumPost.author_id != member.id,
            ForumPost.deleted_at.is_(None),
        )
        .limit(1)
    ).first()
    if others:
        raise DomainError("forum_thread_has_replies", 409)
    thread.deleted_at, thread.deleted_by_id = utcnow(), member.id
    for post in db.session.execute(
        sa.select(ForumPost).where(
            ForumPost.thread_id == thread.id,
            ForumPost.author_id == member.id,
            ForumPost.deleted_at.is_(None),  # a moderator's deletion stays theirs
        )
    ).scalars():
        delete_by_author(post)
    notices.forget_thread(thread.id)  # every entry about the thread and its posts, at once
    commit()
