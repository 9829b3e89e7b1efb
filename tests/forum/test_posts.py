"""Writing: Markdown to safe HTML, lengths, tags, replies, edits and revisions, mentions."""

from __future__ import annotations

import pytest

from tests.forum.helpers import BODY


def test_markdown_is_rendered_and_sanitised(forum, make_member, category):
    author = make_member()
    thread = forum.thread(
        author,
        category["id"],
        body="**报价**清单 <script>alert(1)</script> [点我](javascript:alert(1)) "
        "<img src=x onerror=alert(1)> [合同模板](https://example.com/a)",
    )
    html = forum.posts(author, thread["id"])[0]["html"]
    assert "<strong>报价</strong>" in html
    assert "<script" not in html and "<img" not in html and 'href="javascript' not in html
    assert "&lt;script&gt;" in html  # shown as text, not run
    assert '<a href="https://example.com/a" rel="nofollow noopener ugc">合同模板</a>' in html


@pytest.mark.parametrize(
    ("body", "field"),
    [("ok", "body"), ("　　+1　　", "body"), ("好", "body"), ("长" * 20_001, "body")],
)
def test_bodies_are_bounded_in_characters(forum, make_member, category, body, field):
    author = make_member()
    thread = forum.thread(author, category["id"])
    error = forum.client.post(
        f"/api/v1/forum/threads/{thread['id']}/posts",
        headers=forum.auth_headers(author, **{"Accept-Language": "zh-CN"}),
        json={"body": body},
    )
    assert error.status_code == 422
    assert field in error.get_json()["errors"]
    assert forum.call(author, "GET", f"/threads/{thread['id']}", 200)["post_count"] == 1


def test_a_short_real_reply_is_enough(app, forum, make_member, category, monkeypatch):
    """「同意，學到了」 (6 characters) is a reply; the minimum is a setting."""
    author = make_member()
    thread = forum.thread(author, category["id"], body="同意，學到了")
    assert forum.reply(author, thread["id"], "谢谢分享")["number"] == 2
    monkeypatch.setitem(app.config, "FORUM_MIN_POST_CHARS", 8)
    refused = forum.call(author, "POST", f"/threads/{thread['id']}/posts", 422,
                         json={"body": "同意，學到了"})  # fmt: skip
    assert "body" in refused["errors"]


def test_tags_are_bounded_and_normalised(forum, make_member, category):
    author = make_member()
    thread = forum.thread(author, category["id"], tags=["Design", "design", " 报价 "])
    assert thread["tags"] == ["design", "报价"]
    body = forum.call(
        author,
        "POST",
        "/threads",
        422,
        json={
            "category_id": category["id"],
            "title": "标签太多的主题",
            "body": "这是一条足够长的内容。",
            "tags": ["a", "b", "c", "d", "e", "f"],
        },
    )
    assert body["code"] == "validation_error"


def test_reply_to_must_be_a_visible_post_of_the_same_thread(forum, make_member, category):
    author = make_member()
    one = forum.thread(author, category["id"], "第一个主题标题")
    two = forum.thread(author, category["id"], "第二个主题标题")
    elsewhere = forum.posts(author, two["id"])[0]
    body = forum.call(
        author,
        "POST",
        f"/threads/{one['id']}/posts",
        422,
        json={"body": "回复别的主题里的帖子", "reply_to_id": elsewhere["id"]},
    )
    assert body["code"] == "forum_reply_to_invalid"
    body = forum.call(
        author,
        "POST",
        f"/threads/{one['id']}/posts",
        422,
        json={"body": "回复不存在的帖子内容", "reply_to_id": 999999},
    )
    assert body["code"] == "forum_reply_to_invalid"


def test_edits_keep_revisions_for_author_and_moderators(forum, make_member, moderator, category):
    author, reader, named = make_member(), make_member(), make_member(username="named_later")
    thread = forum.thread(author, category["id"], "原来的标题写法")
    first = forum.posts(author, thread["id"])[0]
    edited = forum.call(
        author,
        "PATCH",
        f"/posts/{first['id']}",
        200,
        json={"body": "改过的正文，顺便提到 @named_later 看看。", "reason": "补充"},
    )
    assert edited["version"] == 2 and edited["edited_at"] and "改过的正文" in edited["html"]
    forum.call(author, "PATCH", f"/threads/{thread['id']}", 200, json={"title": "新的标题写法"})
    revisions = forum.call(author, "GET", f"/posts/{first['id']}/revisions", 200)["items"]
    assert [(r["version"], r["title"]) for r in revisions] == [(2, "原来的标题写法"), (1, None)]
    assert revisions[1]["body"] == "这是一条足够长的测试内容。" and revisions[1]["reason"] == "补充"
    assert (
        forum.call(moderator, "GET", f"/posts/{first['id']}/revisions", 200)["items"] == revisions
    )
    forum.call(reader, "GET", f"/posts/{first['id']}/revisions", 403)
    # the edit mentioned someone new: they hear it once; editing again does not repeat it
    forum.call(
        author,
        "PATCH",
        f"/posts/{first['id']}",
        200,
        json={"body": "再改一次，还是提到 @named_later 一下。"},
    )
    assert [n["kind"] for n in forum.inbox(named)] == ["forum.mention"]


def test_mentions_unknown_or_muted_do_nothing_and_at_most_ten(forum, make_member, category):
    author = make_member()
    muted = make_member(username="mutedone")
    many = [make_member(username=f"reader{i:02d}") for i in range(12)]
    thread = forum.thread(author, category["id"])
    forum.call(
        muted, "PUT", f"/threads/{thread['id']}/notification-level", 200, json={"level": "muted"}
    )
    handles = " ".join(f"@reader{i:02d}" for i in range(12))
    forum.reply(author, thread["id"], f"@mutedone @ghost_member 还有 {handles}")
    assert forum.inbox(muted) == []
    told = [bool(forum.inbox(m)) for m in many]
    assert told == [True] * 9 + [False] * 3  # ten members named: the muted one and nine
    # being mentioned makes a member watch the thread
    state = forum.call(many[0], "GET", f"/threads/{thread['id']}", 200)
    assert state["watching"] is True


def test_reading_a_thread_reads_its_notifications(
    client, forum, make_member, auth_headers, category
):
    author, replier = make_member(), make_member()
    thread = forum.thread(author, category["id"])
    forum.reply(replier, thread["id"], "第一条回复的内容。")
    forum.reply(replier, thread["id"], "第二条回复的内容。")
    unread = client.get("/api/v1/notifications/unread-count", headers=auth_headers(author))
    assert unread.get_json() == {"unread": 1}
    forum.call(author, "POST", f"/threads/{thread['id']}/read", 200, json={"number": 2})
    unread = client.get("/api/v1/notifications/unread-count", headers=auth_headers(author))
    assert unread.get_json() == {"unread": 1}  # one reply still unread
    forum.call(author, "POST", f"/threads/{thread['id']}/read", 200, json={"number": 3})
    unread = client.get("/api/v1/notifications/unread-count", headers=auth_headers(author))
    assert unread.get_json() == {"unread": 0}


def test_authors_delete_their_posts_and_threads(forum, make_member, category):
    author, other = make_member(), make_member()
    lonely = forum.thread(author, category["id"], "没人回复的主题")
    forum.call(author, "DELETE", f"/threads/{lonely['id']}", 204)
    forum.call(other, "GET", f"/threads/{lonely['id']}", 404)
    answered = forum.thread(author, category["id"], "有人回复的主题")
    reply = forum.reply(other, answered["id"], "我来回复一下这个主题。")
    body = forum.call(author, "DELETE", f"/threads/{answered['id']}", 409)
    assert body["code"] == "forum_thread_has_replies"
    forum.call(other, "DELETE", f"/posts/{reply['id']}", 204)
    gone = forum.posts(author, answered["id"])[1]
    assert gone["deleted"] is True and gone["html"] is None
    detail = forum.call(author, "GET", f"/threads/{answered['id']}", 200)
    assert detail["reply_count"] == 0
    forum.call(other, "DELETE", f"/posts/{reply['id']}", 404)


def test_mentions_are_links_and_a_list_on_posts(forum, make_member, category):
    author, named = make_member(), make_member()
    body = f"@{named.username} 你的报价单模板能分享吗？@nobody_here 也看看"
    thread = forum.thread(author, category["id"], body=body)
    first = forum.posts(author, thread["id"])[0]
    assert first["mentions"] == [{"member_id": named.id, "username": named.username}]
    assert f'<a class="mention" data-member-id="{named.id}"' in first["html"]
    assert "@nobody_here" in first["html"]  # nobody by that name: plain text
    # an edit that drops the mention drops it from the list; a deleted post lists none
    edited = forum.call(
        author, "PATCH", f"/posts/{first['id']}", 200, json={"body": "改成不点名了"}
    )
    assert edited["mentions"] == [] and "mention" not in edited["html"]
    reply = forum.reply(author, thread["id"], body=f"再请 @{named.username} 看一眼")
    forum.call(author, "DELETE", f"/posts/{reply['id']}", 204)
    gone = forum.posts(author, thread["id"])[-1]
    assert gone["deleted"] is True and gone["html"] is None and gone["mentions"] == []


def test_tags_that_grow_when_lower_cased_are_a_422(forum, make_member, category):
    author = make_member()
    body = forum.call(author, "POST", "/threads", 422, json={
        "category_id": category["id"], "title": "标签长度测试", "body": BODY, "tags": ["İ" * 30],
    })  # fmt: skip
    assert body["code"] == "validation_error" and "tags" in body["errors"]


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
