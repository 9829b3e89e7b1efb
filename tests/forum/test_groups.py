"""Forum categories that belong to an alliance: its members read and write, its admins
moderate there (and nowhere else)."""

from __future__ import annotations

BODY = "这是一条足够长的测试内容。"


def test_an_alliance_category_is_its_members_own(
    client, auth_headers, forum, organiser, make_member
):
    owner = make_member(display_name="盟主")
    member, outsider = make_member(), make_member()
    api = lambda m, method, path, status, **kw: forum.call(m, method, path, status, **kw)  # noqa: E731
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
    nowhere = {"name": "不存在的小组", "post_policy": "group", "group_id": 999999}
    unknown = api(organiser, "POST", "/categories", 422, json=nowhere)
    assert unknown["code"] == "forum_group_not_found"
    group = forum.category(organiser, "联盟内部", post_policy="group", group_id=aid)
    open_group = forum.category(
        organiser, "联盟公开区", post_policy="group", group_id=aid, members_only=False
    )
    public = forum.category(organiser, "大厅")

    inside = forum.thread(member, group["id"], "联盟内部讨论", body="内部讨论的报价问题。")
    shown = forum.thread(member, open_group["id"], "联盟公开讨论", body="公开讨论的报价问题。")
    elsewhere = forum.thread(outsider, public["id"], "大厅里的主题", body="大厅里的报价问题。")

    names = {c["name"]: c["can_post"] for c in api(outsider, "GET", "/categories", 200)["items"]}
    assert names == {"联盟公开区": False, "大厅": True}
    assert {c["name"] for c in api(member, "GET", "/categories", 200)["items"]} == {
        "联盟内部",
        "联盟公开区",
        "大厅",
    }
    listed = [t["id"] for t in api(outsider, "GET", "/threads", 200)["items"]]
    assert inside["id"] not in listed and shown["id"] in listed
    api(outsider, "GET", f"/threads/{inside['id']}", 404)
    api(outsider, "GET", f"/categories/{group['id']}", 404)
    api(outsider, "GET", "/threads", 404, query_string={"category_id": group["id"]})
    api(
        outsider,
        "POST",
        "/threads",
        404,
        json={"category_id": group["id"], "title": "外人发帖", "body": BODY},
    )
    api(outsider, "POST", f"/threads/{shown['id']}/posts", 403, json={"body": BODY})
    hits = api(outsider, "GET", "/search", 200, query_string={"q": "报价"})["items"]
    assert {h["thread_id"] for h in hits} == {shown["id"], elsewhere["id"]}
    assert len(api(member, "GET", "/search", 200, query_string={"q": "报价"})["items"]) == 3
    # a mention of an outsider inside the members' category tells them nothing
    outsider_handle = client.get("/api/v1/me", headers=auth_headers(outsider)).get_json()[
        "username"
    ]
    forum.reply(member, inside["id"], f"@{outsider_handle} 你看不到这里。")
    inbox = client.get("/api/v1/notifications", headers=auth_headers(outsider)).get_json()["items"]
    assert inbox == []
    # the alliance's admin moderates its categories, not the others
    api(owner, "POST", f"/threads/{inside['id']}/moderation", 200, json={"action": "lock"})
    api(owner, "POST", f"/threads/{elsewhere['id']}/moderation", 403, json={"action": "lock"})
    assert api(owner, "GET", f"/threads/{inside['id']}", 200)["permissions"]["moderate"] is True


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
