"""Every write endpoint refuses a member who may not do it, with the error shape."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest

from server.common.time import utcnow
from server.extensions import db
from server.forum.models import ForumPost
from tests.forum.helpers import BODY


def _refused(forum, member, method, path, status=403, code="forbidden", **kwargs):
    body = forum.call(member, method, path, status, **kwargs)
    assert body["code"] == code and body["status"] == status and body["message"]
    return body


@dataclass(frozen=True)
class Setting:
    author: Any  # of the thread and of its one reply
    other: Any  # a member with no part in either
    thread: dict[str, Any]
    reply: dict[str, Any]


@pytest.fixture
def setting(forum, make_member, category):
    author = make_member(display_name="作者", username="author1")
    other = make_member(display_name="路人", username="passerby")
    thread = forum.thread(author, category["id"])
    reply = forum.reply(author, thread["id"], "作者自己的第一条回复内容")
    return Setting(author=author, other=other, thread=thread, reply=reply)


def test_members_cannot_manage_categories(forum, make_member, category):
    member = make_member()
    _refused(forum, member, "POST", "/categories", json={"name": "新版块"})
    _refused(forum, member, "PATCH", f"/categories/{category['id']}", json={"name": "改名"})
    _refused(forum, member, "DELETE", f"/categories/{category['id']}")


def test_read_only_and_organiser_only_categories(forum, organiser, moderator, make_member):
    member = make_member()
    news = forum.category(organiser, "公告", read_only=True)
    staff_only = forum.category(organiser, "组织者说", post_policy="organisers")
    made = forum.client.post(
        "/api/v1/alliances", headers=forum.auth_headers(organiser), json={"name": "设计师联盟"}
    )
    group = forum.category(
        organiser, "设计师小组", post_policy="group", group_id=made.get_json()["id"],
        members_only=False,  # others read it; only the alliance's members post
    )  # fmt: skip
    listed = {
        c["name"]: c["can_post"] for c in forum.call(member, "GET", "/categories", 200)["items"]
    }
    assert listed == {"公告": False, "组织者说": False, "设计师小组": False}
    body = {"title": "我想发个公告", "body": "普通成员尝试在只读版块发帖。"}
    _refused(
        forum,
        member,
        "POST",
        "/threads",
        code="forum_category_read_only",
        json={**body, "category_id": news["id"]},
    )
    _refused(
        forum,
        member,
        "POST",
        "/threads",
        code="forum_posting_not_allowed",
        json={**body, "category_id": staff_only["id"]},
    )
    _refused(
        forum,
        member,
        "POST",
        "/threads",
        code="forum_posting_not_allowed",
        json={**body, "category_id": group["id"]},
    )
    announcement = forum.thread(organiser, news["id"], "本周活动安排")
    _refused(
        forum,
        member,
        "POST",
        f"/threads/{announcement['id']}/posts",
        code="forum_category_read_only",
        json={"body": "成员不能回复只读版块。"},
    )
    forum.reply(moderator, announcement["id"], "版主可以在只读版块回复。")


def test_locked_thread_refuses_members_but_not_staff(forum, setting, moderator):
    forum.call(
        moderator,
        "POST",
        f"/threads/{setting.thread['id']}/moderation",
        200,
        json={"action": "lock", "reason": "讨论已结束"},
    )
    for member in (setting.author, setting.other):
        _refused(
            forum,
            member,
            "POST",
            f"/threads/{setting.thread['id']}/posts",
            code="forum_thread_locked",
            json={"body": "锁定后还想回复一下。"},
        )
    detail = forum.call(setting.other, "GET", f"/threads/{setting.thread['id']}", 200)
    assert detail["locked"] is True and detail["permissions"]["reply"] is False
    forum.reply(moderator, setting.thread["id"], "版主补充说明一下情况。")


def test_nobody_edits_or_deletes_anothers_post(forum, setting):
    _refused(
        forum,
        setting.other,
        "PATCH",
        f"/posts/{setting.reply['id']}",
        json={"body": "我改了别人的帖子内容"},
    )
    _refused(forum, setting.other, "DELETE", f"/posts/{setting.reply['id']}")
    _refused(
        forum,
        setting.other,
        "PATCH",
        f"/threads/{setting.thread['id']}",
        json={"title": "改别人的标题"},
    )
    _refused(forum, setting.other, "DELETE", f"/threads/{setting.thread['id']}")
    _refused(forum, setting.other, "GET", f"/posts/{setting.reply['id']}/revisions")
    post = forum.posts(setting.other, setting.thread["id"])[1]
    assert "body" not in post and post["can_edit"] is False and post["can_delete"] is False
    own = forum.posts(setting.author, setting.thread["id"])[1]
    assert own["body"] == "作者自己的第一条回复内容" and own["can_edit"] is True


def test_authors_edit_only_within_the_window(app, forum, setting):
    with app.app_context():
        post = db.session.get(ForumPost, setting.reply["id"])
        post.created_at = utcnow() - timedelta(minutes=app.config["FORUM_EDIT_WINDOW_MINUTES"] + 1)
        db.session.commit()
    _refused(
        forum,
        setting.author,
        "PATCH",
        f"/posts/{setting.reply['id']}",
        code="forum_edit_window_passed",
        json={"body": "过了时限还想改一下"},
    )
    forum.call(
        setting.author, "DELETE", f"/posts/{setting.reply['id']}", 204
    )  # deleting is always allowed


def test_members_cannot_moderate(forum, setting, make_member):
    _refused(
        forum,
        setting.other,
        "POST",
        f"/posts/{setting.reply['id']}/moderation",
        json={"action": "hide"},
    )
    for action in ("lock", "pin", "delete", "move"):
        _refused(
            forum,
            setting.other,
            "POST",
            f"/threads/{setting.thread['id']}/moderation",
            json={"action": action, "category_id": 1},
        )
    _refused(
        forum,
        setting.other,
        "POST",
        f"/members/{setting.author.id}/moderation",
        json={"action": "silence", "hours": 24},
    )
    _refused(forum, setting.other, "GET", "/moderation/queue")
    _refused(forum, setting.other, "GET", "/moderation/log")


def test_silenced_members_read_but_cannot_post(forum, setting, moderator, category):
    forum.call(
        moderator,
        "POST",
        f"/members/{setting.other.id}/moderation",
        200,
        json={"action": "silence", "hours": 24, "reason": "连续发广告"},
    )
    body = _refused(
        forum,
        setting.other,
        "POST",
        f"/threads/{setting.thread['id']}/posts",
        code="forum_silenced",
        json={"body": "被禁言了还想回复"},
    )
    assert "禁言" in body["message"]
    _refused(
        forum,
        setting.other,
        "POST",
        "/threads",
        code="forum_silenced",
        json={"category_id": category["id"], "title": "禁言中发新帖", "body": "被禁言了还想发帖"},
    )
    assert forum.posts(setting.other, setting.thread["id"])  # reading still works
    _refused(
        forum,
        moderator,
        "POST",
        f"/members/{moderator.id}/moderation",
        code="forum_cannot_silence_staff",
        json={"action": "silence", "hours": 1},
    )
    forum.call(
        moderator,
        "POST",
        f"/members/{setting.other.id}/moderation",
        200,
        json={"action": "unsilence", "reason": "已申诉"},
    )
    forum.reply(setting.other, setting.thread["id"], "解除禁言后可以回复了。")


def test_reactions_and_flags_have_their_own_rules(forum, setting):
    _refused(
        forum,
        setting.author,
        "PUT",
        f"/posts/{setting.reply['id']}/reactions/like",
        status=422,
        code="forum_cannot_react_to_own_post",
    )
    _refused(
        forum,
        setting.author,
        "POST",
        f"/posts/{setting.reply['id']}/flags",
        status=422,
        code="forum_cannot_flag_own_post",
        json={"reason": "spam"},
    )
    forum.call(
        setting.other, "POST", f"/posts/{setting.reply['id']}/flags", 201, json={"reason": "spam"}
    )
    _refused(
        forum,
        setting.other,
        "POST",
        f"/posts/{setting.reply['id']}/flags",
        status=409,
        code="forum_already_flagged",
        json={"reason": "offensive"},
    )
    angry = f"/posts/{setting.reply['id']}/reactions/angry"
    _refused(forum, setting.other, "PUT", angry, status=404, code="forum_reaction_not_found")


def test_hidden_posts_are_invisible_to_other_members(forum, setting, moderator):
    forum.call(
        moderator,
        "POST",
        f"/posts/{setting.reply['id']}/moderation",
        200,
        json={"action": "hide", "reason": "待核实"},
    )
    seen = forum.posts(setting.other, setting.thread["id"])[1]
    assert seen["hidden"] is True and seen["html"] is None and "body" not in seen
    assert forum.posts(setting.author, setting.thread["id"])[1]["html"]  # the author still sees it
    assert forum.posts(moderator, setting.thread["id"])[1]["body"] == "作者自己的第一条回复内容"
    _refused(
        forum,
        setting.other,
        "PUT",
        f"/posts/{setting.reply['id']}/reactions/like",
        status=404,
        code="forum_post_not_found",
    )
    _refused(
        forum,
        setting.other,
        "GET",
        f"/posts/{setting.reply['id']}/revisions",
        status=404,
        code="forum_post_not_found",
    )


def test_a_hidden_first_post_hides_its_thread(forum, setting, moderator):
    first = forum.posts(setting.author, setting.thread["id"])[0]
    forum.call(
        moderator,
        "POST",
        f"/posts/{first['id']}/moderation",
        200,
        json={"action": "hide", "reason": "广告"},
    )
    _refused(
        forum,
        setting.other,
        "GET",
        f"/threads/{setting.thread['id']}",
        status=404,
        code="forum_thread_not_found",
    )
    _refused(
        forum,
        setting.other,
        "POST",
        f"/threads/{setting.thread['id']}/posts",
        status=404,
        code="forum_thread_not_found",
        json={"body": "隐藏的主题不能回复"},
    )
    assert forum.call(setting.other, "GET", "/threads", 200)["items"] == []
    assert (
        forum.call(setting.author, "GET", f"/threads/{setting.thread['id']}", 200)["hidden"] is True
    )


def test_nobody_keeps_state_on_a_thread_they_cannot_see(forum, setting, moderator):
    forum.call(moderator, "POST", f"/threads/{setting.thread['id']}/moderation", 200,
               json={"action": "delete", "reason": "违规"})  # fmt: skip
    tid = setting.thread["id"]
    for method, path, body in [
        ("PUT", f"/threads/{tid}/bookmark", None),
        ("DELETE", f"/threads/{tid}/bookmark", None),
        ("PUT", f"/threads/{tid}/notification-level", {"level": "watching"}),
        ("POST", f"/threads/{tid}/read", {"number": 1}),
        ("GET", f"/threads/{tid}/posts", None),
    ]:
        kwargs = {"json": body} if body else {}
        assert (
            forum.call(setting.other, method, path, 404, **kwargs)["code"]
            == "forum_thread_not_found"
        )


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
