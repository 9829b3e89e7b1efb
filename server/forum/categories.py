"""Categories: one level of nesting, ordered, with who may post; organisers manage them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from server.common.tx import commit
from server.errors import Conflict, DomainError, Forbidden, NotFound, register_messages
from server.extensions import db
from server.forum import access
from server.forum.models import ForumCategory, ForumThread
from server.members.models import Member

MAX_CATEGORIES = 200

register_messages(
    {
        "forum_category_not_found": {
            "zh-Hans": "找不到该版块。",
            "zh-Hant": "找不到該版塊。",
            "en": "No such category.",
        },
        "forum_category_too_deep": {
            "zh-Hans": "版块只能嵌套一层。",
            "zh-Hant": "版塊只能巢狀一層。",
            "en": "Categories nest one level deep only.",
        },
        "forum_category_exists": {
            "zh-Hans": "同级已有同名版块。",
            "zh-Hant": "同層已有同名版塊。",
            "en": "A category with that name already exists at this level.",
        },
        "forum_category_not_empty": {
            "zh-Hans": "版块中还有主题或子版块，不能删除。",
            "zh-Hant": "版塊中還有主題或子版塊，不能刪除。",
            "en": "The category still has threads or subcategories.",
        },
        "forum_too_many_categories": {
            "zh-Hans": "版块数量已达上限。",
            "zh-Hant": "版塊數量已達上限。",
            "en": "There are too many categories.",
        },
        "forum_group_not_found": {
            "zh-Hans": "找不到该小组。",
            "zh-Hant": "找不到該小組。",
            "en": "No such group.",
        },
        "forum_group_required": {
            "zh-Hans": "“仅限小组成员”的版块须指定小组。",
            "zh-Hant": "「僅限小組成員」的版塊須指定小組。",
            "en": "A group category needs a group_id.",
        },
    }
)


def load_category(category_id: int, member: Member | None = None) -> ForumCategory:
    """The category; 404 if it does not exist or ``member`` may not see it."""
    category = db.session.get(ForumCategory, category_id)
    if category is None:
        raise NotFound("forum_category_not_found")
    if member is not None and not access.visible_to(member, category):
        raise NotFound("forum_category_not_found")
    return category


def list_categories(member: Member) -> list[dict[str, Any]]:
    """Every category, parents first by position, each with its children and thread count."""
    counts = dict(
        db.session.execute(
            sa.select(ForumThread.category_id, sa.func.count())
            .where(ForumThread.deleted_at.is_(None), ForumThread.hidden.is_(False))
            .group_by(ForumThread.category_id)
        ).all()
    )
    hidden = access.hidden_category_ids(member)
    rows = db.session.execute(
        sa.select(ForumCategory)
        .where(ForumCategory.id.not_in(hidden))
        .order_by(ForumCategory.position, ForumCategory.id)
    ).scalars()
    views: dict[int, dict[str, Any]] = {}
    top: list[dict[str, Any]] = []
    children: list[tuple[int, dict[str, Any]]] = []
    for category in rows:
        view = _view(member, category, counts.get(category.id, 0))
        views[category.id] = view
        if category.parent_id is None:
            top.append(view)
        else:
            children.append((category.parent_id, view))
    for parent_id, view in children:
        if parent_id in views:
            views[parent_id]["subcategories"].append(view)
    return top


def _view(member: Member, category: ForumCategory, thread_count: int) -> dict[str, Any]:
    return {
        "category": category,
        "thread_count": thread_count,
        "can_post": access.can_start_thread(member, category),
        "subcategories": [],
    }


def get_category(member: Member, category_id: int) -> dict[str, Any]:
    """One category the member may see, with its thread count and visible subcategories."""
    category = load_category(category_id, member)
    hidden = access.hidden_category_ids(member)
    count = db.session.execute(
        sa.select(sa.func.count()).where(
            ForumThread.category_id == category.id,
            ForumThread.deleted_at.is_(None),
            ForumThread.hidden.is_(False),
        )
    ).scalar_one()
    view = _view(member, category, count)
    for child in db.session.execute(
        sa.select(ForumCategory)
        .where(ForumCategory.parent_id == category.id, ForumCategory.id.not_in(hidden))
        .order_by(ForumCategory.position, ForumCategory.id)
    ).scalars():
        view["subcategories"].append(_view(member, child, 0))
    return view


def _check_shape(data: Mapping[str, Any], category: ForumCategory | None) -> None:
    parent_id = data.get("parent_id", category.parent_id if category else None)
    if parent_id is not None:
        if category is not None and parent_id == category.id:
            raise DomainError("forum_category_too_deep", 422)
        parent = load_category(parent_id)
        if parent.parent_id is not None:
            raise DomainError("forum_category_too_deep", 422)
        if (
            category is not None
            and db.session.execute(
                sa.select(ForumCategory.id).where(ForumCategory.parent_id == category.id).limit(1)
            ).first()
        ):
            raise DomainError("forum_category_too_deep", 422)
    policy = data.get("post_policy", category.post_policy if category else "everyone")
    group_id = data.get("group_id", category.group_id if category else None)
    if policy == "group" and group_id is None:
        raise DomainError("forum_group_required", 422)
    if policy == "group" and "group_id" in data and not access.group_exists(group_id):
        raise DomainError("forum_group_not_found", 422)
    name = data.get("name", category.name if category else None)
    clash = sa.select(ForumCategory.id).where(
        ForumCategory.name == name,
        ForumCategory.parent_id.is_(None)
        if parent_id is None
        else ForumCategory.parent_id == parent_id,
    )
    if category is not None:
        clash = clash.where(ForumCategory.id != category.id)
    if db.session.execute(clash.limit(1)).first():
        raise Conflict("forum_category_exists")


def create_category(member: Member, data: Mapping[str, Any]) -> dict[str, Any]:
    """Add a category (organisers and admins)."""
    if not access.is_organiser(member):
        raise Forbidden()
    total = db.session.execute(sa.select(sa.func.count(ForumCategory.id))).scalar_one()
    if total >= MAX_CATEGORIES:
        raise Conflict("forum_too_many_categories")
    _check_shape(data, None)
    category = ForumCategory(**data)
    db.session.add(category)
    db.session.flush()
    commit()
    return _view(member, category, 0)


def update_category(member: Member, category_id: int, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Rename, describe, reorder, move under another parent, or change who may post."""
    if not access.is_organiser(member):
        raise Forbidden()
    category = load_category(category_id)
    _check_shape(changes, category)
    for name, value in changes.items():
        setattr(category, name, value)
    commit()
    return get_category(member, category_id)


def delete_category(member: Member, category_id: int) -> None:
    """Remove an empty category (no threads, even deleted ones, and no subcategories)."""
    if not access.is_organiser(member):
        raise Forbidden()
    category = load_category(category_id)
    used = (
        db.session.execute(
            sa.select(ForumThread.id).where(ForumThread.category_id == category.id).limit(1)
        ).first()
        or db.session.execute(
            sa.select(ForumCategory.id).where(ForumCategory.parent_id == category.id).limit(1)
        ).first()
    )
    if used:
        raise Conflict("forum_category_not_empty")
    db.session.delete(category)
    commit()
