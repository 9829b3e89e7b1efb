"""Demo forum content for ``make demo``: categories, threads, replies and reactions in Simplified
and Traditional Chinese, written through the verbs (``threads``, ``posts``) so that counters,
search and notifications are real.

Idempotent item by item, not as a whole: a category is the one of that name under that parent,
a thread the one of that title by that author (wherever it is now, deleted or not), a reply the
one with that body by that author in that thread, a reaction the member's own. Running it twice
adds nothing the second time; running it where other categories or threads exist still adds the
demo's own. ``ensure_category``, ``ensure_thread`` and ``ensure_reply`` are what other features'
demo content uses for its forum parts (an alliance's category)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa

from server.common.demo import Added
from server.extensions import db
from server.forum import categories, moderation, posts, threads
from server.forum.models import ForumCategory, ForumPost, ForumReaction, ForumThread
from server.members.bootstrap import demo_members
from server.members.models import Member

CATEGORIES = [
    ("公告", "组织者发布的通知与活动安排。", {"read_only": True}),
    ("接单与定价", "报价、合同、收款、甲方沟通：自由职业的生意经。", {}),
    ("新媒体运营", "公众号、小红书、视频号、播客的运营心得。", {}),
    ("城市生活", "在不同城市之间工作与生活。", {}),
]
SUBCATEGORIES = {"城市生活": ["杭州", "成都"]}

THREADS: list[tuple[str, str, str, str, list[str], list[tuple[str, str, int | None]]]] = [
    # (category, author, title, body, tags, replies [(author, body, reply_to_index)])
    (
        "接单与定价",
        "chenmo",
        "第一次接品牌短片，报价怎么算才不亏？",
        "甲方要一条 90 秒的品牌短片，包含脚本、拍摄两天、剪辑调色。"
        "我按天算还是按成片算比较合理？大家一般怎么报价？",
        ["报价", "视频"],
        [
            (
                "linxiaoyu",
                "我一般拆成前期、拍摄、后期三段报价，每段写清楚修改次数，超出另算。",
                None,
            ),
            ("zhouxu", "@chenmo 记得把版权使用范围写进合同，投放渠道不同价格差很多。", 0),
        ],
    ),
    (
        "新媒体运营",
        "huangshiting",
        "公眾號從零到一萬粉，我做對了哪幾件事",
        "分享一下這一年的經驗：固定更新頻率、每篇只講一件事、在留言區認真回覆讀者。"
        "也踩過坑，比如追熱點反而掉粉。",
        ["公眾號", "經驗分享"],
        [
            ("chenmo", "「每篇只講一件事」太認同了，我的視頻號也是這樣慢慢做起來的。", None),
        ],
    ),
    (
        "杭州",
        "linxiaoyu",
        "杭州有哪些适合自由职业者的共享办公空间？",
        "最近想找个固定的地方工作，预算每月一千五以内，最好离地铁近。欢迎推荐！",
        ["杭州", "共享办公"],
        [],
    ),
    (
        "公告",
        "linxiaoyu",
        "社区守则（请先阅读）",
        "欢迎来到家园论坛。请友善交流，不发广告，不泄露他人隐私。违反守则的帖子会被隐藏。",
        ["守则"],
        [],
    ),
]


PINNED = {"社区守则（请先阅读）"}  # pinned in their category when the demo starts them

REACTIONS: list[tuple[str, int, str, str]] = [
    # (thread title, post: 0 the first, n the n-th reply, who reacts, reaction)
    ("第一次接品牌短片，报价怎么算才不亏？", 1, "chenmo", "thanks"),
    ("第一次接品牌短片，报价怎么算才不亏？", 2, "chenmo", "like"),
    ("公眾號從零到一萬粉，我做對了哪幾件事", 0, "linxiaoyu", "heart"),
    ("公眾號從零到一萬粉，我做對了哪幾件事", 0, "heyifan", "like"),
    ("杭州有哪些适合自由职业者的共享办公空间？", 0, "zhaomin", "like"),
]


def ensure_category(
    organiser: Member, name: str, parent_id: int | None = None, **extra: Any
) -> tuple[int, bool]:
    """The category of this name under this parent (top level: None), made if missing:
    (its id, whether it was made)."""
    where = (
        ForumCategory.parent_id.is_(None)
        if parent_id is None
        else ForumCategory.parent_id == parent_id
    )
    existing = db.session.execute(
        sa.select(ForumCategory.id).where(ForumCategory.name == name, where)
    ).scalar_one_or_none()
    if existing is not None:
        return existing, False
    data: dict[str, Any] = {"name": name, **extra}
    if parent_id is not None:
        data["parent_id"] = parent_id
    return categories.create_category(organiser, data)["category"].id, True


def ensure_thread(author: Member, category_id: int, data: Mapping[str, Any]) -> tuple[int, bool]:
    """The thread with ``data["title"]`` by ``author`` (in any category, deleted or not), else
    a new one in ``category_id`` from ``data`` (title, body, tags): (its id, whether it is new)."""
    existing = db.session.execute(
        sa.select(ForumThread.id)
        .where(ForumThread.title == data["title"], ForumThread.author_id == author.id)
        .order_by(ForumThread.id)
        .limit(1)
    ).scalar_one_or_none()
    if existing is not None:
        return existing, False
    detail = threads.create_thread(author, {"category_id": category_id, **data})
    return detail.thread.id, True


def ensure_reply(
    author: Member, thread_id: int, body: str, reply_to_id: int | None = None
) -> tuple[int, bool]:
    """The reply with this body by ``author`` in the thread, else a new one (to
    ``reply_to_id``): (its id, whether it is new)."""
    existing = db.session.execute(
        sa.select(ForumPost.id)
        .where(
            ForumPost.thread_id == thread_id,
            ForumPost.author_id == author.id,
            ForumPost.number > 1,
            ForumPost.body == body,
        )
        .order_by(ForumPost.id)
        .limit(1)
    ).scalar_one_or_none()
    if existing is not None:
        return existing, False
    view = posts.create_post(author, thread_id, {"body": body, "reply_to_id": reply_to_id})
    return view.post.id, True


def ensure_reaction(member: Member, post_id: int, reaction: str) -> bool:
    """The member's reaction on a visible post (not their own); whether it is new."""
    post = db.session.get(ForumPost, post_id)
    if post is None or not post.visible or post.author_id == member.id:
        return False
    mine = db.session.get(ForumReaction, (post_id, member.id, reaction))
    if mine is not None:
        return False
    posts.react_to_post(member, post_id, reaction, True)
    return True


def first_post_id(thread_id: int) -> int:
    """The id of the thread's first post."""
    return db.session.execute(
        sa.select(ForumPost.id).where(ForumPost.thread_id == thread_id, ForumPost.number == 1)
    ).scalar_one()


def seed_forum() -> None:
    """Categories (two under 城市生活), four threads with replies, reactions, a pinned rule."""
    members = demo_members(
        {"linxiaoyu"} | {t[1] for t in THREADS} | {r[0] for t in THREADS for r in t[5]}
        | {r[2] for r in REACTIONS}
    )  # fmt: skip
    organiser = members["linxiaoyu"]
    added = Added()
    ids: dict[str, int] = {}
    for position, (name, description, extra) in enumerate(CATEGORIES):
        ids[name], created = ensure_category(
            organiser, name, description=description, position=position, **extra
        )
        added.count("categories", created)
        for child_position, child in enumerate(SUBCATEGORIES.get(name, [])):
            ids[child], created = ensure_category(
                organiser, child, ids[name], position=child_position
            )
            added.count("categories", created)
    posts: dict[str, list[int]] = {}
    for category, author, title, body, tags, replies in THREADS:
        thread_id, created = ensure_thread(
            members[author], ids[category], {"title": title, "body": body, "tags": tags}
        )
        added.count("threads", created)
        if created and title in PINNED:
            moderation.moderate_thread(organiser, thread_id, {"action": "pin"})
        posts[title] = [first_post_id(thread_id)]
        for reply_author, reply_body, reply_to in replies:
            target = posts[title][reply_to + 1] if reply_to is not None else None
            post_id, created = ensure_reply(members[reply_author], thread_id, reply_body, target)
            posts[title].append(post_id)
            added.count("replies", created)
    for title, index, who, reaction in REACTIONS:
        added.count("reactions", ensure_reaction(members[who], posts[title][index], reaction))
    print(f"demo forum: {added.summary()}")
