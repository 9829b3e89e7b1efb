"""Thread lists: orders, filters, the caller's state, pages, and a fixed number of queries."""

from __future__ import annotations

import base64
from datetime import timedelta

import orjson

from server.common.time import utcnow
from server.extensions import db
from server.forum.models import ForumThread
from tests.forum.helpers import seed_threads


def _ids(forum, member, **query):
    return [
        t["id"] for t in forum.call(member, "GET", "/threads", 200, query_string=query)["items"]
    ]


def _pages(forum, member, **query):
    ids, cursor = [], None
    while True:
        page = forum.call(
            member,
            "GET",
            "/threads",
            200,
            query_string={**query, **({"cursor": cursor} if cursor else {})},
        )
        ids += [t["id"] for t in page["items"]]
        cursor = page["next_cursor"]
        if not cursor:
            return ids


def test_list_pages_run_the_same_queries_whatever_their_size(
    app, client, forum, make_member, auth_headers, count_queries, organiser, category
):
    authors = [make_member(display_name=f"作者{i}") for i in range(3)]
    reader = make_member()
    threads = []
    for author in authors:
        threads += seed_threads(app, author, category["id"], 15, replies=1, repliers=authors)
    headers = auth_headers(reader)
    for thread_id in threads:  # read the first post of each: the reply is unread
        read = client.post(f"/api/v1/forum/threads/{thread_id}/read", headers=headers,
                           json={"number": 1})  # fmt: skip
        assert read.status_code == 200
    counts = {}
    for limit in (5, 40):
        with count_queries() as q:
            r = client.get("/api/v1/forum/threads", headers=headers, query_string={"limit": limit})
        assert r.status_code == 200 and len(r.get_json()["items"]) == limit
        counts[limit] = q.count
    assert counts[5] == counts[40] <= 3  # session + the page (+ nothing per item)
    for query in ({"show": "unread"}, {"tag": "测试"}, {"sort": "top", "period": "all"}):
        with count_queries() as q:
            r = client.get(
                "/api/v1/forum/threads", headers=headers, query_string={**query, "limit": 40}
            )
        assert q.count <= 3, query
        # every seeded thread has a reply the reader has not read, is tagged 测试, and counts
        # for "top"
        assert r.status_code == 200 and len(r.get_json()["items"]) == 40, query


def test_posts_page_runs_the_same_queries_whatever_its_size(
    app, client, forum, make_member, auth_headers, count_queries, category
):
    authors = [make_member(display_name=f"作者{i}") for i in range(4)]
    [tid] = seed_threads(app, authors[0], category["id"], 1, replies=45, repliers=authors)
    posts = forum.posts(authors[1], tid, limit=50)
    for post in posts[1:20]:
        forum.call(
            authors[0] if post["author"]["id"] != authors[0].id else authors[1],
            "PUT",
            f"/posts/{post['id']}/reactions/heart",
            200,
        )
    forum.reply(authors[2], tid, "回复某一楼的内容，带引用。", reply_to_id=posts[3]["id"])
    headers = auth_headers(authors[3])
    counts = {}
    for limit in (3, 47):
        with count_queries() as q:
            r = client.get(
                f"/api/v1/forum/threads/{tid}/posts",
                headers=headers,
                query_string={"limit": limit, "from_number": 1},
            )
        assert len(r.get_json()["items"]) == limit
        counts[limit] = q.count
    assert counts[3] == counts[47] <= 6


def test_categories_and_moderation_lists_are_bounded_in_queries(
    app, client, forum, make_member, auth_headers, count_queries, organiser, moderator, category
):
    for i in range(6):
        forum.category(organiser, f"子版块{i}", parent_id=category["id"])
    members = [make_member() for _ in range(3)]
    ids = seed_threads(app, members[0], category["id"], 6, replies=1, repliers=members[1:2])
    for tid in ids:
        post = forum.posts(members[2], tid)[1]
        forum.call(members[2], "POST", f"/posts/{post['id']}/flags", 201, json={"reason": "spam"})
        forum.call(moderator, "POST", f"/threads/{tid}/moderation", 200, json={"action": "pin"})
    headers = auth_headers(moderator)
    for path in ("/categories", "/moderation/queue", "/moderation/log"):
        counts = []
        for limit in (2, 6):
            with count_queries() as q:
                r = client.get(
                    "/api/v1/forum" + path,
                    headers=headers,
                    query_string={} if path == "/categories" else {"limit": limit},
                )
            assert r.status_code == 200
            counts.append(q.count)
        assert counts[0] == counts[1] <= 4, (path, counts)


def test_latest_puts_pinned_first_and_pages_without_gaps(
    app, forum, make_member, moderator, category
):
    author = make_member()
    ids = seed_threads(app, author, category["id"], 12)
    pin = {"action": "pin", "scope": "site"}
    forum.call(moderator, "POST", f"/threads/{ids[0]}/moderation", 200, json=pin)
    forum.reply(make_member(), ids[3], "顶一下这个主题，让它冒上来。")
    expected = [ids[0], ids[3], *[i for i in reversed(ids) if i not in (ids[0], ids[3])]]
    assert _pages(forum, author, limit=5) == expected
    # a pin in the category puts it first there, not on the front page
    forum.call(moderator, "POST", f"/threads/{ids[0]}/moderation", 200, json={"action": "unpin"})
    forum.call(moderator, "POST", f"/threads/{ids[5]}/moderation", 200, json={"action": "pin"})
    front = [ids[3], *[i for i in reversed(ids) if i != ids[3]]]
    assert _pages(forum, author, limit=5) == front
    in_category = [ids[5], ids[3], *[i for i in reversed(ids) if i not in (ids[5], ids[3])]]
    assert _pages(forum, author, limit=5, category_id=category["id"]) == in_category
    created = _pages(forum, author, limit=5, sort="created")
    assert created == list(reversed(ids))


def test_filters_top_unanswered_tag_author_and_subcategories(
    app, forum, make_member, organiser, category
):
    a, b, c = make_member(), make_member(), make_member()
    child = forum.category(organiser, "杭州", parent_id=category["id"])
    other = forum.category(organiser, "别的版块")
    quiet = forum.thread(a, category["id"], "没人回复的主题", tags=["报价"])
    busy = forum.thread(b, child["id"], "很多人回复的主题", tags=["合同", "报价"])
    liked = forum.thread(a, other["id"], "很多人点赞的主题")
    for member in (a, c):
        forum.reply(member, busy["id"], "我也来说两句看法。")
    first = forum.posts(b, liked["id"])[0]
    for member in (b, c):
        forum.call(member, "PUT", f"/posts/{first['id']}/reactions/like", 200)
        forum.call(member, "PUT", f"/posts/{first['id']}/reactions/thanks", 200)
    assert _ids(forum, c, sort="top", period="week") == [liked["id"], busy["id"], quiet["id"]]
    assert _ids(forum, c, unanswered="true") == [liked["id"], quiet["id"]]
    assert _ids(forum, c, tag="报价") == [busy["id"], quiet["id"]]
    assert _ids(forum, c, author_id=a.id) == [liked["id"], quiet["id"]]
    assert _ids(forum, c, category_id=category["id"]) == [busy["id"], quiet["id"]]
    assert _ids(forum, c, category_id=child["id"]) == [busy["id"]]
    with app.app_context():  # an old thread drops out of this week's top
        db.session.get(ForumThread, liked["id"]).created_at = utcnow() - timedelta(days=8)
        db.session.commit()
    assert _ids(forum, c, sort="top", period="week") == [busy["id"], quiet["id"]]


def test_new_unread_watching_and_muted(forum, make_member, category):
    author, reader = make_member(), make_member()
    one = forum.thread(author, category["id"], "第一个主题标题")
    two = forum.thread(author, category["id"], "第二个主题标题")
    assert _ids(forum, reader, show="new") == [two["id"], one["id"]]
    forum.call(reader, "GET", f"/threads/{one['id']}", 200)  # opened: no longer new
    assert _ids(forum, reader, show="new") == [two["id"]]
    forum.call(reader, "POST", f"/threads/{one['id']}/read", 200, json={"number": 1})
    assert _ids(forum, reader, show="unread") == []
    forum.reply(author, one["id"], "作者又补充了一些内容。")
    listed = forum.call(reader, "GET", "/threads", 200)["items"]
    by_id = {t["id"]: t for t in listed}
    assert by_id[one["id"]]["unread_count"] == 1 and by_id[two["id"]]["is_new"] is True
    assert _ids(forum, reader, show="unread") == [one["id"]]
    assert _ids(forum, author, show="watching") == [one["id"], two["id"]]  # one was bumped
    forum.call(
        reader, "PUT", f"/threads/{one['id']}/notification-level", 200, json={"level": "muted"}
    )
    assert _ids(forum, reader, show="unread") == []
    # reading never moves back, and never past the last post
    state = forum.call(reader, "POST", f"/threads/{one['id']}/read", 200, json={"number": 99})
    assert state["last_read_number"] == 2
    state = forum.call(reader, "POST", f"/threads/{one['id']}/read", 200, json={"number": 1})
    assert state["last_read_number"] == 2


def test_views_count_once_per_member(forum, make_member, category):
    author, reader = make_member(), make_member()
    thread = forum.thread(author, category["id"])
    for _ in range(3):
        forum.call(reader, "GET", f"/threads/{thread['id']}", 200)
    forum.call(author, "GET", f"/threads/{thread['id']}", 200)
    assert forum.call(reader, "GET", f"/threads/{thread['id']}", 200)["view_count"] == 2


def test_a_cursor_from_another_list_is_refused(forum, make_member, app, category):
    member = make_member()
    seed_threads(app, member, category["id"], 3)
    cursor = forum.call(member, "GET", "/threads", 200, query_string={"limit": 1})["next_cursor"]
    body = forum.call(
        member, "GET", "/threads", 400, query_string={"sort": "top", "cursor": cursor}
    )
    assert body["code"] == "invalid_cursor"
    body = forum.call(member, "GET", "/threads", 400, query_string={"cursor": "bm90LWpzb24"})
    assert body["code"] == "invalid_cursor"


def _cursor(name, values):
    raw = orjson.dumps({"k": name, "v": values})
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def test_a_cursor_with_an_impossible_time_is_a_400(forum, make_member):
    member = make_member()
    for stamp in ("0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-01:00"):
        cursor = _cursor("forum.threads.latest.p", [False, {"t": stamp}, 5])
        body = forum.call(member, "GET", "/threads", 400, query_string={"cursor": cursor})
        assert body["code"] == "invalid_cursor"
