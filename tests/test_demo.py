"""``flask seed-demo`` (``make demo``): every feature gets realistic content, read back through
the API as a client would; seeding twice adds nothing; a database that already has forum
categories of its own still gets the demo's."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.extensions import db
from server.members.models import Member

DEMO_THREADS = {
    "第一次接品牌短片，报价怎么算才不亏？",
    "公眾號從零到一萬粉，我做對了哪幾件事",
    "杭州有哪些适合自由职业者的共享办公空间？",
    "社区守则（请先阅读）",
}
ALLIANCES = {
    "杭州新媒体创作者联盟": "owner",
    "成都自由设计师联盟": "owner",
    "港臺獨立創作者聯盟": "admin",
}


def _seed(app) -> str:
    result = app.test_cli_runner().invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    return result.output


def _items(body):
    """A list's items (every list answers ``{items, next_cursor}``)."""
    return body["items"]


def _member(app, username: str) -> Member:
    with app.app_context():
        return db.session.execute(sa.select(Member).where(Member.username == username)).scalar_one()


class Api:
    """One member's reads, all in one session (``tests/caller.py`` with that session's headers)."""

    def __init__(self, caller, member):
        self.caller, self.headers = caller, caller.auth_headers(member)

    def get(self, path, status=200):
        return self.caller.call(None, "GET", path, status, headers=self.headers)


def _row_counts(app) -> dict[str, int]:
    with app.app_context():
        return {
            table.name: db.session.execute(
                sa.select(sa.func.count()).select_from(table)
            ).scalar_one()
            for table in db.metadata.sorted_tables
        }


@pytest.fixture
def seeded(app):
    """What ``flask seed-demo`` printed, once it filled the database."""
    return _seed(app)


@pytest.fixture
def me(app, caller, seeded):
    """The organiser the demo signs in as (林晓雨), reading through the API."""
    return Api(caller, _member(app, "linxiaoyu"))


def test_the_demo_says_who_is_who(app, caller, seeded):
    """Accounts, their password and roles, and each alliance's roles."""
    assert "<handle>@jiayuan.example / jiayuan-demo-2026" in seeded
    assert "linxiaoyu (organiser)" in seeded and "jyadmin (admin)" in seeded
    assert "wangjiahui (moderator)" in seeded
    assert "成都自由设计师联盟 (private, 4 members): owner linxiaoyu, admins chenmo" in seeded
    assert "sign in as linxiaoyu@jiayuan.example (organiser)" in seeded

    with app.app_context():
        names = db.session.execute(sa.select(Member.display_name)).scalars().all()
    assert len(names) == 11 and "林晓雨" in names and "黃詩婷" in names
    assert Api(caller, _member(app, "linxiaoyu")).get("/api/v1/me")["role"] == "organiser"


def test_the_demo_organiser_has_alliances_a_request_and_an_invite(app, caller, me):
    """Hers, with her role in each; a request waiting; an invite link."""
    mine = {a["name"]: a for a in _items(me.get("/api/v1/alliances?scope=mine"))}
    assert {name: a["my_role"] for name, a in mine.items()} == ALLIANCES
    assert mine["杭州新媒体创作者联盟"]["member_count"] == 6
    assert set(mine["港臺獨立創作者聯盟"]["tags"]) == {"攝影", "音樂", "翻譯"}
    chengdu, taipei = mine["成都自由设计师联盟"]["id"], mine["港臺獨立創作者聯盟"]["id"]
    waiting = _items(me.get(f"/api/v1/alliances/{chengdu}/requests"))
    assert [r["member"]["username"] for r in waiting] == ["zhaomin"]
    assert len(_items(me.get(f"/api/v1/alliances/{taipei}/invites"))) == 1
    found = _items(me.get("/api/v1/alliances?q=杭州"))
    assert [a["name"] for a in found] == ["杭州新媒体创作者联盟"]
    sunli = Api(caller, _member(app, "sunli"))
    sunli.get(f"/api/v1/alliances/{taipei}", status=404)  # secret, and she is not in it
    asking = Api(caller, _member(app, "zhaomin"))
    assert asking.get(f"/api/v1/alliances/{chengdu}")["request_status"] == "pending"


def test_the_demo_organiser_has_channels_and_a_direct_conversation_to_read(app, me):
    """Her channels and the direct conversation, with what she has not read."""
    conversations = _items(me.get("/api/v1/chat/conversations"))
    by_name = {c["name"]: c for c in conversations if c["kind"] == "channel"}
    unread = {name: (c["unread_count"], c["mention_count"]) for name, c in by_name.items()}
    assert unread == {"综合闲聊": (3, 1), "接单信息": (0, 0), "管理组": (0, 0), "作品互评": (1, 0)}
    assert by_name["管理组"]["private"] is True
    (dm,) = [c for c in conversations if c["kind"] == "direct"]
    assert dm["unread_count"] == 1
    assert dm["last_message"]["sender"]["username"] == "chenmo"
    history = me.get(f"/api/v1/chat/conversations/{by_name['综合闲聊']['id']}/messages")
    lines = history["messages"]
    assert len(lines) == 5 and "@linxiaoyu" in lines[2]["html"]
    assert lines[1]["reply_to_id"] == lines[0]["id"] == lines[4]["reply_to_id"]
    assert "臺北" in lines[3]["html"]  # Traditional beside Simplified
    to_join = _items(me.get("/api/v1/chat/channels?joined=false"))
    assert [c["name"] for c in to_join] == ["閒聊"]
    with app.app_context():
        from server.chat.models import MessageReaction

        reactions = db.session.execute(sa.select(sa.func.count(MessageReaction.message_id)))
        assert reactions.scalar_one() == 8


def test_the_demo_forum_has_its_threads_and_an_alliances_own(app, caller, me):
    """The demo's threads, the alliance's own category and its thread (members only)."""
    titles = {t["title"] for t in _items(me.get("/api/v1/forum/threads?limit=50"))}
    assert DEMO_THREADS < titles and "五月选题会纪要：品牌合作怎么接才不伤口碑" in titles
    sunli = Api(caller, _member(app, "sunli"))
    outside_titles = {t["title"] for t in _items(sunli.get("/api/v1/forum/threads?limit=50"))}
    assert "五月选题会纪要：品牌合作怎么接才不伤口碑" in outside_titles  # she is in that alliance
    stranger = Api(caller, _member(app, "wuhaoran"))
    stranger_titles = {t["title"] for t in _items(stranger.get("/api/v1/forum/threads?limit=50"))}
    assert "五月选题会纪要：品牌合作怎么接才不伤口碑" not in stranger_titles
    rules = [t for t in _items(me.get("/api/v1/forum/threads?limit=50")) if t["pinned"]]
    assert [t["title"] for t in rules] == ["社区守则（请先阅读）"]


def test_the_demo_leaves_notifications_to_read(app, caller, me):
    """A join request, a mention, a direct message, the announcement (jobs run at once in
    tests)."""
    assert me.get("/api/v1/notifications/unread-count")["unread"] >= 3
    sunli = Api(caller, _member(app, "sunli"))
    kinds = {n["kind"] for n in _items(sunli.get("/api/v1/notifications?limit=50"))}
    assert "announcement" in kinds


def test_seeding_twice_adds_nothing(app):
    first = _seed(app)
    assert "(already there)" not in first
    counts = _row_counts(app)
    assert counts["members"] == 11 and counts["alliances"] == 3 and counts["alliance_members"] == 14
    assert counts["forum_categories"] == 7 and counts["forum_threads"] == 5
    assert counts["forum_posts"] == 10 and counts["forum_reactions"] == 5
    assert counts["chat_conversations"] == 6 and counts["chat_messages"] == 19
    second = _seed(app)
    assert _row_counts(app) == counts
    for seeder in ("demo forum:", "demo alliances:", "demo chat:"):
        (line,) = [x for x in second.splitlines() if x.startswith(seeder)]
        assert line.endswith("(already there)"), line


def test_demo_forum_beside_categories_of_ones_own(caller, app, client, auth_headers, make_member):
    organiser = make_member(role="organiser", display_name="站长")
    made = client.post(
        "/api/v1/forum/categories",
        json={"name": "摄影器材", "description": "相机与镜头。"},
        headers=auth_headers(organiser),
    )
    assert made.status_code == 201, made.get_data(as_text=True)
    _seed(app)
    me = Api(caller, _member(app, "linxiaoyu"))
    names = {c["name"] for c in _items(me.get("/api/v1/forum/categories"))}
    assert {"摄影器材", "公告", "接单与定价", "新媒体运营", "城市生活"} <= names
    titles = {t["title"] for t in _items(me.get("/api/v1/forum/threads?limit=50"))}
    assert DEMO_THREADS < titles
