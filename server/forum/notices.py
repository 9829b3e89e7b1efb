"""Who hears about a post, through the notification service, in the acting transaction.

One post tells each member at most once, by the strongest reason: a mention, then a reply to
their post, then a new post in a thread they watch. A member who muted the thread hears
nothing from it. Mentions name existing, active members by ``@handle``; unknown handles do
nothing, and at most ``MAX_MENTIONS`` are notified per post (as Discourse); members who blocked
the author hear nothing of their posts. Being mentioned makes a member watch the thread unless
they chose its level themselves.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa

from server.common.text import excerpt, extract_mentions
from server.extensions import db
from server.forum import access
from server.forum.kinds import OUTCOMES, post_subject, thread_subject
from server.forum.models import ForumCategory, ForumPost, ForumThread, ForumThreadState
from server.forum.state import watch_by_default
from server.members import blocks
from server.members import service as members
from server.members.models import Member
from server.notifications import inbox, retraction
from server.notifications import service as notifications

MAX_MENTIONS = 10
# the kinds whose entries quote what members wrote (forum.moderated tells its own author)
QUOTING_KINDS = ("forum.reply", "forum.mention", "forum.watching")


def _data(thread: ForumThread, post: ForumPost) -> dict[str, Any]:
    return {
        "thread_id": thread.id,
        "post_id": post.id,
        "number": post.number,
        "title": thread.title,
        "excerpt": excerpt(post.body),
    }


def _mentioned(body: str, exclude: set[str] | None = None) -> list[int]:
    """Active members mentioned in ``body``, in order of first mention, at most MAX_MENTIONS
    (handles of nobody do not count)."""
    found = members.mention_targets(body)
    handles = [h for h in extract_mentions(body) if h not in (exclude or set())]
    return [found[h] for h in handles if h in found][:MAX_MENTIONS]


def _not_blocking(actor_id: int, member_ids: list[int]) -> list[int]:
    """Those of ``member_ids`` who have not blocked the actor."""
    blockers = blocks.blockers_of(actor_id, member_ids)
    return [m for m in member_ids if m not in blockers]


def new_post(
    actor: Member, thread: ForumThread, post: ForumPost, reply_to: ForumPost | None
) -> None:
    """Notify for a new post (a first post notifies its mentions only)."""
    category = db.session.get(ForumCategory, thread.category_id)
    assert category is not None
    # only members who can see the thread hear about it (a group's members-only category)
    mentioned = access.audience(category, [m for m in _mentioned(post.body) if m != actor.id])
    mentioned = _not_blocking(actor.id, mentioned)
    levels = dict(
        db.session.execute(
            sa.select(ForumThreadState.member_id, ForumThreadState.level).where(
                ForumThreadState.thread_id == thread.id,
                sa.or_(
                    ForumThreadState.level == "watching",
                    ForumThreadState.member_id.in_(
                        mentioned + ([reply_to.author_id] if reply_to else [])
                    ),
                ),
            )
        ).all()
    )
    told = {actor.id} | {m for m, level in levels.items() if level == "muted"}
    told |= blocks.blockers_of(actor.id, levels)  # who blocked the author hears nothing of it
    data = _data(thread, post)
    subject = post_subject(thread.id, post.number)

    mention_to = [m for m in mentioned if m not in told]
    if mention_to:
        notifications.notify(mention_to, "forum.mention", subject, data, actor_id=actor.id)
        told.update(mention_to)
    for member_id in mentioned:
        if levels.get(member_id) != "muted":
            watch_by_default(member_id, thread.id)

    if (
        reply_to is not None
        and reply_to.author_id not in told
        and access.audience(category, [reply_to.author_id])
    ):
        author_active = db.session.execute(
            sa.select(Member.id).where(Member.id == reply_to.author_id, Member.deleted_at.is_(None))
        ).first()
        if author_active:
            notifications.notify(
                [reply_to.author_id], "forum.reply", subject, data, actor_id=actor.id
            )
            told.add(reply_to.author_id)

    if post.number > 1:
        watchers = access.audience(
            category, [m for m, level in levels.items() if level == "watching" and m not in told]
        )
        if watchers:
            notifications.notify(
                watchers, "forum.watching", thread_subject(thread.id), data, actor_id=actor.id
            )


def edited_post(actor: Member, thread: ForumThread, post: ForumPost, earlier: list[str]) -> None:
    """An edit notifies members it mentions for the first time in any version of the post,
    within the post's lifetime budget of MAX_MENTIONS (edits cannot be a way to page people)."""
    before: set[str] = set()
    for body in earlier:
        before.update(extract_mentions(body))
    already = len(_mentioned(" ".join(f"@{h}" for h in before))) if before else 0
    budget = MAX_MENTIONS - already
    mentioned = [m for m in _mentioned(post.body, exclude=before) if m != post.author_id]
    category = db.session.get(ForumCategory, thread.category_id)
    assert category is not None
    mentioned = _not_blocking(actor.id, access.audience(category, mentioned[: max(budget, 0)]))
    if not mentioned:
        return
    muted = set(
        db.session.execute(
            sa.select(ForumThreadState.member_id).where(
                ForumThreadState.thread_id == thread.id,
                ForumThreadState.member_id.in_(mentioned),
                ForumThreadState.level == "muted",
            )
        ).scalars()
    )
    to = [m for m in mentioned if m not in muted]
    if to:
        notifications.notify(
            to,
            "forum.mention",
            post_subject(thread.id, post.number),
            _data(thread, post),
            actor_id=actor.id,
        )


def moderated(
    moderator: Member | None, thread: ForumThread, post: ForumPost, outcome: str, reason: str
) -> None:
    """Tell an author what happened to their post, and why."""
    data = _data(thread, post) | {"outcome": OUTCOMES[outcome], "reason": reason}
    data["excerpt"] = ""  # the text may be why it was hidden: do not push it to phones
    notifications.notify(
        [post.author_id],
        "forum.moderated",
        f"forum.post:{post.id}",
        data,
        actor_id=moderator.id if moderator else None,
    )


def read_up_to(member: Member, thread: ForumThread, number: int) -> None:
    """Reading a thread reads its notifications: those about posts up to ``number``, and the
    collapsed "new replies" entry once everything is read."""
    prefix = thread_subject(thread.id)
    done = []
    for nid, subject in inbox.unread_subjects(member.id, prefix):
        rest = subject[len(prefix) :]
        if rest == "":
            if number >= thread.highest_number:
                done.append(nid)
        elif rest.startswith(":") and rest[1:].isdigit() and int(rest[1:]) <= number:
            done.append(nid)
    inbox.mark_read_ids(member.id, done)


def forget_post(post: ForumPost) -> None:
    """A hidden or deleted post: entries quoting it stop quoting it, its pushes withdrawn."""
    retraction.forget(
        QUOTING_KINDS,
        subjects=[post_subject(post.thread_id, post.number), thread_subject(post.thread_id)],
        quoting={"post_id": post.id},
    )


def forget_thread(thread_id: int, keys: tuple[str, ...] = ("title", "excerpt")) -> None:
    """A hidden or deleted thread (or an erased author's title): entries about it stop
    quoting it (``keys``), its pushes withdrawn."""
    forget_threads([thread_id], keys)


# threads per forget(): each is two index ranges in one statement
FORGET_THREADS_CHUNK = 200


def forget_threads(thread_ids: Iterable[int], keys: tuple[str, ...]) -> None:
    """``forget_thread`` for many threads (an erased author's): one forget per chunk."""
    subjects = [thread_subject(t) for t in sorted(set(thread_ids))]
    for start in range(0, len(subjects), FORGET_THREADS_CHUNK):
        chunk = subjects[start : start + FORGET_THREADS_CHUNK]
        retraction.forget(
            QUOTING_KINDS,
            subjects=chunk,
            subject_prefixes=[subject + ":" for subject in chunk],
            keys=keys,
        )
