"""Moderators' actions, each in the audit log with who, what and why."""

from __future__ import annotations


def _log(forum, moderator, **query):
    return forum.call(moderator, "GET", "/moderation/log", 200, query_string=query)["items"]


def test_every_action_is_logged(forum, make_member, organiser, moderator, category):
    author, member = make_member(), make_member()
    other = forum.category(organiser, "别的版块")
    thread = forum.thread(author, category["id"])
    tid = thread["id"]
    reply = forum.reply(member, tid, "一条会被处理的回复。")
    steps = [
        (f"/threads/{tid}/moderation", {"action": "pin", "reason": "精华"}),
        (f"/threads/{tid}/moderation", {"action": "lock", "reason": "已解决"}),
        (
            f"/threads/{tid}/moderation",
            {"action": "move", "category_id": other["id"], "reason": "分类不对"},
        ),
        (f"/posts/{reply['id']}/moderation", {"action": "hide", "reason": "人身攻击"}),
        (f"/posts/{reply['id']}/moderation", {"action": "restore", "reason": "误判"}),
        (f"/posts/{reply['id']}/moderation", {"action": "delete", "reason": "广告"}),
        (
            f"/members/{member.id}/moderation",
            {"action": "silence", "hours": 48, "reason": "多次违规"},
        ),
        (f"/threads/{tid}/moderation", {"action": "unlock", "reason": "重新开放"}),
    ]
    for path, body in steps:
        forum.call(moderator, "POST", path, 200, json=body)
    entries = _log(forum, moderator, limit=100)
    assert [(e["action"], e["reason"]) for e in reversed(entries)] == [
        (b["action"], b["reason"]) for _p, b in steps
    ]
    assert all(e["moderator"]["id"] == moderator.id for e in entries)
    moved = next(e for e in entries if e["action"] == "move")
    assert moved["data"] == {"from_category_id": category["id"], "to_category_id": other["id"]}
    silenced = next(e for e in entries if e["action"] == "silence")
    assert silenced["target_type"] == "member" and silenced["target_id"] == member.id
    assert [
        e["action"] for e in _log(forum, moderator, target_type="post", target_id=reply["id"])
    ] == [
        "delete",
        "restore",
        "hide",
    ]
    detail = forum.call(author, "GET", f"/threads/{tid}", 200)
    assert (detail["pinned"], detail["locked"], detail["category_id"]) == (True, False, other["id"])


def test_repeating_an_action_is_a_conflict(forum, make_member, moderator, category):
    thread = forum.thread(make_member(), category["id"])
    forum.call(
        moderator, "POST", f"/threads/{thread['id']}/moderation", 200, json={"action": "lock"}
    )
    body = forum.call(
        moderator, "POST", f"/threads/{thread['id']}/moderation", 409, json={"action": "lock"}
    )
    assert body["code"] == "forum_action_not_applicable"
    body = forum.call(
        moderator, "POST", f"/threads/{thread['id']}/moderation", 422, json={"action": "move"}
    )
    assert body["code"] == "validation_error" and "category_id" in body["errors"]


def test_moderator_deletion_can_be_restored_and_authors_are_told(
    client, auth_headers, forum, make_member, moderator, category
):
    author, reader = make_member(), make_member()
    thread = forum.thread(author, category["id"])
    first = forum.posts(author, thread["id"])[0]
    forum.call(
        moderator,
        "POST",
        f"/posts/{first['id']}/moderation",
        200,
        json={"action": "delete", "reason": "重复发帖"},
    )
    forum.call(reader, "GET", f"/threads/{thread['id']}", 404)
    assert forum.posts(moderator, thread["id"])[0]["body"]  # kept for review
    forum.call(
        moderator, "POST", f"/posts/{first['id']}/moderation", 200, json={"action": "restore"}
    )
    assert forum.call(reader, "GET", f"/threads/{thread['id']}", 200)["id"] == thread["id"]
    inbox = client.get("/api/v1/notifications", headers=auth_headers(author)).get_json()["items"]
    assert inbox[0]["kind"] == "forum.moderated" and inbox[0]["count"] == 2
    assert inbox[0]["title"] in ("你的帖子已恢复显示", "你的帖子已被版主删除")


def test_flags_from_the_same_member_count_once_and_restored_posts_need_new_flags(
    app, forum, make_member, moderator, category
):
    app.config["FORUM_FLAG_THRESHOLD"] = 2
    try:
        author, a, b, c = (make_member() for _ in range(4))
        thread = forum.thread(author, category["id"])
        reply = forum.reply(author, thread["id"], "一条有争议的回复内容。")
        path = f"/posts/{reply['id']}/flags"
        assert (
            forum.call(a, "POST", path, 201, json={"reason": "spam", "note": "广告"})["hidden"]
            is False
        )
        forum.call(a, "POST", path, 409, json={"reason": "spam"})
        assert forum.call(b, "POST", path, 201, json={"reason": "offensive"})["hidden"] is True
        forum.call(c, "POST", path, 404, json={"reason": "spam"})  # hidden: not visible to flag
        forum.call(
            moderator, "POST", f"/posts/{reply['id']}/moderation", 200, json={"action": "restore"}
        )
        assert forum.call(c, "POST", path, 201, json={"reason": "spam"})["hidden"] is False
        queue = forum.call(moderator, "GET", "/moderation/queue", 200)["items"]
        assert [(q["post_id"], q["flag_count"]) for q in queue] == [(reply["id"], 1)]
    finally:
        app.config["FORUM_FLAG_THRESHOLD"] = 3
