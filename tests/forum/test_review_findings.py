"""Cases a security review of the forum found: each was a wrong answer or a 500 before."""

from __future__ import annotations

import base64
from datetime import timedelta

import orjson

from server.common.time import utcnow
from tests.forum.helpers import BODY


def _cursor(name, values):
    raw = orjson.dumps({"k": name, "v": values})
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


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


def test_tags_that_grow_when_lower_cased_are_a_422(forum, make_member, category):
    author = make_member()
    body = forum.call(author, "POST", "/threads", 422, json={
        "category_id": category["id"], "title": "标签长度测试", "body": BODY, "tags": ["İ" * 30],
    })  # fmt: skip
    assert body["code"] == "validation_error" and "tags" in body["errors"]


def test_a_cursor_with_an_impossible_time_is_a_400(forum, make_member):
    member = make_member()
    for stamp in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):
        cursor = _cursor("forum.threads.latest.p", [False, {"t": stamp}, 5])
        body = forum.call(member, "GET", "/threads", 400, query_string={"cursor": cursor})
        assert body["code"] == "invalid_cursor"


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


def test_silenced_members_neither_flag_nor_react(forum, make_member, moderator, category):
    author, silenced = make_member(), make_member()
    thread = forum.thread(author, category["id"])
    first = forum.posts(author, thread["id"])[0]
    forum.call(moderator, "POST", f"/members/{silenced.id}/moderation", 200,
               json={"action": "silence", "hours": 2})  # fmt: skip
    assert forum.call(silenced, "PUT", f"/posts/{first['id']}/reactions/like", 403)["code"] == (
        "forum_silenced"
    )
    assert forum.call(silenced, "POST", f"/posts/{first['id']}/flags", 403,
                      json={"reason": "spam"})["code"] == "forum_silenced"  # fmt: skip


def test_the_author_of_a_hidden_thread_cannot_act_inside_it(
    forum, make_member, moderator, category
):
    author, replier = make_member(), make_member()
    thread = forum.thread(author, category["id"])
    reply = forum.reply(replier, thread["id"], "别人在这个主题里的回复。")
    first = forum.posts(author, thread["id"])[0]
    forum.call(moderator, "POST", f"/posts/{first['id']}/moderation", 200, json={"action": "hide"})
    forum.call(author, "PUT", f"/posts/{reply['id']}/reactions/like", 404)
    forum.call(author, "POST", f"/posts/{reply['id']}/flags", 404, json={"reason": "spam"})
    forum.call(author, "POST", f"/threads/{thread['id']}/posts", 404, json={"body": BODY})


def test_edits_cannot_page_more_than_ten_members(
    client, auth_headers, forum, make_member, category
):
    author = make_member()
    readers = [make_member(username=f"paged{i:02d}") for i in range(25)]
    thread = forum.thread(author, category["id"], body="一开始提到 @paged00 和 @paged01。")
    first = forum.posts(author, thread["id"])[0]
    for start in (2, 12):
        handles = " ".join(f"@paged{i:02d}" for i in range(start, start + 10))
        forum.call(
            author, "PATCH", f"/posts/{first['id']}", 200, json={"body": f"再编辑：{handles}"}
        )
    told = [
        bool(client.get("/api/v1/notifications", headers=auth_headers(r)).get_json()["items"])
        for r in readers
    ]
    assert sum(told) == 10 and told[:10] == [True] * 10


def test_the_edit_permission_follows_the_window_and_the_lock(
    forum, make_member, moderator, category
):
    author = make_member()
    thread = forum.thread(author, category["id"])
    assert forum.call(author, "GET", f"/threads/{thread['id']}", 200)["permissions"]["edit"] is True
    forum.call(
        moderator, "POST", f"/threads/{thread['id']}/moderation", 200, json={"action": "lock"}
    )
    assert (
        forum.call(author, "GET", f"/threads/{thread['id']}", 200)["permissions"]["edit"] is False
    )


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


def test_search_for_a_phrase_of_punctuation_and_posts_with_huge_words(forum, make_member, category):
    author = make_member()
    forum.thread(
        author, category["id"], "超长链接", body="看这个 https://example.com/?t=" + "A1b2" * 600
    )
    for query in ('"%"', '"!"', '"😀"'):
        assert forum.call(author, "GET", "/search", 200, query_string={"q": query})["items"] == []
    assert (
        len(forum.call(author, "GET", "/search", 200, query_string={"q": "超长链接"})["items"]) == 1
    )
