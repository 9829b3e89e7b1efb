"""Demo forum content for ``make demo``: categories and threads in Simplified and Traditional
Chinese, written through the service so that counters, search and notifications are real."""

from __future__ import annotations

import sqlalchemy as sa

from server.extensions import db
from server.forum import categories, service
from server.forum.models import ForumCategory
from server.members.models import Member

CATEGORIES = [
    ("公告", "组织者发布的通知与活动安排。", {"read_only": True}),
    ("接单与定价", "报价、合同、收款、甲方沟通：自由职业的生意经。", {}),
    ("新媒体运营", "公众号、小红书、视频号、播客的运营心得。", {}),
    ("城市生活", "在不同城市之间工作与生活。", {}),
]
SUBCATEGORIES = {"城市生活": ["杭州", "成都"]}

THREADS = [
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


def seed_forum() -> None:
    if db.session.execute(sa.select(ForumCategory.id).limit(1)).first():
        print("demo forum: already seeded")
        return
    members = {
        m.username: m
        for m in db.session.execute(sa.select(Member).where(Member.deleted_at.is_(None))).scalars()
    }
    organiser = members["linxiaoyu"]
    ids: dict[str, int] = {}
    for position, (name, description, extra) in enumerate(CATEGORIES):
        view = categories.create_category(
            organiser, {"name": name, "description": description, "position": position, **extra}
        )
        ids[name] = view["category"].id
        for child_position, child in enumerate(SUBCATEGORIES.get(name, [])):
            child_view = categories.create_category(
                organiser, {"name": child, "parent_id": ids[name], "position": child_position}
            )
            ids[child] = child_view["category"].id
    for category, author, title, body, tags, replies in THREADS:
        detail = service.create_thread(
            members[author],
            {"category_id": ids[category], "title": title, "body": body, "tags": tags},
        )
        posted: list[int] = []
        for reply_author, reply_body, reply_to in replies:
            view = service.create_post(
                members[reply_author],
                detail.thread.id,
                {
                    "body": reply_body,
                    "reply_to_id": posted[reply_to] if reply_to is not None else None,
                },
            )
            posted.append(view.post.id)
    print(f"demo forum: {len(ids)} categories, {len(THREADS)} threads")
