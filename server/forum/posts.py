"""Posts: reply, edit (keeping revisions), delete; a thread's posts in order; reactions.

Who may do each is ``access``'s: a reply needs the thread visible and open to the caller
(``check_reply``: not read-only, not locked, the group's for a group category, not silenced),
and a reply to a post needs that post visible in the same thread and its author not blocking
the caller. Authors edit within the edit window, moderators always; both are kept as
revisions, shown to the author and moderators only. Authors delete their own posts (a first
post deletes its thread, see ``threads.delete_thread``); moderators delete others' through
``moderation``. Reactions are for others' visible posts, one of each kind per member.

A ``PostView`` is a post as one caller sees it: content only if visible to them, the Markdown
source only if they may edit it. A page of posts costs the same queries whatever its size.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased, joinedload
from sqlalchemy.orm.attributes import set_committed_value

from server.common.pagination import Page, SortKey, keyset_page
from server.common.reactions import REACTIONS
from server.common.text import excerpt
from server.common.time import utcnow
from server.common.tx import changed, commit, insert_ignore
from server.errors import DomainError, Forbidden, NotFound, register_messages
from server.extensions import db
from server.forum import access, moderation, notices
from server.forum.models import (
    EXCERPT_CHARS,
    ForumCategory,
    ForumPost,
    ForumPostRevision,
    ForumReaction,
    ForumThread,
)
from server.forum.state import (
    delete_by_author,
    index_post,
    refresh_thread,
    state_of,
)
from server.forum.threads import delete_thread
from server.members import blocks
from server.members import service as members
from server.members.models import Member

register_messages(
    {
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
        "forum_cannot_react_to_own_post": {
            "zh-Hans": "不能给自己的帖子回应。",
            "zh-Hant": "不能回應自己的貼文。",
            "en": "You cannot react to your own post.",
        },
    }
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
    thread, category = access.load_thread(member, thread_id)
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
        name="forum.posts",
        limit=limit,
        cursor=cursor,
        scalars=False,
        key_of=lambda row: [row[0].number],
    )
    posts = [row[0] for row in page.items]
    replies = {row[0].id: (row[1], row[2]) for row in page.items if row[1] is not None}
    return Page(post_views(member, thread, category, posts, replies), page.next_cursor)


def create_post(member: Member, thread_id: int, data: Mapping[str, Any]) -> PostView:
    """Reply in a thread, optionally to one of its posts; notify, and watch the thread."""
    thread, category = access.load_thread(member, thread_id, for_update=True)
    access.require_visible(member, thread, category)
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
    index_post(post, thread)
    state = state_of(member.id, thread.id)
    state.last_read_number = post.number
    if not state.level_chosen:
        state.level = "watching"
    notices.new_post(member, thread, post, reply_to)
    commit()
    return post_views(member, thread, category, [post])[0]


def update_post(member: Member, post_id: int, data: Mapping[str, Any]) -> PostView:
    """Change a post's text; the old text is kept as a revision. New mentions notify."""
    post, thread, category = access.load_post(member, post_id, for_update=True)
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
            thread.excerpt = excerpt(post.body, EXCERPT_CHARS)
        index_post(post, thread)
        earlier = db.session.execute(
            sa.select(ForumPostRevision.body).where(ForumPostRevision.post_id == post.id)
        ).scalars()
        notices.edited_post(member, thread, post, list(earlier))
    commit()
    return post_views(member, thread, category, [post])[0]


def delete_post(member: Member, post_id: int) -> None:
    """Authors delete their own posts (a first post deletes the thread, see
    ``delete_thread``); moderators delete others' through moderation."""
    post, thread, category = access.load_post(member, post_id, for_update=True)
    if post.number == 1:
        delete_thread(member, thread.id)
        return
    if post.author_id != member.id:
        if not access.can_delete(member, post, category):
            raise Forbidden()
        moderation.moderate_post(member, post_id, {"action": "delete", "reason": ""})
        return
    if post.deleted_at is not None:
        raise NotFound("forum_post_not_found")
    delete_by_author(post)
    notices.forget_post(post)
    refresh_thread(thread)
    commit()


def list_revisions(
    member: Member, post_id: int, *, limit: int, cursor: str | None
) -> Page[ForumPostRevision]:
    """Earlier versions of a post, newest first: for its author and moderators only."""
    post, _thread, category = access.load_post(member, post_id)
    if post.author_id != member.id and not access.can_moderate(member, category):
        raise Forbidden()
    stmt = (
        sa.select(ForumPostRevision)
        .options(joinedload(ForumPostRevision.editor))
        .where(ForumPostRevision.post_id == post.id)
    )
    return keyset_page(
        stmt,
        [SortKey(ForumPostRevision.version), SortKey(ForumPostRevision.id)],
        name="forum.revisions",
        limit=limit,
        cursor=cursor,
    )


def react_to_post(member: Member, post_id: int, reaction: str, on: bool) -> PostView:
    """Add or take back one reaction; idempotent either way."""
    if reaction not in REACTIONS:
        raise NotFound("forum_reaction_not_found")
    post, thread, category = access.load_post(member, post_id, for_update=True)
    access.require_visible(member, thread, category)
    if not post.visible:
        raise NotFound("forum_post_not_found")
    if post.author_id == member.id:
        raise DomainError("forum_cannot_react_to_own_post", 422)
    access.check_not_silenced(member)
    if on:
        added = insert_ignore(
            ForumReaction,
            {
                "post_id": post.id,
                "member_id": member.id,
                "reaction": reaction,
                "created_at": utcnow(),
            },
        )
        delta = 1 if added else 0
    else:
        delta = -changed(
            sa.delete(ForumReaction).where(
                ForumReaction.post_id == post.id,
                ForumReaction.member_id == member.id,
                ForumReaction.reaction == reaction,
            )
        )
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
