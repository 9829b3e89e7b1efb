"""PIPL for the forum: what it holds about a member (export), and erasure.

Erasure deletes what the member said — the text of every post (and its revisions and search
entry), their threads that nobody else answered — and everything that is theirs alone:
reactions, bookmarks, reading state, flags, silences, and others' notifications quoting
them (withdrawn from their phones too; entries about their threads lose the title). Threads
others replied to stay, so the replies keep their context: untitled, with the member shown
as a deleted member and the first post emptied. Moderation log entries stay (an
organisation's record of its own decisions).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from server.common.time import utcnow
from server.extensions import db
from server.forum import notices
from server.forum.models import (
    ForumFlag,
    ForumPost,
    ForumReaction,
    ForumSilence,
    ForumThread,
    ForumThreadState,
    ForumThreadTag,
)
from server.forum.state import refresh_thread, tombstone
from server.notifications import retraction


def export(member_id: int) -> dict[str, Any]:
    threads = db.session.execute(
        sa.select(ForumThread.id, ForumThread.title, ForumThread.tags, ForumThread.created_at)
        .where(ForumThread.author_id == member_id)
        .order_by(ForumThread.id)
    ).all()
    posts = db.session.execute(
        sa.select(
            ForumPost.id,
            ForumPost.thread_id,
            ForumPost.number,
            ForumPost.body,
            ForumPost.created_at,
            ForumPost.edited_at,
            ForumPost.deleted_at,
        )  # fmt: skip
        .where(ForumPost.author_id == member_id)
        .order_by(ForumPost.id)
    ).all()
    reactions = db.session.execute(
        sa.select(ForumReaction.post_id, ForumReaction.reaction, ForumReaction.created_at)
        .where(ForumReaction.member_id == member_id)
        .order_by(ForumReaction.created_at)
    ).all()
    states = db.session.execute(
        sa.select(ForumThreadState).where(ForumThreadState.member_id == member_id)
    ).scalars()
    flags = db.session.execute(
        sa.select(ForumFlag).where(ForumFlag.member_id == member_id).order_by(ForumFlag.id)
    ).scalars()
    silences = db.session.execute(
        sa.select(ForumSilence).where(ForumSilence.member_id == member_id)
    ).scalars()

    return {
        "threads": [
            {"id": i, "title": t, "tags": tags, "created_at": c} for i, t, tags, c in threads
        ],
        "posts": [
            {
                "id": i,
                "thread_id": t,
                "number": n,
                "body": b,
                "created_at": c,
                "edited_at": e,
                "deleted_at": d,
            }  # fmt: skip
            for i, t, n, b, c, e, d in posts
        ],
        "reactions": [{"post_id": p, "reaction": r, "created_at": c} for p, r, c in reactions],
        "threads_followed": [
            {
                "thread_id": s.thread_id,
                "last_read_number": s.last_read_number,
                "notification_level": s.level,
                "bookmarked_at": s.bookmarked_at,
            }  # fmt: skip
            for s in states
        ],
        "flags": [
            {
                "post_id": f.post_id,
                "reason": f.reason,
                "note": f.note,
                "created_at": f.created_at,
            }  # fmt: skip
            for f in flags
        ],
        "silences": [
            {"until": s.until, "reason": s.reason, "created_at": s.created_at} for s in silences
        ],
    }


def erase(member_id: int) -> None:
    now = utcnow()
    touched: set[int] = set()
    for post in db.session.execute(
        sa.select(ForumPost).where(ForumPost.author_id == member_id)
    ).scalars():
        tombstone(post)
        post.deleted_by_id = member_id
        touched.add(post.thread_id)
    # Reactions they gave leave the counts of others' posts (one statement).
    given = (
        sa.select(sa.func.count())
        .where(ForumReaction.post_id == ForumPost.id, ForumReaction.member_id == member_id)
        .scalar_subquery()
    )
    reacted = sa.select(ForumReaction.post_id).where(ForumReaction.member_id == member_id)
    touched.update(
        db.session.execute(
            sa.select(ForumPost.thread_id).where(ForumPost.id.in_(reacted)).distinct()
        ).scalars()
    )
    db.session.execute(
        sa.update(ForumPost)
        .where(ForumPost.id.in_(reacted))
        .values(reaction_count=ForumPost.reaction_count - given)
        .execution_options(synchronize_session=False)
    )
    # Others' inbox entries about their posts quote them: those go too, and off their phones.
    retraction.forget(notices.QUOTING_KINDS, actor_id=member_id, delete=True)
    for model in (ForumReaction, ForumThreadState, ForumFlag, ForumSilence):
        db.session.execute(sa.delete(model).where(model.member_id == member_id))
    db.session.flush()
    db.session.expire_all()
    titled: list[int] = []
    for thread in db.session.execute(
        sa.select(ForumThread).where(ForumThread.id.in_(touched))
    ).scalars():
        answered = db.session.execute(
            sa.select(ForumPost.id)
            .where(
                ForumPost.thread_id == thread.id,
                ForumPost.author_id != member_id,
                ForumPost.deleted_at.is_(None),
            )
            .limit(1)
        ).first()
        if thread.author_id == member_id:
            # The title and tags are theirs too; a thread others answered stays, untitled.
            thread.title, thread.excerpt, thread.tags = "", "", []
            titled.append(thread.id)
            db.session.execute(
                sa.delete(ForumThreadTag).where(ForumThreadTag.thread_id == thread.id)
            )
            if not answered:
                thread.deleted_at = thread.deleted_at or now
                thread.deleted_by_id = member_id
        refresh_thread(thread)
    # Entries about their threads lose the title: for all the threads at once.
    notices.forget_threads(titled, keys=("title",))
