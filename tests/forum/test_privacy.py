"""The forum's part of export (GET /me/export) and erasure (DELETE /me)."""

from __future__ import annotations

from tests.conftest import PASSWORD
from tests.erasure import all_text_in_database


def test_export_holds_what_the_member_wrote_and_did(
    client, forum, make_member, auth_headers, category
):
    member, other = make_member(), make_member()
    thread = forum.thread(member, category["id"], "我的导出主题", tags=["导出"])
    theirs = forum.thread(other, category["id"], "别人的主题标题")
    reply = forum.reply(member, theirs["id"], "我在别人主题里的回复。")
    first = forum.posts(member, theirs["id"])[0]
    forum.call(member, "PUT", f"/posts/{first['id']}/reactions/thanks", 200)
    forum.call(member, "PUT", f"/threads/{theirs['id']}/bookmark", 200)
    forum.call(
        member,
        "POST",
        f"/posts/{first['id']}/flags",
        201,
        json={"reason": "other", "note": "标题党"},
    )
    data = client.get("/api/v1/me/export", headers=auth_headers(member)).get_json()
    section = data["sections"]["forum"]
    assert [t["title"] for t in section["threads"]] == ["我的导出主题"]
    assert section["threads"][0]["tags"] == ["导出"]
    assert [p["body"] for p in section["posts"]] == [
        "这是一条足够长的测试内容。",
        "我在别人主题里的回复。",
    ]
    assert section["posts"][1]["id"] == reply["id"]
    assert section["reactions"][0]["reaction"] == "thanks"
    followed = {s["thread_id"]: s for s in section["threads_followed"]}
    assert (
        followed[theirs["id"]]["bookmarked_at"]
        and followed[thread["id"]]["notification_level"] == "watching"
    )
    assert section["flags"] == [
        {
            "post_id": first["id"],
            "reason": "other",
            "note": "标题党",
            "created_at": section["flags"][0]["created_at"],
        }
    ]


def test_erasure_removes_what_they_wrote_and_keeps_others_conversations(
    app, client, forum, make_member, auth_headers, category
):
    member = make_member(username="leaving")
    other = make_member(username="staying")
    alone = forum.thread(member, category["id"], "无人回复标记甲", body="私人正文标记乙乙乙")
    answered = forum.thread(member, category["id"], "私人标题标记庚", body="私人正文标记丙丙丙")
    kept = forum.reply(other, answered["id"], "别人的回复应当保留。")
    theirs = forum.thread(other, category["id"], "别人的主题标题")
    mine = forum.reply(member, theirs["id"], "@staying 私人回复标记丁丁丁")
    forum.call(member, "PATCH", f"/posts/{mine['id']}", 200, json={"body": "私人新版标记戊戊戊"})
    first = forum.posts(member, theirs["id"])[0]
    forum.call(member, "PUT", f"/posts/{first['id']}/reactions/like", 200)
    forum.call(
        member,
        "POST",
        f"/posts/{kept['id']}/flags",
        201,
        json={"reason": "other", "note": "私人举报备注己"},
    )
    assert "私人回复标记丁丁丁" in all_text_in_database(app)

    r = client.delete("/api/v1/me", headers=auth_headers(member), json={"password": PASSWORD})
    assert r.status_code == 204

    everything = all_text_in_database(app)
    for marker in (
        "无人回复标记甲",
        "私人正文标记乙",
        "私人正文标记丙",
        "私人回复标记丁",
        "私人新版标记戊",
        "私人举报备注己",
        "私人标题标记庚",
    ):
        assert marker not in everything, marker
    forum.call(other, "GET", f"/threads/{alone['id']}", 404)
    assert forum.call(other, "GET", f"/threads/{answered['id']}", 200)["title"] == "（标题已删除）"
    posts = forum.posts(other, answered["id"])
    assert posts[0]["deleted"] is True and posts[0]["author"]["display_name"] == "已注销用户"
    assert posts[1]["html"] and posts[1]["id"] == kept["id"]
    detail = forum.call(other, "GET", f"/threads/{theirs['id']}", 200)
    assert (detail["reply_count"], detail["reaction_count"]) == (0, 0)
    assert forum.call(other, "GET", "/search", 200, query_string={"q": "私人"})["items"] == []
    inbox = client.get("/api/v1/notifications", headers=auth_headers(other)).get_json()["items"]
    assert inbox == []
