"""Demo alliances for ``make demo``: three 微聯盟 of the demo members, one of each visibility,
with owners, admins and members, a join request waiting for a decision, an invite link, an
alliance's own forum category and an announcement to everyone — all through the services, so
counters, notifications, search and the forum's group rules are real.

Idempotent item by item: an alliance is the (undeleted) one of that name, a membership, role,
request or the announcement is made only if it is not there, and an invite link only when
someone still has to come in through one. Running it twice adds nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import sqlalchemy as sa

from server.alliances import joining, membership, service
from server.alliances.models import Alliance, AllianceJoinRequest
from server.alliances.scope import role_in
from server.common.demo import Added
from server.extensions import db
from server.forum.demo import ensure_category, ensure_reply, ensure_thread
from server.members.bootstrap import demo_members
from server.members.models import Member
from server.notifications.announcements import create_announcement
from server.notifications.models import Announcement

CREATOR = "linxiaoyu"  # the demo organiser: only organisers start alliances by default


@dataclass
class DemoAlliance:
    name: str
    description: str
    city: str
    tags: list[str]
    visibility: str  # public: join at once; private: by request; secret: by invite
    owner: str  # the creator hands it over when it is someone else
    admins: list[str]
    members: list[str]
    requests: dict[str, str] = field(default_factory=dict)  # approved: handle → message
    pending: dict[str, str] = field(default_factory=dict)  # left waiting: handle → message


ALLIANCES = [
    DemoAlliance(
        name="杭州新媒体创作者联盟",
        description="在杭州（也欢迎线上）做公众号、小红书、短视频和播客的创作者。"
        "每月一次线下选题会，互相介绍品牌合作，一起把内容做成一门可持续的生意。",
        city="杭州",
        tags=["新媒体", "短视频", "公众号"],
        visibility="public",
        owner="linxiaoyu",
        admins=["heyifan"],
        members=["heyifan", "chenmo", "zhaomin", "huangshiting", "sunli"],
    ),
    DemoAlliance(
        name="成都自由设计师联盟",
        description="成都及周边的平面、品牌、插画和 UI 设计师：互评作品、交流报价、转介绍项目。"
        "申请加入时请简单介绍你的作品。",
        city="成都",
        tags=["设计", "自由职业", "报价"],
        visibility="private",
        owner="linxiaoyu",
        admins=["chenmo"],
        members=["chenmo", "zhouxu", "liuyang"],
        requests={
            "chenmo": "成都本地的视频创作者，常和设计师合作品牌短片，想多认识大家。",
            "zhouxu": "做小程序和后端开发，也接设计师的网站外包，希望找到长期合作的设计师。",
            "liuyang": "给自由职业者做财税咨询，可以帮大家看看报价、合同和发票的问题。",
        },
        pending={
            "zhaomin": "你好！我在广州经营手工皂网店，包装和详情页都是自己设计的，"
            "想和成都的设计师们多交流。",
        },
    ),
    DemoAlliance(
        name="港臺獨立創作者聯盟",
        description="在臺北、香港生活的攝影師、音樂人、譯者與寫作者。"
        "分享展演與接案資訊，互相支援跨境合作；僅限邀請加入。",
        city="臺北",
        tags=["攝影", "音樂", "翻譯"],
        visibility="secret",
        owner="huangshiting",
        admins=["linxiaoyu"],  # the creator, once she has handed the alliance over
        members=["huangshiting", "wuhaoran", "wangjiahui"],
    ),
]

# The first alliance's own forum category: its members read and post there, its admins
# moderate it (the forum's group rules).
GROUP_CATEGORY = (
    "杭州新媒体创作者联盟",
    "联盟成员的选题会纪要、合作机会与内部讨论，仅成员可见。",
)
GROUP_THREAD = (
    "heyifan",
    "五月选题会纪要：品牌合作怎么接才不伤口碑",
    "这次到场十二人。结论三条：一、商单每月不超过内容的三成；二、合作前先看品牌的差评；"
    "三、报价表统一放在联盟共享文档里，新成员可以参考。下次选题会主题：播客的商业化。",
    ["选题会", "商单"],
    [
        ("chenmo", "第二条太重要了，上次接的一个品牌后来被曝光质量问题，评论区全是质问。"),
        ("zhaomin", "报价表能不能加一栏「是否含投流」？电商类合作经常默认要投流。"),
    ],
)

ANNOUNCEMENT = (
    "微联盟上线：杭州、成都、港台的创作者联盟等你加入",
    "家园现在可以组建和加入微联盟了。杭州新媒体创作者联盟可直接加入；"
    "成都自由设计师联盟需要申请；港臺獨立創作者聯盟僅限邀請。"
    "联盟里有自己的聊天频道和论坛版块，欢迎来聊。",
)


def find_alliance(name: str) -> Alliance | None:
    """The (undeleted) alliance of this name, the oldest if several."""
    return db.session.execute(
        sa.select(Alliance)
        .where(Alliance.name == name, Alliance.deleted_at.is_(None))
        .order_by(Alliance.id)
        .limit(1)
    ).scalar_one_or_none()


def _request_of(alliance_id: int, member_id: int) -> AllianceJoinRequest | None:
    return db.session.execute(
        sa.select(AllianceJoinRequest).where(
            AllianceJoinRequest.alliance_id == alliance_id,
            AllianceJoinRequest.member_id == member_id,
        )
    ).scalar_one_or_none()


def _ensure_alliance(spec: DemoAlliance, m: dict[str, Member], added: Added) -> Alliance:
    creator = m[CREATOR]
    alliance = find_alliance(spec.name)
    added.count("alliances", alliance is None)
    if alliance is None:
        data = {
            "name": spec.name,
            "description": spec.description,
            "city": spec.city,
            "tags": spec.tags,
            "visibility": spec.visibility,
        }
        alliance = service.create_alliance(creator, data).alliance
    aid = alliance.id
    # who is the manager now: the creator until the alliance is handed over
    manager = creator if role_in(creator.id, aid) == "owner" else m[spec.owner]
    missing = [h for h in spec.members if role_in(m[h].id, aid) is None]
    if spec.visibility == "public":
        for handle in missing:
            joining.join_alliance(m[handle], aid)
    elif spec.visibility == "private":
        for handle in missing:  # ask, and the manager approves
            request = _request_of(aid, m[handle].id)
            if request is None or request.status != "pending":
                joining.join_alliance(m[handle], aid, spec.requests.get(handle, ""))
                request = _request_of(aid, m[handle].id)
            if request is not None:
                joining.decide_join_request(manager, aid, request.id, approve=True)
    elif missing:  # secret: through an invite link (it stays listed for the admins)
        _invite, code = joining.create_invite(
            manager, aid, {"expires_in_hours": 7 * 24, "max_uses": 20}
        )
        added.count("invite links", True)
        for handle in missing:
            joining.accept_invite(m[handle], code)
    for handle in spec.members:
        added.count("memberships", handle in missing)
    for handle in spec.admins:
        if role_in(m[handle].id, aid) == "member":
            membership.set_member_role(manager, aid, m[handle].id, "admin")
    if role_in(m[spec.owner].id, aid) != "owner":
        # the creator becomes admin
        membership.set_member_role(manager, aid, m[spec.owner].id, "owner")
    for handle, message in spec.pending.items():
        ask = _request_of(aid, m[handle].id) is None and role_in(m[handle].id, aid) is None
        if ask:  # never asked, and not in it: a request for the managers to decide
            joining.join_alliance(m[handle], aid, message)
        added.count("join requests waiting", ask)
    return alliance


def _ensure_group_category(alliance: Alliance, m: dict[str, Member], added: Added) -> None:
    name, description = GROUP_CATEGORY
    category_id, created = ensure_category(
        m[CREATOR], name, description=description, position=10,
        post_policy="group", group_id=alliance.id, members_only=True,
    )  # fmt: skip
    added.count("alliance forum categories", created)
    author, title, body, tags, replies = GROUP_THREAD
    thread_id, created = ensure_thread(
        m[author], category_id, {"title": title, "body": body, "tags": tags}
    )
    added.count("alliance threads", created)
    for reply_author, reply_body in replies:
        added.count("alliance replies", ensure_reply(m[reply_author], thread_id, reply_body)[1])


def _ensure_announcement(author: Member, added: Added) -> None:
    title, body = ANNOUNCEMENT
    exists = db.session.execute(
        sa.select(Announcement.id)
        .where(Announcement.author_id == author.id, Announcement.title == title)
        .limit(1)
    ).first()
    if exists is None:
        # fanned out by the job worker (``make serve`` runs one)
        create_announcement(author, title, body)
    added.count("announcements", exists is None)


def seed_alliances() -> None:
    """Three alliances (public, private, secret), their roles, a waiting request, an invite
    link, the first one's forum category with a thread, and an announcement."""
    handles = {CREATOR}
    for spec in ALLIANCES:
        handles |= {spec.owner, *spec.admins, *spec.members, *spec.pending}
    handles |= {GROUP_THREAD[0], *(r[0] for r in GROUP_THREAD[4])}
    m = demo_members(handles)
    added = Added()
    by_name = {spec.name: _ensure_alliance(spec, m, added) for spec in ALLIANCES}
    _ensure_group_category(by_name[GROUP_CATEGORY[0]], m, added)
    _ensure_announcement(m[CREATOR], added)
    print(f"demo alliances: {added.summary()}")
    for spec in ALLIANCES:
        count = db.session.execute(
            sa.select(Alliance.member_count).where(Alliance.id == by_name[spec.name].id)
        ).scalar_one()
        waiting = "; asking to join: " + ", ".join(spec.pending) if spec.pending else ""
        print(
            f"  {spec.name} ({spec.visibility}, {count} members): owner {spec.owner}, "
            f"admins {', '.join(spec.admins)}{waiting}"
        )
