"""Threads and posts: start, reply, edit, delete; lists; reading state; reactions, bookmarks
and watching.

Every verb loads the object it touches and asks ``access`` whether the caller may; lists and
pages run a fixed number of queries whatever their size (counters live on the thread, the
caller's own state is one outer join). Notifications are written in the acting transaction by
``notices`` and delivered after commit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from server.common import search
from server.common.pagination import Page, SortKey, keyset_page
from server.common.text import clean_tags, plain_text
from server.common.time import utcnow
from server.common.tx import commit, insert_ignore, write_ahead
from server.errors import DomainError, Forbidden, NotFound, register_messages
from server.extensions import db
from server.forum import access, notices
from server.forum.categories import get_category, visible_to
from server.forum.models import (
    REACTIONS,
    ForumCategory,
    ForumFlag,
    ForumPost,
    ForumPostRevision,
    ForumReaction,
    ForumThread,
    ForumThreadState,
    ForumThreadTag,
)
from server.members import blocks
from server.members import service as members
from server.members.models import Member

SEARCH_KIND = "forum_post"
MAX_TAGS = 5
NEW_THREAD_DAYS = 7

register_messages(
    {
        "forum_thread_not_found": {
            "zh-Hans": "找不到该主题。",
            "zh-Hant": "找不到該主題。",
            "en": "No such thread.",
        },
        "forum_post_not_found": {
            "zh-Hans": "找不到该帖子。",
            "zh-Hant": "找不到該貼文。",
            "en": "No such post.",
        },
        "forum_reaction_not_found": {
            "zh-Hans": "没有这种回应。",
            "zh-Hant": "沒有這種回應。",
            "en": "No such reaction.",
        },
        "forum_reply_to_invalid": {
            "zh-Hans": "只能回复本主题中可见的帖子。",
            "zh-Hant": "只能回覆本主題中可見的貼文。",
            "en": "You can reply only to a visible post of this thread.",
        },
        "forum_thread_has_replies": {
            "zh-Hans": "主题已有他人回复，不能删除；可以编辑或请版主处理。",
            "zh-Hant": "主題已有他人回覆，不能刪除；可以編輯或請版主處理。",
            "en": "Others have replied to this thread; it cannot be deleted by its author.",
        },
        "forum_cannot_react_to_own_post": {
            "zh-Hans": "不能给自己的帖子回应。",
            "zh-Hant": "不能回應自己的貼文。",
            "en": "You cannot react to your own post.",
        },
        "forum_too_many_tags": {
            "zh-Hans": "标签最多 5 个。",
            "zh-Hant": "標籤最多 5 個。",
            "en": "At most 5 tags.",
        },
    }
)


# --- loading, with the caller's right to see ----------------------------------------------


def load_thread(
    member: Member, thread_id: int, *, for_update: bool = False
) -> tuple[ForumThread, ForumCategory]:
    """The thread and its category; 404 if the caller may not see it (deleted, or hidden and
    the caller is neither its author nor a moderator)."""
    stmt = sa.select(ForumThread).where(ForumThread.id == thread_id)
    if for_update:
        stmt = stmt.with_for_update()
    thread = db.session.execute(stmt).scalar_one_or_none()
    if thread is None:
        raise NotFound("forum_thread_not_found")
    category = db.session.get(ForumCategory, thread.category_id)
    assert category is not None
    if not visible_to(member, category):
        raise NotFound("forum_thread_not_found")
    if not thread.visible and not access.can_moderate(member, category):
        if thread.deleted_at is not None or thread.author_id != member.id:
            raise NotFound("forum_thread_not_found")
    return thread, category


def load_post(
    member: Member, post_id: int, *, for_update: bool = False
) -> tuple[ForumPost, ForumThread, ForumCategory]:
    thread_id = db.session.execute(
        sa.select(ForumPost.thread_id).where(ForumPost.id == post_id)
    ).scalar_one_or_none()
    if thread_id is None:
        raise NotFound("forum_post_not_found")
    # Writers lock the thread first, then read the post as it is now: two concurrent writes
    # to one thread's posts take turns instead of both writing back what they read.
    thread, category = load_thread(member, thread_id, for_update=for_update)
    post = db.session.execute(
        sa.select(ForumPost)
        .where(ForumPost.id == post_id)
        .execution_options(populate_existing=for_update)
    ).scalar_one()
    if post.deleted_at is not None and not access.can_moderate(member, category):
        raise NotFound("forum_post_not_found")
    if (
        post.hidden_at is not None
        and post.author_id != member.id
        and not access.can_moderate(member, category)
    ):
        raise NotFound("forum_post_not_found")
    return post, thread, category


def require_visible(member: Member, thread: ForumThread, category: ForumCategory) -> None:
    """Acting inside a thread (reply, react, flag) needs it visible, even to its author."""
    if not thread.visible and not access.can_moderate(member, category):
        raise NotFound("forum_thread_not_found")


def state_of(member_id: int, thread_id: int) -> ForumThreadState:
    """The member's state row for the thread, made on first use."""
    state = db.session.get(ForumThreadState, (member_id, thread_id))
    if state is None:
        insert_ignore(ForumThreadState, {"member_id": member_id, "thread_id": thread_id})
        state = db.session.get(ForumThreadState, (member_id, thread_id))
        assert state is not None
    return state


def watch_by_default(member_id: int, thread_id: int) -> None:
    """Replying or being mentioned makes a member watch, unless they chose a level themselves."""
    state = state_of(member_id, thread_id)
    if not state.level_chosen:
        state.level = "watching"


def refresh_thread(thread: ForumThread) -> None:
    """Recount replies and reactions over visible posts; bump to the last visible post."""
    visible = sa.and_(
        ForumPost.thread_id == thread.id,
        ForumPost.deleted_at.is_(None),
        ForumPost.hidden_at.is_(None),
    )
    replies, reactions = db.session.execute(
        sa.select(
            sa.func.count(ForumPost.id).filter(ForumPost.number > 1),
            sa.func.coalesce(sa.func.sum(ForumPost.reaction_count), 0),
        ).where(visible)
    ).one()
    last = db.session.execute(
        sa.select(ForumPost.created_at, ForumPost.author_id)
        .where(visible)
        .order_by(ForumPost.number.desc())
        .limit(1)
    ).first()
    thread.reply_count, thread.reaction_count = replies, int(reactions)
    thread.score = thread.reply_count + thread.reaction_count
    thread.bumped_at, thread.last_poster_id = last if last else (thread.created_at, None)


def _clean_tags(tags: list[str]) -> list[str]:
    cleaned = clean_tags(tags)
    if len(cleaned) > MAX_TAGS:
        raise DomainError("forum_too_many_tags", 422)
    return cleaned


def _set_tags(thread: ForumThread, tags: list[str]) -> None:
    db.session.execute(sa.delete(ForumThreadTag).where(ForumThreadTag.thread_id == thread.id))
    if tags:
        db.session.execute(
            sa.insert(ForumThreadTag), [{"thread_id": thread.id, "tag": t} for t in tags]
        )
    thread.tags = tags


def _excerpt(body: str, size: int = 200) -> str:
    text = plain_text(body)
    return text if len(text) <= size else text[: size - 1] + "…"


def _index(post: ForumPost, thread: ForumThread) -> None:
    title = thread.title if post.number == 1 else ""
    search.index_document(SEARCH_KIND, post.id, title, plain_text(post.body))


# --- threads --------------------------------------------------------------------------------


def create_thread(member: Member, data: Mapping[str, Any]) -> ThreadDetail:
    """Start a thread: its title, tags and first post; the author watches it."""
    category = get_category(data["category_id"], member)
    access.check_start_thread(member, category)
    tags = _clean_tags(data.get("tags", []))
    now = utcnow()
    thread = ForumThread(
        category_id=category.id,
        author_id=member.id,
        title=data["title"],
        excerpt=_excerpt(data["body"]),
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
    _index(post, thread)
    state = state_of(member.id, thread.id)
    state.level, state.last_read_number = "watching", 1
    notices.new_post(member, thread, post, None)
    commit()
    return thread_detail(member, thread.id, count_view=False)


def update_thread(member: Member, thread_id: int, changes: Mapping[str, Any]) -> ThreadDetail:
    """Change a thread's title or tags (its author within the edit window, or moderators)."""
    thread, category = load_thread(member, thread_id, for_update=True)
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
        _index(first, thread)
    if "tags" in changes:
        _set_tags(thread, _clean_tags(changes["tags"]))
    commit()
    return thread_detail(member, thread.id, count_view=False)


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
    category: ForumCategory | None = None
    first_unread_number: int | None = None
    permissions: dict[str, bool] = field(default_factory=dict)


def _new_since(member: Member) -> datetime:
    return max(member.created_at - timedelta(days=1), utcnow() - timedelta(days=NEW_THREAD_DAYS))


def thread_detail(member: Member, thread_id: int, *, count_view: bool = True) -> ThreadDetail:
    """A thread with the caller's state, where to start reading, and what the caller may do.

    A view is counted once per member per eight hours (as Discourse dedupes views)."""
    thread, category = load_thread(member, thread_id)
    state = db.session.get(ForumThreadState, (member.id, thread.id))
    if count_view:
        now = utcnow()
        if (
            state is None
            or state.last_viewed_at is None
            or (state.last_viewed_at < now - timedelta(hours=8))
        ):
            if write_ahead():  # SQLite: a write after reads starts a write transaction
                thread, category = load_thread(member, thread_id)
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


def list_threads(member: Member, args: Mapping[str, Any]) -> Page[ThreadItem]:
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
    if args.get("category_id") is not None:
        category = get_category(args["category_id"], member)
        children = db.session.execute(
            sa.select(ForumCategory.id).where(ForumCategory.parent_id == category.id)
        ).scalars()
        ids = [category.id, *children]
        stmt = stmt.where(
            ForumThread.category_id == ids[0] if len(ids) == 1 else ForumThread.category_id.in_(ids)
        )
    if args.get("tag"):
        stmt = stmt.where(
            ForumThread.id.in_(
                sa.select(ForumThreadTag.thread_id).where(
                    ForumThreadTag.tag == args["tag"].strip().lower()
                )
            )
        )
        filtered = True
    if args.get("author_id") is not None:
        stmt = stmt.where(ForumThread.author_id == args["author_id"])
        filtered = True
    if args.get("unanswered"):
        stmt = stmt.where(ForumThread.reply_count == 0)
        filtered = True
    show = args.get("show")
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

    sort = args.get("sort", "latest")
    if sort == "top":
        period = args.get("period", "month")
        if period != "all":
            days = {"day": 1, "week": 7, "month": 30, "year": 365}[period]
            stmt = stmt.where(ForumThread.created_at > utcnow() - timedelta(days=days))
        keys = [SortKey(ForumThread.score), SortKey(ForumThread.id)]
    elif sort == "created":
        keys = [SortKey(ForumThread.created_at), SortKey(ForumThread.id)]
    elif filtered:
        keys = [SortKey(ForumThread.bumped_at), SortKey(ForumThread.id)]
    else:  # pinned threads first: site-wide pins on the front page, any pin in a category
        pinned = ForumThread.pinned if args.get("category_id") is not None else None
        keys = [
            SortKey(pinned if pinned is not None else ForumThread.pinned_globally),
            SortKey(ForumThread.bumped_at),
            SortKey(ForumThread.id),
        ]
    shape = "f" if len(keys) == 2 else "c" if pinned is not None else "p"
    name = f"forum.threads.{sort}.{shape}"
    page = keyset_page(
        stmt,
        keys,
        name=name,
        limit=args["limit"],
        cursor=args.get("cursor"),
        scalars=False,
        key_of=lambda row: [getattr(row[0], k.column.key) for k in keys],
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
    thread, category = load_thread(member, thread_id, for_update=True)
    if thread.author_id != member.id:
        from server.forum import moderation

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
        _delete_own(post, forget=False)
    notices.forget_thread(thread.id)  # every entry about the thread and its posts, at once
    commit()


# --- posts ----------------------------------------------------------------------------------


def create_post(member: Member, thread_id: int, data: Mapping[str, Any]) -> PostView:
    """Reply in a thread, optionally to one of its posts; notify, and watch the thread."""
    thread, category = load_thread(member, thread_id, for_update=True)
    require_visible(member, thread, category)
    access.check_reply(member, thread, category)
    reply_to = None
    if data.get("reply_to_id") is not None:
        reply_to = db.session.get(ForumPost, data["reply_to_id"])
        if reply_to is None or reply_to.thread_id != thread.id or not reply_to.visible:
            raise DomainError("forum_reply_to_invalid", 422)
        blocks.check_reply(member, reply_to.author_id)  # its author blocked the caller: 403
    now = utcnow()
    thread.highest_number += 1
    post = ForumPost(
        thread_id=thread.id,
        number=thread.highest_number,
        author_id=member.id,
        reply_to_id=reply_to.id if reply_to else None,
        body=data["body"],
        html=members.render(data["body"]),
        created_at=now,
    )
    db.session.add(post)
    db.session.flush()
    thread.reply_count += 1
    thread.score += 1
    thread.bumped_at, thread.last_poster_id = now, member.id
    _index(post, thread)
    state = state_of(member.id, thread.id)
    state.last_read_number = post.number
    if not state.level_chosen:
        state.level = "watching"
    notices.new_post(member, thread, post, reply_to)
    commit()
    return post_views(member, thread, category, [post])[0]


def edit_post(member: Member, post_id: int, data: Mapping[str, Any]) -> PostView:
    """Change a post's text; the old text is kept as a revision. New mentions notify."""
    post, thread, category = load_post(member, post_id, for_update=True)
    access.check_edit(member, post, thread, category)
    if data["body"] != post.body:
        old_body = post.body
        db.session.add(
            ForumPostRevision(
                post_id=post.id,
                version=post.version,
                body=old_body,
                editor_id=member.id,
                reason=data.get("reason"),
            )
        )
        post.body, post.html = data["body"], members.render(data["body"])
        post.version += 1
        post.edited_at = utcnow()
        if post.number == 1:
            thread.excerpt = _excerpt(post.body)
        _index(post, thread)
        earlier = db.session.execute(
            sa.select(ForumPostRevision.body).where(ForumPostRevision.post_id == post.id)
        ).scalars()
        notices.edited_post(member, thread, post, list(earlier))
    commit()
    return post_views(member, thread, category, [post])[0]


def delete_post(member: Member, post_id: int) -> None:
    """Authors delete their own posts (a first post deletes the thread, see
    ``delete_thread``); moderators delete others' through moderation."""
    post, thread, category = load_post(member, post_id, for_update=True)
    if post.number == 1:
        delete_thread(member, thread.id)
        return
    if post.author_id != member.id:
        if not access.can_delete(member, post, category):
            raise Forbidden()
        from server.forum import moderation

        moderation.moderate_post(member, post_id, {"action": "delete", "reason": ""})
        return
    if post.deleted_at is not None:
        raise NotFound("forum_post_not_found")
    _delete_own(post)
    refresh_thread(thread)
    commit()


def _delete_own(post: ForumPost, *, forget: bool = True) -> None:
    """An author's deletion empties the post, unless it is hidden or flagged: then its text
    stays for the record (deleted for everyone else, out of search) and open flags close as
    ``withdrawn``: there is nothing left for anyone to see."""
    if post.deleted_at is not None:
        return
    open_flags = db.session.execute(
        sa.update(ForumFlag)
        .where(ForumFlag.post_id == post.id, ForumFlag.resolved_at.is_(None))
        .values(resolved_at=utcnow(), resolution="withdrawn")
        .execution_options(synchronize_session=False)
    ).rowcount
    if post.hidden_at is not None or open_flags:
        post.deleted_at = utcnow()
        search.remove_document(SEARCH_KIND, post.id)
    else:
        tombstone(post)
    post.deleted_by_id = post.author_id
    if forget:  # not when its whole thread is forgotten after
        notices.forget_post(post)


def tombstone(post: ForumPost) -> None:
    """Delete what a post said: its text, its revisions, its search entry."""
    post.deleted_at = post.deleted_at or utcnow()
    post.body, post.html = "", ""
    db.session.execute(sa.delete(ForumPostRevision).where(ForumPostRevision.post_id == post.id))
    search.remove_document(SEARCH_KIND, post.id)


def revisions(member: Member, post_id: int) -> list[ForumPostRevision]:
    """Earlier versions of a post, newest first: for its author and moderators only."""
    post, _thread, category = load_post(member, post_id)
    if post.author_id != member.id and not access.can_moderate(member, category):
        raise Forbidden()
    return list(
        db.session.execute(
            sa.select(ForumPostRevision)
            .options(joinedload(ForumPostRevision.editor))
            .where(ForumPostRevision.post_id == post.id)
            .order_by(ForumPostRevision.version.desc())
            .limit(100)
        ).scalars()
    )


@dataclass
class PostView:
    """A post as one caller sees it: content only if visible to them, the Markdown source only
    if they may edit it."""

    post: ForumPost
    html: str | None
    body: str | None
    reply_to: dict[str, Any] | None
    reactions: list[dict[str, Any]]
    my_reactions: list[str]
    can_edit: bool
    can_delete: bool

    @property
    def hidden(self) -> bool:
        return self.post.hidden_at is not None

    @property
    def deleted(self) -> bool:
        return self.post.deleted_at is not None


def post_views(
    member: Member,
    thread: ForumThread,
    category: ForumCategory,
    posts: list[ForumPost],
    reply_rows: Mapping[int, tuple[int, Member]] | None = None,
) -> list[PostView]:
    """Views of ``posts`` for ``member``: two queries for reactions, whatever their number."""
    ids = [p.id for p in posts]
    counts: dict[int, dict[str, int]] = {}
    for post_id, reaction, n in db.session.execute(
        sa.select(ForumReaction.post_id, ForumReaction.reaction, sa.func.count())
        .where(ForumReaction.post_id.in_(ids))
        .group_by(ForumReaction.post_id, ForumReaction.reaction)
    ):
        counts.setdefault(post_id, {})[reaction] = n
    mine: dict[int, list[str]] = {}
    for post_id, reaction in db.session.execute(
        sa.select(ForumReaction.post_id, ForumReaction.reaction).where(
            ForumReaction.post_id.in_(ids), ForumReaction.member_id == member.id
        )
    ):
        mine.setdefault(post_id, []).append(reaction)
    if reply_rows is None:
        reply_rows = _reply_rows(posts)
    _load_authors(posts)
    moderator = access.can_moderate(member, category)
    views = []
    for post in posts:
        own = post.author_id == member.id
        if post.deleted_at is not None:
            shows = moderator
        elif post.hidden_at is not None:
            shows = moderator or own
        else:
            shows = True
        editable = access.can_edit(member, post, thread, category)
        reply = reply_rows.get(post.id)
        views.append(
            PostView(
                post=post,
                html=post.html if shows else None,
                body=post.body if shows and (own or moderator) else None,
                reply_to=(
                    {"id": post.reply_to_id, "number": reply[0], "author": reply[1]}
                    if reply
                    else None
                ),
                reactions=[
                    {"reaction": r, "emoji": REACTIONS[r], "count": n}
                    for r, n in sorted(counts.get(post.id, {}).items(), key=lambda x: -x[1])
                ],
                my_reactions=sorted(mine.get(post.id, [])),
                can_edit=editable,
                can_delete=access.can_delete(member, post, category),
            )
        )
    return views


def _load_authors(posts: list[ForumPost]) -> None:
    """Authors of posts loaded without them (a post just written): one query, if any."""
    missing = {p.author_id for p in posts if "author" not in p.__dict__}
    if not missing:
        return
    authors = {
        m.id: m
        for m in db.session.execute(sa.select(Member).where(Member.id.in_(missing))).scalars()
    }
    for post in posts:
        if "author" not in post.__dict__:
            set_committed_value(post, "author", authors[post.author_id])


def _reply_rows(posts: list[ForumPost]) -> dict[int, tuple[int, Member]]:
    wanted = {p.reply_to_id: p.id for p in posts if p.reply_to_id}
    if not wanted:
        return {}
    rows = db.session.execute(
        sa.select(ForumPost.id, ForumPost.number, Member)
        .join(Member, Member.id == ForumPost.author_id)
        .where(ForumPost.id.in_(list(wanted)))
    ).all()
    by_target = {pid: (number, author) for pid, number, author in rows}
    return {p.id: by_target[p.reply_to_id] for p in posts if p.reply_to_id in by_target}


def list_posts(
    member: Member, thread_id: int, *, from_number: int, limit: int, cursor: str | None
) -> Page[PostView]:
    """A thread's posts in order from ``from_number`` (e.g. the first unread), flat, each with
    what it replies to. Deleted and hidden posts keep their place, without their content."""
    thread, category = load_thread(member, thread_id)
    reply = aliased(ForumPost)
    reply_author = aliased(Member)
    stmt = (
        sa.select(ForumPost, reply.number, reply_author)
        .options(joinedload(ForumPost.author))
        .outerjoin(reply, reply.id == ForumPost.reply_to_id)
        .outerjoin(reply_author, reply_author.id == reply.author_id)
        .where(ForumPost.thread_id == thread.id)
    )
    if not cursor and from_number > 1:
        stmt = stmt.where(ForumPost.number >= from_number)
    page = keyset_page(
        stmt,
        [SortKey(ForumPost.number, descending=False)],
        name=f"forum.posts.{thread.id}",
        limit=limit,
        cursor=cursor,
        scalars=False,
        key_of=lambda row: [row[0].number],
    )
    posts = [row[0] for row in page.items]
    replies = {row[0].id: (row[1], row[2]) for row in page.items if row[1] is not None}
    return Page(post_views(member, thread, category, posts, replies), page.next_cursor)


# --- reading state, bookmarks, watching, reactions ----------------------------------------


def mark_read(member: Member, thread_id: int, number: int) -> ThreadItem:
    """The caller has read up to post ``number``; notifications about posts up to it are read
    too (and their pushes withdrawn from the member's other devices)."""
    thread, _category = load_thread(member, thread_id)
    state = state_of(member.id, thread.id)
    state.last_read_number = max(state.last_read_number, min(number, thread.highest_number))
    notices.read_up_to(member, thread, state.last_read_number)
    commit()
    return ThreadItem(thread, state.last_read_number, state.level, state.bookmarked_at)


def set_bookmark(member: Member, thread_id: int, on: bool) -> ThreadItem:
    thread, _category = load_thread(member, thread_id)
    state = state_of(member.id, thread.id)
    state.bookmarked_at = (state.bookmarked_at or utcnow()) if on else None
    commit()
    return ThreadItem(thread, state.last_read_number, state.level, state.bookmarked_at)


def set_level(member: Member, thread_id: int, level: str) -> ThreadItem:
    """watching (every reply), normal (replies to me and mentions), muted (nothing)."""
    thread, _category = load_thread(member, thread_id)
    state = state_of(member.id, thread.id)
    state.level, state.level_chosen = level, True
    commit()
    return ThreadItem(thread, state.last_read_number, state.level, state.bookmarked_at)


def react(member: Member, post_id: int, reaction: str, on: bool) -> PostView:
    """Add or take back one reaction; idempotent either way."""
    if reaction not in REACTIONS:
        raise NotFound("forum_reaction_not_found")
    post, thread, category = load_post(member, post_id, for_update=True)
    require_visible(member, thread, category)
    if not post.visible:
        raise NotFound("forum_post_not_found")
    if post.author_id == member.id:
        raise DomainError("forum_cannot_react_to_own_post", 422)
    access.check_not_silenced(member)
    if on:
        changed = insert_ignore(
            ForumReaction,
            {
                "post_id": post.id,
                "member_id": member.id,
                "reaction": reaction,
                "created_at": utcnow(),
            },
        )
        delta = 1 if changed else 0
    else:
        delta = -db.session.execute(
            sa.delete(ForumReaction).where(
                ForumReaction.post_id == post.id,
                ForumReaction.member_id == member.id,
                ForumReaction.reaction == reaction,
            )
        ).rowcount
    if delta:  # in SQL, so that the count holds even where rows are not locked (SQLite)
        db.session.execute(
            sa.update(ForumPost)
            .where(ForumPost.id == post.id)
            .values(reaction_count=ForumPost.reaction_count + delta)
        )
        db.session.execute(
            sa.update(ForumThread)
            .where(ForumThread.id == thread.id)
            .values(
                reaction_count=ForumThread.reaction_count + delta,
                score=ForumThread.score + delta,
            )
        )
    commit()
    return post_views(member, thread, category, [post])[0]


def new_post_limits() -> tuple[str, str]:
    """(threads, replies) rate limits for the signed-in member: stricter for new accounts."""
    from flask_jwt_extended import get_current_user, get_jwt_identity, verify_jwt_in_request

    config = current_app.config
    verify_jwt_in_request(optional=True)
    member = get_current_user() if get_jwt_identity() else None
    new = member is not None and member.created_at > utcnow() - timedelta(
        hours=config["FORUM_NEW_ACCOUNT_HOURS"]
    )
    if new:
        return config["FORUM_THREAD_LIMIT_NEW"], config["FORUM_REPLY_LIMIT_NEW"]
    return config["FORUM_THREAD_LIMIT"], config["FORUM_REPLY_LIMIT"]
