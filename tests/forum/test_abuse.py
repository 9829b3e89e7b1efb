"""Posting limits per member, stricter for new accounts; failed attempts do not count."""

from __future__ import annotations

from datetime import timedelta

from server.common.time import utcnow


def _thread(forum, member, category_id, status, i):
    return forum.call(
        member,
        "POST",
        "/threads",
        status,
        json={
            "category_id": category_id,
            "title": f"限流测试主题 {i}",
            "body": "这是一条足够长的测试内容。",
        },
    )


def test_new_accounts_start_three_threads_an_hour(forum, make_member, category):
    newcomer = make_member()
    forum.call(
        newcomer, "POST", "/threads", 422, json={"category_id": category["id"], "title": "短"}
    )
    for i in range(3):
        _thread(forum, newcomer, category["id"], 201, i)
    body = _thread(forum, newcomer, category["id"], 429, 3)
    assert body["code"] == "rate_limited"


def test_established_members_start_more(forum, make_member, category):
    veteran = make_member(created_at=utcnow() - timedelta(days=30))
    for i in range(10):
        _thread(forum, veteran, category["id"], 201, i)
    _thread(forum, veteran, category["id"], 429, 10)


def test_replies_are_limited_per_member(client, forum, make_member, category):
    author = make_member(created_at=utcnow() - timedelta(days=30))
    newcomer, other = make_member(), make_member()
    thread = forum.thread(author, category["id"])
    for _ in range(3):
        forum.reply(newcomer, thread["id"])
    r = client.post(
        f"/api/v1/forum/threads/{thread['id']}/posts",
        headers=forum.auth_headers(newcomer),
        json={"body": "第四条回复被限流了。"},
    )
    assert r.status_code == 429 and int(r.headers["Retry-After"]) > 0
    forum.reply(other, thread["id"])  # the limit is per member
    for _ in range(6):
        forum.reply(author, thread["id"])
    forum.call(
        author, "POST", f"/threads/{thread['id']}/posts", 429, json={"body": "第七条回复被限流了。"}
    )
