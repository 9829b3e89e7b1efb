"""What the forum keeps derived from its posts, for every verb to share: each member's state row
per thread, the thread's counters and excerpt, the search index entries, and what a deletion
leaves behind.

A thread's counters (replies, reactions, score) and its bump count visible posts only, so that
a list page is one query whatever its size; ``refresh_thread`` recounts them whenever a post
appears or disappears other than by a plain reply. An author's deletion empties a post (a
tombstone) unless it is hidden or flagged: then its text stays for the record. Nothing here
checks permissions (``access`` does) or commits (the verb does).
"""

from __future__ import annotations

import sqlalchemy as sa

from server.common import search
from server.common.text import plain_text
from server.common.time import utcnow
from server.common.tx import changed, insert_ignore
from server.extensions import db
from server.forum.models import (
    ForumFlag,
    ForumPost,
    ForumPostRevision,
    ForumThread,
    ForumThreadState,
)

SEARCH_KIND = "forum_post"


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


def index_post(post: ForumPost, thread: ForumThread) -> None:
    """(Re)write the post's search entry; a first post carries its thread's title."""
    title = thread.title if post.number == 1 else ""
    search.index_document(SEARCH_KIND, post.id, title, plain_text(post.body))


def tombstone(post: ForumPost) -> None:
    """Delete what a post said: its text, its revisions, its search entry."""
    post.deleted_at = post.deleted_at or utcnow()
    post.body, post.html = "", ""
    db.session.execute(sa.delete(ForumPostRevision).where(ForumPostRevision.post_id == post.id))
    search.remove_document(SEARCH_KIND, post.id)


def delete_by_author(post: ForumPost) -> None:
    """An author's deletion empties the post, unless it is hidden or flagged: then its text
    stays for the record (deleted for everyone else, out of search) and open flags close as
    ``withdrawn``: there is nothing left for anyone to see. The caller withdraws the
    notifications quoting it (``notices.forget_post``, or its whole thread's at once)."""
    if post.deleted_at is not None:
        return
    open_flags = changed(
        sa.update(ForumFlag)
        .where(ForumFlag.post_id == post.id, ForumFlag.resolved_at.is_(None))
        .values(resolved_at=utcnow(), resolution="withdrawn")
        .execution_options(synchronize_session=False)
    )
    if post.hidden_at is not None or open_flags:
        post.deleted_at = utcnow()
        search.remove_document(SEARCH_KIND, post.id)
    else:
        tombstone(post)
    post.deleted_by_id = post.author_id
