"""Accounts made by operators (``flask create-admin``) and demo members (``flask seed-demo``)."""

from __future__ import annotations

from collections.abc import Iterable

import sqlalchemy as sa

from server.auth.passwords import hash_password
from server.common.search import fold
from server.common.tx import commit
from server.extensions import db
from server.members.models import Member, MemberOccupation
from server.members.service import generate_username, name_key

DEMO_PASSWORD = "jiayuan-demo-2026"  # noqa: S105 - printed by seed-demo, demo data only

DEMO_MEMBERS = [
    # (handle, name, city, occupations, bio, role)
    (
        "linxiaoyu",
        "林晓雨",
        "杭州",
        ["designer", "freelancer"],
        "独立品牌设计师，做过三十多个小店的视觉。",
        "organiser",
    ),
    (
        "chenmo",
        "陈默",
        "成都",
        ["new_media_creator", "video_creator"],
        "拍川西的纪录短片，公众号「慢慢走」主理人。",
        "member",
    ),
    (
        "wangjiahui",
        "王佳慧",
        "北京",
        ["translator", "writer"],
        "英日中三语译者，主要做出版和游戏本地化。",
        "moderator",
    ),
    (
        "zhouxu",
        "周旭",
        "深圳",
        ["developer", "freelancer"],
        "接小程序和后端外包，也在做自己的记账 App。",
        "member",
    ),
    (
        "huangshiting",
        "黃詩婷",
        "臺北",
        ["photographer", "artist"],
        "人像與街頭攝影，偶爾辦小型攝影展。",
        "member",
    ),
    (
        "liuyang",
        "刘洋",
        "上海",
        ["consultant", "entrepreneur"],
        "给自由职业者做财税规划咨询。",
        "member",
    ),
    (
        "zhaomin",
        "赵敏",
        "广州",
        ["ecommerce", "marketer"],
        "经营一家手工皂网店，分享私域运营经验。",
        "member",
    ),
    ("wuhaoran", "吳浩然", "香港", ["musician", "educator"], "獨立音樂人，週末教結他。", "member"),
    (
        "sunli",
        "孙丽",
        "武汉",
        ["gig_worker", "writer"],
        "做过外卖骑手和网约车司机，现在写灵活就业者的故事。",
        "member",
    ),
    (
        "heyifan",
        "何一帆",
        "西安",
        ["video_creator", "new_media_creator"],
        "历史科普 up 主，粉丝十二万。",
        "member",
    ),
]


def ensure_member(
    email: str,
    password: str,
    display_name: str,
    *,
    role: str = "member",
    username: str | None = None,
    city: str | None = None,
    occupations: list[str] | None = None,
    bio: str = "",
) -> Member:
    """Create the account if the address is new; set its role either way."""
    email = email.strip().lower()
    member = db.session.execute(sa.select(Member).where(Member.email == email)).scalar_one_or_none()
    if member is None:
        handle = username or generate_username()
        member = Member(
            email=email,
            username=handle,
            password_hash=hash_password(password),
            display_name=display_name,
            name_key=name_key(display_name, handle),
            city=city,
            city_key=fold(city) if city else None,
            bio=bio,
            occupations=[MemberOccupation(tag=t) for t in sorted(set(occupations or []))],
            occupation_tags=sorted(set(occupations or [])),
        )
        db.session.add(member)
    member.role = role
    commit()
    return member


def seed_members() -> None:
    ensure_member(
        "admin@jiayuan.example", DEMO_PASSWORD, "家园管理员", role="admin", username="jyadmin"
    )
    for handle, name, city, tags, bio, role in DEMO_MEMBERS:
        ensure_member(
            f"{handle}@jiayuan.example", DEMO_PASSWORD, name, role=role, username=handle,
            city=city, occupations=tags, bio=bio,
        )  # fmt: skip
    print(f"demo members: <handle>@jiayuan.example / {DEMO_PASSWORD}")
    print("  jyadmin (admin), " + ", ".join(
        f"{handle} ({role})" for handle, _n, _c, _t, _b, role in DEMO_MEMBERS if role != "member"
    ) + "; the others are members")  # fmt: skip


def demo_members(handles: Iterable[str]) -> dict[str, Member]:
    """The demo accounts with these usernames (``flask seed-demo`` makes them first)."""
    rows = db.session.execute(
        sa.select(Member).where(Member.username.in_(set(handles)), Member.deleted_at.is_(None))
    ).scalars()
    return {m.username: m for m in rows}
