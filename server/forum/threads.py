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


def unread_count(last_read_number: int | None, level: str | None, highest_number: int) -> int:
    """Posts the member has not read in a thread they opened (none while it is muted)."""
    if last_read_number is None or level == "muted":
        return 0
    return max(0, highest_number - last_read_number)


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
        return unread_count(self.last_read_number, self.level, self.thread.highest_number)

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


# A list's row (the list rule, server/common/rows.py): the thread's columns, the caller's state,
# the author's and the last poster's cards, all in the one select; ThreadItemSchema's shape.
# Built once, with the caller as bound parameters: building it costs more than running it.
THREADS = ForumThread.__table__
_LIST_COLUMNS = (
    "id", "title", "excerpt", "category_id", "tags", "reply_count", "reaction_count",
    "view_count", "highest_number", "pinned", "pinned_globally", "locked", "hidden",
    "created_at", "bumped_at", "score",  # score: the key of sort=top
)  # fmt: skip
_STATE = ForumThreadState.__table__.alias("state")
_AUTHOR, _POSTER = Member.__table__.alias("author"), Member.__table__.alias("last_poster")
_VIEWER: sa.BindParameter[int] = sa.bindparam("viewer")
_NEW_SINCE: sa.BindParameter[datetime] = sa.bindparam("new_since")
_LIST = (
    sa.select(
        *(THREADS.c[name] for name in _LIST_COLUMNS),
        _STATE.c.last_read_number,
        _STATE.c.level,
        _STATE.c.bookmarked_at,
        sa.type_coerce(
            sa.and_(_STATE.c.level.is_(None), THREADS.c.created_at > _NEW_SINCE), sa.Boolean()
        ).label("is_new"),
        *members.card_columns(_AUTHOR, "author"),
        *members.card_columns(_POSTER, "last_poster"),
    )
    .select_from(
        THREADS.join(_AUTHOR, _AUTHOR.c.id == THREADS.c.author_id)
        .outerjoin(_POSTER, _POSTER.c.id == THREADS.c.last_poster_id)
        .outerjoin(
            _STATE, sa.and_(_STATE.c.thread_id == THREADS.c.id, _STATE.c.member_id == _VIEWER)
        )
    )
    .where(THREADS.c.deleted_at.is_(None), THREADS.c.hidden.is_(False))
)


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
) -> Page[Any]:
    """Threads by ``sort`` (latest, new threads first, top over a period) and filters.

    One query whatever the page size: counters are columns, the caller's state an outer join,
    the author's and last poster's cards joined, plain rows (``ThreadItemSchema``'s).
    """
    t, state, stmt = THREADS.c, _STATE, _LIST
    filtered = False
    hidden = access.hidden_category_ids(member)
    if hidden:
        stmt = stmt.where(t.category_id.not_in(hidden))
    if category_id is not None:
        category = load_category(category_id, member)
        children = db.session.execute(
            sa.select(ForumCategory.id).where(ForumCategory.parent_id == category.id)
        ).scalars()
        ids = [category.id, *children]
        stmt = stmt.where(t.category_id == ids[0] if len(ids) == 1 else t.category_id.in_(ids))
    if tag:
        tags = ForumThreadTag.__table__.c
        stmt = stmt.where(
            t.id.in_(sa.select(tags.thread_id).where(tags.tag == tag.strip().lower()))
        )
        filtered = True
    if author_id is not None:
        stmt = stmt.where(t.author_id == author_id)
        filtered = True
    if unanswered:
        stmt = stmt.where(t.reply_count == 0)
        filtered = True
    if show == "new":
        stmt = stmt.where(state.c.member_id.is_(None), t.created_at > _NEW_SINCE)
    elif show == "unread":
        stmt = stmt.where(state.c.last_read_number < t.highest_number, state.c.level != "muted")
    elif show == "bookmarked":
        stmt = stmt.where(state.c.bookmarked_at.is_not(None))
    elif show == "watching":
        stmt = stmt.where(state.c.level == "watching")
    filtered = filtered or show is not None

    if sort == "top":
        if period != "all":
            days = {"day": 1, "week": 7, "month": 30, "year": 365}[period]
            stmt = stmt.where(t.created_at > utcnow() - timedelta(days=days))
        keys = [SortKey(t.score), SortKey(t.id)]
    elif sort == "created":
        keys = [SortKey(t.created_at), SortKey(t.id)]
    elif filtered:
        keys = [SortKey(t.bumped_at), SortKey(t.id)]
    else:  # pinned threads first: site-wide pins on the front page, any pin in a category
        pinned = t.pinned if category_id is not None else None
        keys = [
            SortKey(pinned if pinned is not None else t.pinned_globally),
            SortKey(t.bumped_at),
            SortKey(t.id),
        ]
    shape = "f" if len(keys) == 2 else "c" if pinned is not None else "p"
    # one list, several orders: the order and the key's shape are part of the name, so a
    # cursor of one order is refused by another (forum.threads.latest.p, forum.threads.top.f…)
    return keyset_page(
        stmt,
        keys,
        name=f"forum.threads.{sort}.{shape}",
        limit=limit,
        cursor=cursor,
        rows=True,
        params={"viewer": member.id, "new_since": _new_since(member)},
    )


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
