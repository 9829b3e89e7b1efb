"""A hidden, deleted or erased post stops being quoted in others' inboxes and on their phones
(issue #10): the forum calls notifications.retraction.forget() on each of those paths."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest

from server.notifications.retraction import GONE
from tests.conftest import PASSWORD
from tests.forum.helpers import seed_threads

SECRET = "私密报价单：三万元整"


def _withdrawals(fake_fcm, token):
    return [
        r.message for r in fake_fcm.received if r.token == token and "notification" not in r.message
    ]


@dataclass(frozen=True)
class Mention:
    author: Any
    reader: Any  # mentioned, with a phone
    thread: dict[str, Any]
    reply: dict[str, Any]  # the author's, mentioning the reader and quoting the secret


@pytest.fixture
def mentioned(app, forum, make_member, category, fake_fcm):
    """张三豐 mentions the reader in a reply that quotes a secret; the reader's phone shows it."""
    from server.extensions import db
    from server.notifications.models import Device

    author = make_member(display_name="張三豐", username="zhangsanfeng")
    reader = make_member(display_name="读者", username="duzhe", locale="zh-Hant")
    with app.app_context():
        db.session.add(Device(member_id=reader.id, token="reader-phone", platform="android"))
        db.session.commit()
    thread = forum.thread(make_member(), category["id"], "报价经验分享")
    reply = forum.reply(author, thread["id"], f"@duzhe {SECRET}")
    [shown] = [r.message for r in fake_fcm.received if r.token == "reader-phone"]
    assert shown["notification"]["title"] == "張三豐 在貼文中提及了你"
    assert SECRET in shown["notification"]["body"]
    assert SECRET in str(forum.inbox(reader))
    return Mention(author=author, reader=reader, thread=thread, reply=reply)


def _hide_by_flags(app, forum, make_member, moderator, author, reply):
    for _ in range(app.config["FORUM_FLAG_THRESHOLD"]):
        forum.call(make_member(), "POST", f"/posts/{reply['id']}/flags", 201,
                   json={"reason": "spam"})  # fmt: skip


def _moderator_hides(app, forum, make_member, moderator, author, reply):
    forum.call(moderator, "POST", f"/posts/{reply['id']}/moderation", 200,
               json={"action": "hide", "reason": "广告"})  # fmt: skip


def _moderator_deletes(app, forum, make_member, moderator, author, reply):
    forum.call(moderator, "POST", f"/posts/{reply['id']}/moderation", 200,
               json={"action": "delete"})  # fmt: skip


def _author_deletes(app, forum, make_member, moderator, author, reply):
    forum.call(author, "DELETE", f"/posts/{reply['id']}", 204)


@pytest.mark.parametrize(
    "gone", [_hide_by_flags, _moderator_hides, _moderator_deletes, _author_deletes]
)
def test_a_post_that_is_gone_is_no_longer_quoted(
    app, forum, make_member, moderator, fake_fcm, mentioned, gone
):
    fake_fcm.reset()
    gone(app, forum, make_member, moderator, mentioned.author, mentioned.reply)
    [entry] = forum.inbox(mentioned.reader)
    assert SECRET not in str(entry)
    assert entry["kind"] == "forum.mention" and entry["title"] == "張三豐 在貼文中提及了你"
    assert entry["body"] == "「报价经验分享」" + GONE["zh-Hant"]  # still says where
    [withdraw] = _withdrawals(fake_fcm, "reader-phone")
    assert withdraw["data"]["action"] == "withdraw"


def test_a_deleted_thread_is_no_longer_quoted(forum, make_member, moderator, category, fake_fcm):
    reader = make_member()
    thread = forum.thread(make_member(), category["id"], "不该出现的标题")
    forum.call(reader, "PUT", f"/threads/{thread['id']}/notification-level", 200,
               json={"level": "watching"})  # fmt: skip
    forum.reply(make_member(), thread["id"], "一条普通的回复。")
    assert "不该出现的标题" in str(forum.inbox(reader))
    forum.call(moderator, "POST", f"/threads/{thread['id']}/moderation", 200,
               json={"action": "delete"})  # fmt: skip
    [entry] = forum.inbox(reader)
    assert "不该出现的标题" not in str(entry) and "一条普通的回复" not in str(entry)


def test_erasing_the_author_withdraws_the_mention_from_the_readers_phone(
    forum, client, auth_headers, fake_fcm, mentioned
):
    fake_fcm.reset()
    r = client.delete(
        "/api/v1/me", headers=auth_headers(mentioned.author), json={"password": PASSWORD}
    )
    assert r.status_code == 204
    assert forum.inbox(mentioned.reader) == []
    [withdraw] = _withdrawals(fake_fcm, "reader-phone")
    assert withdraw["data"]["action"] == "withdraw" and withdraw["data"]["kind"] == "forum.mention"


def test_erasing_a_threads_author_takes_its_title_out_of_others_entries(
    client, auth_headers, forum, make_member, category
):
    author, replier, watcher = make_member(), make_member(), make_member()
    thread = forum.thread(author, category["id"], "作者自己的标题庚辛")
    forum.call(watcher, "PUT", f"/threads/{thread['id']}/notification-level", 200,
               json={"level": "watching"})  # fmt: skip
    forum.reply(replier, thread["id"], "别人的回复留下。")
    assert "作者自己的标题庚辛" in str(forum.inbox(watcher))
    r = client.delete("/api/v1/me", headers=auth_headers(author), json={"password": PASSWORD})
    assert r.status_code == 204
    [entry] = forum.inbox(watcher)  # the reply's entry stays …
    assert "作者自己的标题庚辛" not in str(entry)  # … without the erased author's title
    assert "别人的回复留下" in entry["body"]


def _notification_statements(counter):
    return [s for s in counter.statements if re.search(r"\bnotifications\b", s)]


def test_erasing_an_author_forgets_all_their_threads_in_one_go(
    forum, app, client, auth_headers, count_queries, make_member, category
):
    """The eraser forgets its threads' titles in one statement, not one per thread (issue #10
    review, L4): as many statements on notifications for 3 threads as for 1."""
    counts = []
    for threads in (1, 3):
        author, first, second = make_member(), make_member(), make_member()
        ids = seed_threads(app, author, category["id"], threads, replies=2,
                           repliers=[first, second])  # fmt: skip
        # the first replier watches each thread now: the second's reply quotes its title
        assert len(forum.inbox(first)) == threads
        with count_queries() as erasing:
            r = client.delete(
                "/api/v1/me", headers=auth_headers(author), json={"password": PASSWORD}
            )
            assert r.status_code == 204
        counts.append(len(_notification_statements(erasing)))
        entries = forum.inbox(first)
        assert len(entries) == threads and all("测试主题" not in str(e) for e in entries)
        assert {e["data"]["thread_id"] for e in entries} == set(ids)
        assert all(e["data"]["title"] == "" and e["data"]["gone"] == ["title"] for e in entries)
    assert counts[0] == counts[1] == 6, counts


def test_deleting_a_thread_forgets_it_once_not_once_per_post(
    app, count_queries, forum, make_member, category
):
    """The thread's forget covers its posts' entries: none per post (issue #10 review, L4)."""
    from server.extensions import db
    from server.forum import posts
    from server.members.models import Member

    counts = []
    for own_replies in (1, 4):
        author, reader = make_member(), make_member(username=f"reader{own_replies}")
        thread = forum.thread(author, category["id"], "作者要删掉的主题")
        with app.app_context():  # the service, not HTTP: no rate limit on replies
            writer = db.session.get(Member, author.id)
            for _ in range(own_replies):
                body = f"@{reader.username} 自己的补充说明。"
                posts.create_post(writer, thread["id"], {"body": body})
        with count_queries() as deleting:
            forum.call(author, "DELETE", f"/threads/{thread['id']}", 204)
        counts.append(len(_notification_statements(deleting)))
        entries = forum.inbox(reader)
        assert len(entries) == own_replies
        assert all("作者要删掉的主题" not in str(e) and "补充说明" not in str(e) for e in entries)
    assert counts[0] == counts[1] == 2, counts
