"""Flags, the review queue, moderators' actions, silences, and the audit log.

A post flagged by ``FORUM_FLAG_THRESHOLD`` different members is hidden pending review (and
its thread, if it is the first post); the system's hide is logged with no moderator. Every
moderator action is logged with who, what, which object and why. Hiding upholds the open
flags on a post, restoring rejects them, so the same flags never hide it twice.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import joinedload

from server.common.pagination import Page, SortKey, keyset_page
from server.common.time import utcnow
from server.common.tx import changed, commit
from server.errors import Conflict, DomainError, Forbidden, NotFound, register_messages
from server.extensions import db
from server.forum import access, notices
from server.forum.access import load_post, load_thread, require_visible
from server.forum.categories import load_category
from server.forum.models import (
    ForumFlag,
    ForumModerationAction,
    ForumPost,
    ForumSilence,
    ForumThread,
)
from server.forum.state import refresh_thread
from server.members import service as members
from server.members.models import Member

register_messages(
    {
        "forum_already_flagged": {
            "zh-Hans": "你已举报过这条帖子。",
            "zh-Hant": "你已檢舉過這則貼文。",
            "en": "You have already flagged this post.",
        },
        "forum_cannot_flag_own_post": {
            "zh-Hans": "不能举报自己的帖子。",
            "zh-Hant": "不能檢舉自己的貼文。",
            "en": "You cannot flag your own post.",
        },
        "forum_action_not_applicable": {
            "zh-Hans": "此操作不适用于当前状态。",
            "zh-Hant": "此操作不適用於目前狀態。",
            "en": "That action does not apply in the current state.",
        },
        "forum_pin_site_staff_only": {
            "zh-Hans": "只有站务人员可以在首页置顶；你可以在分类内置顶。",
            "zh-Hant": "只有站務人員可以在首頁置頂；你可以在分類內置頂。",
            "en": "Only staff pin threads for the whole site; you can pin it in its category.",
        },
        "forum_cannot_silence_staff": {
            "zh-Hans": "不能禁言管理人员。",
            "zh-Hant": "不能禁言管理人員。",
            "en": "Staff cannot be silenced.",
        },
    }
)


def _log(
    moderator: Member | None,
    action: str,
    target_type: str,
    target_id: int,
    *,
    thread_id: int | None,
    reason: str,
    data: dict[str, Any] | None = None,
) -> None:
    db.session.add(
        ForumModerationAction(
            moderator_id=moderator.id if moderator else None,
            action=action,
            target_type=target_type,
            target_id=target_id,
            thread_id=thread_id,
            reason=reason,
            data=data or {},
            created_at=utcnow(),
        )
    )


def _resolve_flags(post: ForumPost, resolution: str) -> int:
    return changed(
        sa.update(ForumFlag)
        .where(ForumFlag.post_id == post.id, ForumFlag.resolved_at.is_(None))
        .values(resolved_at=utcnow(), resolution=resolution)
        .execution_options(synchronize_session=False)
    )


def _forget(post: ForumPost) -> None:
    """Inbox entries and pushes stop quoting a post nobody may see (its whole thread, for a
    first post)."""
    if post.number == 1:
        notices.forget_thread(post.thread_id)
    else:
        notices.forget_post(post)


def _hide(post: ForumPost, thread: ForumThread, reason: str) -> None:
    post.hidden_at, post.hidden_reason = utcnow(), reason
    if post.number == 1:
        thread.hidden = True
    refresh_thread(thread)
    _forget(post)


def _deleted_by_moderator(deleted_at: Any, deleted_by_id: int | None, author_id: int) -> bool:
    """Deleted by someone other than its author: a moderator's decision, which can be undone."""
    return deleted_at is not None and deleted_by_id is not None and deleted_by_id != author_id


# --- flags ----------------------------------------------------------------------------------


def flag_post(member: Member, post_id: int, data: Mapping[str, Any]) -> dict[str, Any]:
    """Report a post; enough reports from different members hide it pending review."""
    post, thread, category = load_post(member, post_id, for_update=True)
    require_visible(member, thread, category)
    if not post.visible:
        raise NotFound("forum_post_not_found")
    if post.author_id == member.id:
        raise DomainError("forum_cannot_flag_own_post", 422)
    access.check_not_silenced(member)
    try:
        with db.session.begin_nested():
            db.session.add(
                ForumFlag(
                    post_id=post.id,
                    member_id=member.id,
                    reason=data["reason"],
                    note=data.get("note", ""),
                    created_at=utcnow(),
                )
            )
    except IntegrityError:
        raise Conflict("forum_already_flagged") from None
    open_flags = db.session.execute(
        sa.select(sa.func.count(sa.distinct(ForumFlag.member_id))).where(
            ForumFlag.post_id == post.id, ForumFlag.resolved_at.is_(None)
        )
    ).scalar_one()
    # Staff posts are never hidden by flags alone (as Discourse): a moderator decides.
    author = db.session.get(Member, post.author_id)
    hidden = open_flags >= current_app.config["FORUM_FLAG_THRESHOLD"] and not (
        author is not None and access.is_staff(author)
    )
    if hidden:
        _hide(post, thread, "flags")
        _log(None, "auto_hide", "post", post.id, thread_id=thread.id, reason="",
             data={"flags": open_flags})  # fmt: skip
        notices.moderated(None, thread, post, "hidden", "")
    commit()
    return {"post_id": post.id, "hidden": hidden}


@dataclass
class QueueItem:
    post: ForumPost
    thread: ForumThread
    flag_count: int
    flags: list[ForumFlag]  # the first FLAGS_SHOWN of them


FLAGS_SHOWN = 10


def list_queue_items(member: Member, *, limit: int, cursor: str | None) -> Page[QueueItem]:
    """Posts with open flags (hidden ones included), most recently reported first.

    Ordered by each post's first open flag, which later flags do not move, so paging is stable.
    """
    access.require_moderator(member)
    latest = (
        sa.select(
            ForumFlag.post_id,
            sa.func.min(ForumFlag.id).label("first_flag_id"),
            sa.func.count().label("open_flags"),
        )
        .where(ForumFlag.resolved_at.is_(None))
        .group_by(ForumFlag.post_id)
        .subquery()
    )
    stmt = (
        sa.select(ForumPost, ForumThread, latest.c.first_flag_id, latest.c.open_flags)
        .join(latest, latest.c.post_id == ForumPost.id)
        .join(ForumThread, ForumThread.id == ForumPost.thread_id)
        .options(joinedload(ForumPost.author))
        .where(ForumPost.deleted_at.is_(None), ForumThread.deleted_at.is_(None))
    )
    page = keyset_page(
        stmt,
        [SortKey(latest.c.first_flag_id)],
        name="forum.moderation_queue",
        limit=limit,
        cursor=cursor,
        scalars=False,
        key_of=lambda row: [row[2]],
    )
    post_ids = [row[0].id for row in page.items]
    numbered = (
        sa.select(
            ForumFlag.id,
            sa.func.row_number()
            .over(partition_by=ForumFlag.post_id, order_by=ForumFlag.id)
            .label("n"),
        )
        .where(ForumFlag.post_id.in_(post_ids), ForumFlag.resolved_at.is_(None))
        .subquery()
    )
    flags: dict[int, list[ForumFlag]] = {}
    for f in db.session.execute(
        sa.select(ForumFlag)
        .join(numbered, numbered.c.id == ForumFlag.id)
        .where(numbered.c.n <= FLAGS_SHOWN)
        .order_by(ForumFlag.id)
    ).scalars():
        flags.setdefault(f.post_id, []).append(f)
    items = [
        QueueItem(post, thread, count, flags.get(post.id, []))
        for post, thread, _first, count in page.items
    ]
    return Page(items, page.next_cursor)


# --- actions --------------------------------------------------------------------------------


def moderate_post(member: Member, post_id: int, data: Mapping[str, Any]) -> ForumPost:
    """hide, restore (a hidden post, or one a moderator deleted) or delete a post."""
    post, thread, category = load_post(member, post_id, for_update=True)
    access.require_moderator(member, category)
    action, reason = data["action"], data.get("reason", "")
    if action == "hide":
        if post.hidden_at is not None or post.deleted_at is not None:
            raise Conflict("forum_action_not_applicable")
        _hide(post, thread, "moderator")
        _resolve_flags(post, "upheld")
        notices.moderated(member, thread, post, "hide", reason)
    elif action == "restore":
        by_moderator = _deleted_by_moderator(post.deleted_at, post.deleted_by_id, post.author_id)
        if post.deleted_at is not None and not by_moderator:
            raise Conflict("forum_action_not_applicable")  # its author deleted it: for good
        if post.hidden_at is None and not by_moderator:
            raise Conflict("forum_action_not_applicable")
        post.hidden_at = post.hidden_reason = None
        if by_moderator:
            post.deleted_at = post.deleted_by_id = None
        if post.number == 1:
            thread.hidden = False
            if by_moderator:
                thread.deleted_at = thread.deleted_by_id = None
        _resolve_flags(post, "rejected")
        refresh_thread(thread)
        notices.moderated(member, thread, post, "restore", reason)
    elif action == "delete":
        if post.deleted_at is not None:
            raise Conflict("forum_action_not_applicable")
        # kept for review and restore; visible to moderators only
        post.deleted_at, post.deleted_by_id = utcnow(), member.id
        if post.number == 1:
            thread.deleted_at, thread.deleted_by_id = post.deleted_at, member.id
        _resolve_flags(post, "upheld")
        refresh_thread(thread)
        _forget(post)
        notices.moderated(member, thread, post, "delete", reason)
    _log(member, action, "post", post.id, thread_id=thread.id, reason=reason)
    commit()
    return post


def moderate_thread(member: Member, thread_id: int, data: Mapping[str, Any]) -> ForumThread:
    """lock, unlock, pin, unpin, move (to ``category_id``), delete or restore a thread."""
    thread, category = load_thread(member, thread_id, for_update=True)
    access.require_moderator(member, category)
    action, reason = data["action"], data.get("reason", "")
    log_data: dict[str, Any] = {}
    flips = {"lock": ("locked", True), "unlock": ("locked", False)}
    if action in ("pin", "unpin") and not access.is_staff(member):
        # in the category: its moderators (alliance admins for a group's category); on the
        # front page for the whole site: staff only — and only staff undo or narrow it
        if data.get("scope") == "site" or thread.pinned_globally:
            raise Forbidden("forum_pin_site_staff_only")
    if action == "pin":
        site = data.get("scope") == "site"
        if thread.pinned and thread.pinned_globally is site:
            raise Conflict("forum_action_not_applicable")
        thread.pinned, thread.pinned_globally = True, site
        log_data = {"scope": "site" if site else "category"}
    elif action == "unpin":
        if not thread.pinned:
            raise Conflict("forum_action_not_applicable")
        thread.pinned = thread.pinned_globally = False
    elif action in flips:
        attribute, value = flips[action]
        if getattr(thread, attribute) is value:
            raise Conflict("forum_action_not_applicable")
        setattr(thread, attribute, value)
    elif action == "move":  # category_id: required for move (ThreadModerationSchema)
        target = load_category(data["category_id"])
        access.require_moderator(member, target)
        if target.id == thread.category_id:
            raise Conflict("forum_action_not_applicable")
        log_data = {"from_category_id": thread.category_id, "to_category_id": target.id}
        thread.category_id = target.id
    elif action == "delete":
        if thread.deleted_at is not None:
            raise Conflict("forum_action_not_applicable")
        thread.deleted_at, thread.deleted_by_id = utcnow(), member.id
        notices.forget_thread(thread.id)
    elif action == "restore":
        if not _deleted_by_moderator(thread.deleted_at, thread.deleted_by_id, thread.author_id):
            raise Conflict("forum_action_not_applicable")
        thread.deleted_at = thread.deleted_by_id = None
        first = db.session.execute(
            sa.select(ForumPost).where(ForumPost.thread_id == thread.id, ForumPost.number == 1)
        ).scalar_one()
        if _deleted_by_moderator(first.deleted_at, first.deleted_by_id, first.author_id):
            first.deleted_at = first.deleted_by_id = None
        refresh_thread(thread)
    _log(member, action, "thread", thread.id, thread_id=thread.id, reason=reason, data=log_data)
    commit()
    return thread


def moderate_member(member: Member, target_id: int, data: Mapping[str, Any]) -> dict[str, Any]:
    """silence a member for ``hours`` (they read, they cannot post), or unsilence them."""
    access.require_moderator(member)
    target = members.get_visible_member(target_id)  # 404 member_not_found: members' own
    action, reason = data["action"], data.get("reason", "")
    now = utcnow()
    log_data: dict[str, Any] = {}
    if action == "silence":
        if access.is_staff(target):
            raise Forbidden("forum_cannot_silence_staff")
        # hours: required for silence (MemberModerationSchema)
        until = now + timedelta(hours=data["hours"])
        db.session.add(
            ForumSilence(
                member_id=target.id,
                until=until,
                reason=reason,
                moderator_id=member.id,
                created_at=now,
            )  # fmt: skip
        )
        log_data = {"until": until.isoformat()}
    elif action == "unsilence":
        lifted = changed(
            sa.update(ForumSilence)
            .where(
                ForumSilence.member_id == target.id,
                ForumSilence.lifted_at.is_(None),
                ForumSilence.until > now,
            )  # fmt: skip
            .values(lifted_at=now)
            .execution_options(synchronize_session=False)
        )
        if not lifted:
            raise Conflict("forum_action_not_applicable")
    _log(member, action, "member", target.id, thread_id=None, reason=reason, data=log_data)
    commit()
    return {"member_id": target.id, "silenced_until": access.silenced_until(target)}


def list_log_entries(
    member: Member,
    *,
    target_type: str | None = None,
    target_id: int | None = None,
    thread_id: int | None = None,
    moderator_id: int | None = None,
    limit: int,
    cursor: str | None,
) -> Page[ForumModerationAction]:
    """Moderator actions, newest first; filter by target or moderator."""
    access.require_moderator(member)
    stmt = sa.select(ForumModerationAction).options(joinedload(ForumModerationAction.moderator))
    if target_type:
        stmt = stmt.where(ForumModerationAction.target_type == target_type)
    if target_id is not None:
        stmt = stmt.where(ForumModerationAction.target_id == target_id)
    if thread_id is not None:
        stmt = stmt.where(ForumModerationAction.thread_id == thread_id)
    if moderator_id is not None:
        stmt = stmt.where(ForumModerationAction.moderator_id == moderator_id)
    return keyset_page(
        stmt,
        [SortKey(ForumModerationAction.id)],
        name="forum.moderation_log",
        limit=limit,
        cursor=cursor,
    )
