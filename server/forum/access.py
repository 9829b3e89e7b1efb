"""Who may do what in the forum, in one place: every verb (``threads``, ``posts``, ``reading``,
``moderation``) loads the object it touches through here and asks here whether the caller may.

Loading answers "may the caller see it?": a thread of a category they cannot see, a deleted
thread, or a hidden one that is neither theirs nor in a category they moderate is a 404
(``forum_thread_not_found``), as is a deleted post (except to moderators) or another's hidden
post. Acting inside a thread (reply, react, flag) needs it visible, even to its author.

Staff are moderators, organisers and admins: they moderate everywhere, post in read-only
categories and locked threads. A category's ``post_policy`` says who may start threads in it;
``group`` categories belong to a group (an alliance, issue #5): ``GroupRules`` is the hook
through which the alliances feature answers "is this member in that group / one of its
admins?". Until a feature installs rules, only staff pass a group check.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from flask import current_app

from server.common.time import display_zone, utcnow
from server.errors import DomainError, Forbidden, NotFound, register_messages
from server.extensions import db
from server.forum.models import ForumCategory, ForumPost, ForumSilence, ForumThread
from server.members.models import ORGANISER_ROLES, STAFF_ROLES, Member

register_messages(
    {
        "forum_category_read_only": {
            "zh-Hans": "此版块为只读版块。",
            "zh-Hant": "此版塊為唯讀版塊。",
            "en": "This category is read-only.",
        },
        "forum_posting_not_allowed": {
            "zh-Hans": "你不能在此版块发帖。",
            "zh-Hant": "你不能在此版塊發文。",
            "en": "You may not start threads in this category.",
        },
        "forum_thread_locked": {
            "zh-Hans": "此主题已锁定，不能回复。",
            "zh-Hant": "此主題已鎖定，不能回覆。",
            "en": "This thread is locked.",
        },
        "forum_silenced": {
            "zh-Hans": "你已被禁言至 {until}。",
            "zh-Hant": "你已被禁言至 {until}。",
            "en": "You are silenced until {until}.",
        },
        "forum_edit_window_passed": {
            "zh-Hans": "已超过可编辑时限。",
            "zh-Hant": "已超過可編輯時限。",
            "en": "The time to edit this post has passed.",
        },
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
    }
)


@dataclass(frozen=True)
class GroupRules:
    is_member: Callable[[int, int], bool]  # (member_id, group_id)
    is_admin: Callable[[int, int], bool]
    groups_of: Callable[[int], set[int]]  # member_id → the groups they belong to
    exists: Callable[[int], bool]


_group_rules: GroupRules | None = None


def install_group_rules(rules: GroupRules | None) -> None:
    """Called by the feature that owns groups (alliances) at start-up."""
    global _group_rules
    _group_rules = rules


def group_exists(group_id: int) -> bool:
    """The group exists (always False while no feature owns groups)."""
    return _group_rules is not None and _group_rules.exists(group_id)


def _members_only(category: ForumCategory) -> bool:
    return category.post_policy == "group" and category.members_only


def can_see_category(member: Member, category: ForumCategory) -> bool:
    """A group's members-only category is visible to its members and to staff."""
    return not _members_only(category) or is_staff(member) or _in_group(member, category)


def visible_to(member: Member, category: ForumCategory) -> bool:
    """The category and its parent are visible to the member (no query for most)."""
    if not can_see_category(member, category):
        return False
    parent = db.session.get(ForumCategory, category.parent_id) if category.parent_id else None
    return parent is None or can_see_category(member, parent)


def hidden_category_ids(member: Member) -> list[int]:
    """Categories (and their subcategories) the member may not see: members-only categories
    of groups they are not in. Empty for staff, and while no feature owns groups."""
    if is_staff(member):
        return []
    rows = db.session.execute(
        sa.select(ForumCategory.id, ForumCategory.group_id).where(
            ForumCategory.post_policy == "group", ForumCategory.members_only.is_(True)
        )
    ).all()
    if not rows:
        return []
    mine = _group_rules.groups_of(member.id) if _group_rules is not None else set()
    hidden = [cid for cid, gid in rows if gid not in mine]
    if hidden:
        hidden += db.session.execute(
            sa.select(ForumCategory.id).where(ForumCategory.parent_id.in_(hidden))
        ).scalars()
    return hidden


def audience(category: ForumCategory, member_ids: list[int]) -> list[int]:
    """Those of ``member_ids`` who can see ``category`` (whom a notification may reach)."""
    if not _members_only(category) or not member_ids:
        return member_ids
    staff = set(
        db.session.execute(
            sa.select(Member.id).where(Member.id.in_(member_ids), Member.role.in_(STAFF_ROLES))
        ).scalars()
    )
    return [
        m
        for m in member_ids
        if m in staff
        or (
            _group_rules is not None
            and category.group_id is not None
            and _group_rules.is_member(m, category.group_id)
        )
    ]


def is_staff(member: Member) -> bool:
    """Moderators, organisers and admins."""
    return member.role in STAFF_ROLES


def is_organiser(member: Member) -> bool:
    """Organisers and admins: they manage categories."""
    return member.role in ORGANISER_ROLES


def _in_group(member: Member, category: ForumCategory) -> bool:
    if category.group_id is None or _group_rules is None:
        return False
    return _group_rules.is_member(member.id, category.group_id)


def can_moderate(member: Member, category: ForumCategory | None = None) -> bool:
    """Staff moderate everywhere; a group's admins moderate their group's categories."""
    if is_staff(member):
        return True
    return (
        category is not None
        and category.group_id is not None
        and _group_rules is not None
        and _group_rules.is_admin(member.id, category.group_id)
    )


def require_moderator(member: Member, category: ForumCategory | None = None) -> None:
    """403 unless the member moderates ``category`` (or everywhere, without one)."""
    if not can_moderate(member, category):
        raise Forbidden()


def silenced_until(member: Member) -> datetime | None:
    """The end of the member's longest silence in force, if any."""
    return db.session.execute(
        sa.select(sa.func.max(ForumSilence.until)).where(
            ForumSilence.member_id == member.id,
            ForumSilence.lifted_at.is_(None),
            ForumSilence.until > utcnow(),
        )
    ).scalar_one_or_none()


def check_not_silenced(member: Member) -> None:
    """403 ``forum_silenced`` (with the time it ends) while a silence is in force."""
    until = silenced_until(member)
    if until is not None:
        local = until.astimezone(display_zone()).strftime("%Y-%m-%d %H:%M")
        raise DomainError("forum_silenced", 403, until=local)


def can_start_thread(member: Member, category: ForumCategory) -> bool:
    """Moderators always; others by the category's ``post_policy``, never if read-only."""
    if can_moderate(member, category):
        return True
    if category.read_only:
        return False
    if category.post_policy == "organisers":
        return is_organiser(member)
    if category.post_policy == "group":
        return _in_group(member, category)
    return True


def check_start_thread(member: Member, category: ForumCategory) -> None:
    """403 unless the member may start a thread in ``category`` and is not silenced."""
    if not can_start_thread(member, category):
        code = "forum_category_read_only" if category.read_only else "forum_posting_not_allowed"
        raise Forbidden(code)
    check_not_silenced(member)


def can_reply(member: Member, thread: ForumThread, category: ForumCategory) -> bool:
    """Moderators always; others unless read-only or locked (and in the group's, if one)."""
    if can_moderate(member, category):
        return True
    if category.read_only or thread.locked:
        return False
    if category.post_policy == "group":
        return _in_group(member, category)
    return True


def check_reply(member: Member, thread: ForumThread, category: ForumCategory) -> None:
    """403 with the reason (read-only, locked, not allowed) unless the member may reply."""
    if not can_reply(member, thread, category):
        if category.read_only:
            raise Forbidden("forum_category_read_only")
        if thread.locked:
            raise Forbidden("forum_thread_locked")
        raise Forbidden("forum_posting_not_allowed")
    check_not_silenced(member)


def edit_window() -> timedelta:
    """How long an author may edit their post (``FORUM_EDIT_WINDOW_MINUTES``)."""
    return timedelta(minutes=current_app.config["FORUM_EDIT_WINDOW_MINUTES"])


def can_edit(member: Member, post: ForumPost, thread: ForumThread, category: ForumCategory) -> bool:
    """Moderators, or its author within the edit window, while not hidden, locked or deleted."""
    if post.deleted_at is not None:
        return False
    if can_moderate(member, category):
        return True
    return (
        post.author_id == member.id
        and post.hidden_at is None
        and not thread.locked
        and post.created_at + edit_window() > utcnow()
    )


def check_edit(
    member: Member, post: ForumPost, thread: ForumThread, category: ForumCategory
) -> None:
    """403 with the reason (locked, edit window passed) unless the member may edit."""
    if can_edit(member, post, thread, category):
        check_not_silenced(member)
        return
    if post.author_id == member.id and post.deleted_at is None and post.hidden_at is None:
        if thread.locked:
            raise Forbidden("forum_thread_locked")
        raise Forbidden("forum_edit_window_passed")
    raise Forbidden()


def can_delete(member: Member, post: ForumPost, category: ForumCategory) -> bool:
    """Its author or a moderator, while it is not deleted."""
    return post.deleted_at is None and (
        post.author_id == member.id or can_moderate(member, category)
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
    if not thread.visible and not can_moderate(member, category):
        if thread.deleted_at is not None or thread.author_id != member.id:
            raise NotFound("forum_thread_not_found")
    return thread, category


def load_post(
    member: Member, post_id: int, *, for_update: bool = False
) -> tuple[ForumPost, ForumThread, ForumCategory]:
    """The post, its thread and category; 404 if the caller may not see the thread, or the post
    is deleted (moderators excepted) or hidden (its author and moderators excepted)."""
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
    if post.deleted_at is not None and not can_moderate(member, category):
        raise NotFound("forum_post_not_found")
    if (
        post.hidden_at is not None
        and post.author_id != member.id
        and not can_moderate(member, category)
    ):
        raise NotFound("forum_post_not_found")
    return post, thread, category


def require_visible(member: Member, thread: ForumThread, category: ForumCategory) -> None:
    """Acting inside a thread (reply, react, flag) needs it visible, even to its author."""
    if not thread.visible and not can_moderate(member, category):
        raise NotFound("forum_thread_not_found")
