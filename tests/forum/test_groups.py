"""Forum categories that belong to an alliance: its members read and write, its admins
moderate there (and nowhere else)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.forum.helpers import BODY


@dataclass(frozen=True)
class Group:
    """A private alliance (made by the organiser) with two forum categories of its own, a
    members-only one and an open one, beside a public category; a thread in each."""

    alliance_id: int
    owner: Any  # an admin of the alliance (not its owner: the organiser is)
    member: Any
    outsider: Any
    group: dict[str, Any]  # the members-only category
    inside: dict[str, Any]  # the member's thread there
    shown: dict[str, Any]  # the member's thread in the open category
    elsewhere: dict[str, Any]  # the outsider's thread in the public category


@pytest.fixture
def group(client, auth_headers, forum, organiser, make_member):
    owner = make_member(display_name="盟主")
    member, outsider = make_member(), make_member()
    r = client.post("/api/v1/alliances", headers=auth_headers(organiser),
                    json={"name": "设计师联盟", "visibility": "private"})  # fmt: skip
    aid = r.get_json()["id"]
    invite = client.post(
        f"/api/v1/alliances/{aid}/invites", headers=auth_headers(organiser), json={}
    )
    code = invite.get_json()["code"]
    for m in (owner, member):
        assert (
            client.post(
                f"/api/v1/alliances/invites/{code}/accept", headers=auth_headers(m)
            ).status_code
            == 200
        )
    client.patch(f"/api/v1/alliances/{aid}/members/{owner.id}", headers=auth_headers(organiser),
                 json={"role": "admin"})  # fmt: skip
    group = forum.category(organiser, "联盟内部", post_policy="group", group_id=aid)
    open_group = forum.category(
        organiser, "联盟公开区", post_policy="group", group_id=aid, members_only=False
    )
    public = forum.category(organiser, "大厅")
    return Group(
        alliance_id=aid,
        owner=owner,
        member=member,
        outsider=outsider,
        group=group,
        inside=forum.thread(member, group["id"], "联盟内部讨论", body="内部讨论的报价问题。"),
        shown=forum.thread(member, open_group["id"], "联盟公开讨论", body="公开讨论的报价问题。"),
        elsewhere=forum.thread(outsider, public["id"], "大厅里的主题", body="大厅里的报价问题。"),
    )


def test_a_group_category_needs_an_alliance_that_exists(forum, organiser):
    nowhere = {"name": "不存在的小组", "post_policy": "group", "group_id": 999999}
    unknown = forum.call(organiser, "POST", "/categories", 422, json=nowhere)
    assert unknown["code"] == "forum_group_not_found"


def test_outsiders_see_an_alliances_open_category_but_post_nowhere_in_it(forum, group):
    categories = forum.call(group.outsider, "GET", "/categories", 200)["items"]
    names = {c["name"]: c["can_post"] for c in categories}
    assert names == {"联盟公开区": False, "大厅": True}
    assert {c["name"] for c in forum.call(group.member, "GET", "/categories", 200)["items"]} == {
        "联盟内部",
        "联盟公开区",
        "大厅",
    }
    listed = [t["id"] for t in forum.call(group.outsider, "GET", "/threads", 200)["items"]]
    assert group.inside["id"] not in listed and group.shown["id"] in listed
    forum.call(group.outsider, "POST", f"/threads/{group.shown['id']}/posts", 403,
               json={"body": BODY})  # fmt: skip


def test_a_members_only_category_does_not_exist_for_outsiders(forum, group):
    outsider, members_only = group.outsider, group.group["id"]
    forum.call(outsider, "GET", f"/threads/{group.inside['id']}", 404)
    forum.call(outsider, "GET", f"/categories/{members_only}", 404)
    forum.call(outsider, "GET", "/threads", 404, query_string={"category_id": members_only})
    forum.call(
        outsider,
        "POST",
        "/threads",
        404,
        json={"category_id": members_only, "title": "外人发帖", "body": BODY},
    )


def test_search_finds_the_members_only_threads_for_members_alone(forum, group):
    hits = forum.call(group.outsider, "GET", "/search", 200, query_string={"q": "报价"})["items"]
    assert {h["thread_id"] for h in hits} == {group.shown["id"], group.elsewhere["id"]}
    found = forum.call(group.member, "GET", "/search", 200, query_string={"q": "报价"})["items"]
    assert len(found) == 3


def test_a_mention_of_an_outsider_inside_the_members_category_tells_them_nothing(forum, group):
    outsider_handle = forum.at("/api/v1").call(group.outsider, "GET", "/me", 200)["username"]
    forum.reply(group.member, group.inside["id"], f"@{outsider_handle} 你看不到这里。")
    assert forum.inbox(group.outsider) == []


def test_the_alliances_admin_moderates_its_categories_and_no_others(forum, group):
    forum.call(group.owner, "POST", f"/threads/{group.inside['id']}/moderation", 200,
               json={"action": "lock"})  # fmt: skip
    forum.call(group.owner, "POST", f"/threads/{group.elsewhere['id']}/moderation", 403,
               json={"action": "lock"})  # fmt: skip
    thread = forum.call(group.owner, "GET", f"/threads/{group.inside['id']}", 200)
    assert thread["permissions"]["moderate"] is True


def test_alliance_admins_pin_in_their_category_and_only_staff_for_the_site(
    client, auth_headers, forum, organiser, make_member
):
    """An alliance admin who is not staff pinned a thread of their open group category for the
    whole site; now they pin in the category, and the front page is staff's."""
    admin = make_member(display_name="联盟管理员")
    r = client.post(
        "/api/v1/alliances", headers=auth_headers(organiser), json={"name": "插画师联盟"}
    )
    aid = r.get_json()["id"]
    joined = client.post(f"/api/v1/alliances/{aid}/join", headers=auth_headers(admin), json={})
    assert joined.status_code == 200
    promoted = client.patch(f"/api/v1/alliances/{aid}/members/{admin.id}",
                            headers=auth_headers(organiser), json={"role": "admin"})  # fmt: skip
    assert promoted.status_code == 200, promoted.get_json()
    category = forum.category(
        organiser, "插画公开区", post_policy="group", group_id=aid, members_only=False
    )
    older = forum.thread(admin, category["id"], "联盟置顶帖", body=BODY)
    newer = forum.thread(organiser, category["id"], "后来的主题", body=BODY)
    path = f"/threads/{older['id']}/moderation"
    refused = forum.call(admin, "POST", path, 403, json={"action": "pin", "scope": "site"})
    assert refused["code"] == "forum_pin_site_staff_only"
    pinned = forum.call(admin, "POST", path, 200, json={"action": "pin"})
    assert (pinned["pinned"], pinned["pinned_globally"]) == (True, False)
    reader = make_member()
    front = forum.call(reader, "GET", "/threads", 200)["items"]
    assert [t["id"] for t in front][:2] == [newer["id"], older["id"]]  # not pinned on the front
    inside = forum.call(
        reader, "GET", "/threads", 200, query_string={"category_id": category["id"]}
    )
    assert [t["id"] for t in inside["items"]] == [older["id"], newer["id"]]
    staff = forum.call(organiser, "POST", path, 200, json={"action": "pin", "scope": "site"})
    assert staff["pinned_globally"] is True
    front = forum.call(reader, "GET", "/threads", 200)["items"]
    assert front[0]["id"] == older["id"] and front[0]["pinned_globally"] is True
    # what staff pinned for the site, the alliance admin neither narrows nor lifts
    for action in ({"action": "pin"}, {"action": "unpin"}):
        refused = forum.call(admin, "POST", path, 403, json=action)
        assert refused["code"] == "forum_pin_site_staff_only"
    front = forum.call(reader, "GET", "/threads", 200)["items"]
    assert front[0]["id"] == older["id"] and front[0]["pinned_globally"] is True
    assert forum.call(organiser, "POST", path, 200, json={"action": "unpin"})["pinned"] is False


def test_migration_0011_keeps_site_pins_but_not_those_of_group_categories(
    app, client, auth_headers, forum, organiser
):
    """Before 0011 every pin was site-wide, an alliance admin's too: after it, pins of the
    site's own categories stay on the front page, pins in a group's category stay there."""
    import importlib.util
    from pathlib import Path

    import sqlalchemy as sa

    from server.extensions import db
    from server.forum.models import ForumThread

    path = Path(__file__).resolve().parents[2] / "migrations/versions/0011_forum_pin_scope.py"
    spec = importlib.util.spec_from_file_location("migration_0011", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    r = client.post("/api/v1/alliances", headers=auth_headers(organiser), json={"name": "摄影联盟"})
    group = forum.category(organiser, "联盟区", post_policy="group", group_id=r.get_json()["id"])
    site = forum.category(organiser, "站务公告")
    in_group = forum.thread(organiser, group["id"], "联盟里置顶的", body=BODY)["id"]
    on_site = forum.thread(organiser, site["id"], "全站置顶的", body=BODY)["id"]
    unpinned = forum.thread(organiser, site["id"], "没有置顶的", body=BODY)["id"]
    with app.app_context():
        db.session.execute(
            sa.update(ForumThread)
            .where(ForumThread.id.in_([in_group, on_site]))
            .values(pinned=True, pinned_globally=False)
        )
        db.session.execute(sa.text(module.PIN_SITE_WIDE))
        rows = dict(
            db.session.execute(
                sa.select(ForumThread.id, ForumThread.pinned_globally).where(
                    ForumThread.id.in_([in_group, on_site, unpinned])
                )
            ).all()
        )
        db.session.rollback()
    assert rows == {in_group: False, on_site: True, unpinned: False}
