"""Moderators' actions, each in the audit log with who, what and why."""

from __future__ import annotations

from datetime import timedelta

from server.common.time import utcnow


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


def test_an_author_cannot_wipe_a_post_under_review(forum, make_member, moderator, category):
    author, a = make_member(), make_member()
    thread = forum.thread(author, category["id"])
    reply = forum.reply(author, thread["id"], "一条被举报后又被作者删除的回复。")
    forum.call(a, "POST", f"/posts/{reply['id']}/flags", 201, json={"reason": "offensive"})
    forum.call(author, "DELETE", f"/posts/{reply['id']}", 204)
    kept = forum.posts(moderator, thread["id"])[1]
    assert kept["deleted"] is True and kept["body"] == "一条被举报后又被作者删除的回复。"
    assert forum.posts(a, thread["id"])[1]["html"] is None
    body = forum.call(moderator, "POST", f"/posts/{reply['id']}/moderation", 409,
                      json={"action": "restore"})  # fmt: skip
    assert body["code"] == "forum_action_not_applicable"


def test_a_thread_its_author_deleted_stays_deleted(forum, make_member, moderator, category):
    author = make_member()
    thread = forum.thread(author, category["id"])
    forum.call(author, "DELETE", f"/threads/{thread['id']}", 204)
    assert forum.posts(moderator, thread["id"])[0]["body"] == ""  # emptied, not hidden
    forum.call(moderator, "POST", f"/threads/{thread['id']}/moderation", 409,
               json={"action": "restore"})  # fmt: skip
    other = forum.thread(author, category["id"], "被版主删除的主题")
    forum.call(moderator, "POST", f"/threads/{other['id']}/moderation", 200,
               json={"action": "delete", "reason": "重复"})  # fmt: skip
    forum.call(author, "GET", f"/threads/{other['id']}", 404)
    forum.call(moderator, "POST", f"/threads/{other['id']}/moderation", 200,
               json={"action": "restore"})  # fmt: skip
    assert forum.call(author, "GET", f"/threads/{other['id']}", 200)["title"] == "被版主删除的主题"


def test_flags_alone_never_hide_a_staff_post(forum, make_member, moderator, category):
    thread = forum.thread(moderator, category["id"], "版主发的主题帖")
    first = forum.posts(moderator, thread["id"])[0]
    for _ in range(3):
        result = forum.call(make_member(), "POST", f"/posts/{first['id']}/flags", 201,
                            json={"reason": "other"})  # fmt: skip
        assert result["hidden"] is False
    assert [
        q["post_id"] for q in forum.call(moderator, "GET", "/moderation/queue", 200)["items"]
    ] == [first["id"]]


def test_the_review_queue_pages_stably_and_skips_deleted_threads(
    forum, make_member, moderator, category
):
    author = make_member(created_at=utcnow() - timedelta(days=30))  # past the newcomer limit
    flaggers = [make_member() for _ in range(2)]
    posts = []
    for i in range(4):
        thread = forum.thread(author, category["id"], f"被举报的主题 {i}")
        posts.append((thread["id"], forum.posts(author, thread["id"])[0]["id"]))
    for _tid, pid in posts:
        forum.call(flaggers[0], "POST", f"/posts/{pid}/flags", 201, json={"reason": "spam"})
    page = forum.call(moderator, "GET", "/moderation/queue", 200, query_string={"limit": 2})
    assert [q["post_id"] for q in page["items"]] == [posts[3][1], posts[2][1]]
    # a new flag on a post already seen does not move it past the cursor
    forum.call(flaggers[1], "POST", f"/posts/{posts[3][1]}/flags", 201, json={"reason": "spam"})
    forum.call(
        moderator, "POST", f"/threads/{posts[0][0]}/moderation", 200, json={"action": "delete"}
    )
    rest = forum.call(moderator, "GET", "/moderation/queue", 200,
                      query_string={"limit": 2, "cursor": page["next_cursor"]})  # fmt: skip
    assert [q["post_id"] for q in rest["items"]] == [posts[1][1]]


def test_deleting_a_thread_keeps_a_moderators_deletion_restorable(
    forum, make_member, moderator, category
):
    author = make_member()
    thread = forum.thread(author, category["id"])
    reply = forum.reply(author, thread["id"], "作者自己的回复，被版主删除。")
    forum.call(moderator, "POST", f"/posts/{reply['id']}/moderation", 200,
               json={"action": "delete", "reason": "广告"})  # fmt: skip
    forum.call(author, "DELETE", f"/threads/{thread['id']}", 204)
    kept = forum.posts(moderator, thread["id"])[1]
    assert kept["body"] == "作者自己的回复，被版主删除。"
    forum.call(
        moderator, "POST", f"/posts/{reply['id']}/moderation", 200, json={"action": "restore"}
    )


def test_a_flagged_post_its_author_deletes_leaves_the_queue(
    forum, make_member, moderator, category
):
    author, flagger = make_member(), make_member()
    thread = forum.thread(author, category["id"])
    reply = forum.reply(author, thread["id"], "被举报之后作者自己删掉了。")
    forum.call(flagger, "POST", f"/posts/{reply['id']}/flags", 201, json={"reason": "spam"})
    assert forum.call(moderator, "GET", "/moderation/queue", 200)["items"]
    forum.call(author, "DELETE", f"/posts/{reply['id']}", 204)
    assert forum.call(moderator, "GET", "/moderation/queue", 200)["items"] == []
    assert forum.posts(moderator, thread["id"])[1]["body"] == "被举报之后作者自己删掉了。"
