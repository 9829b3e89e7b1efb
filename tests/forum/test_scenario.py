"""The issue's scenario, end to end through HTTP, one behaviour a test: a thread with two
replies (one quoting the other and mentioning someone), then reading, reacting and bookmarking,
flags that hide a post, and the moderator who restores it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest


@dataclass(frozen=True)
class Story:
    author: Any  # 陈默, who starts the thread
    replier: Any  # 林晓雨, who replies first
    second: Any  # 周旭, who replies to her, mentioning 黄诗婷
    mentioned: Any  # 黄诗婷
    flaggers: list[Any]
    category: dict[str, Any]
    thread: dict[str, Any]
    first: dict[str, Any]  # 林晓雨's reply
    second_reply: dict[str, Any]  # 周旭's, the one flagged later


@pytest.fixture
def story(forum, make_member, organiser):
    author = make_member(display_name="陈默", username="chenmo")
    replier = make_member(display_name="林晓雨", username="linxiaoyu")
    second = make_member(display_name="周旭", username="zhouxu")
    mentioned = make_member(display_name="黄诗婷", username="huangshiting")
    flaggers = [make_member(display_name=f"成员{i}") for i in range(3)]
    category = forum.category(organiser, "接单与定价", description="报价与合同")
    thread = forum.thread(author, category["id"], "第一次接品牌短片，报价怎么算？")
    first = forum.reply(replier, thread["id"], "我一般拆成前期、拍摄、后期三段报价。")
    second_reply = forum.reply(
        second,
        thread["id"],
        "@huangshiting 你做过类似的项目，来说说？@nobody_here 不存在。",
        reply_to_id=first["id"],
    )
    return Story(author=author, replier=replier, second=second, mentioned=mentioned,
                 flaggers=flaggers, category=category, thread=thread, first=first,
                 second_reply=second_reply)  # fmt: skip


def _flag_three_times(forum, story):
    """Three members flag the second reply; the results of the three, in order."""
    return [
        forum.call(
            flagger, "POST", f"/posts/{story.second_reply['id']}/flags", 201,
            json={"reason": "spam"},
        )
        for flagger in story.flaggers
    ]  # fmt: skip


def test_the_author_may_post_in_the_category_and_watches_the_new_thread(story):
    assert story.category["can_post"] is True
    assert story.thread["watching"] is True and story.thread["post_count"] == 1


def test_replies_are_numbered_and_one_quotes_the_other(story):
    assert story.first["number"] == 2 and story.first["author"]["display_name"] == "林晓雨"
    assert story.second_reply["reply_to"]["number"] == 2


def test_each_member_hears_of_the_replies_once(forum, story):
    """Exactly one notification each: the author's replies collapse, the mention is one entry,
    and the replied-to member hears it once, as a reply to their post."""
    author_inbox = forum.inbox(story.author)
    assert [(n["kind"], n["count"]) for n in author_inbox] == [("forum.watching", 2)]
    assert [n["kind"] for n in forum.inbox(story.mentioned)] == ["forum.mention"]
    assert author_inbox[0]["data"]["thread_id"] == story.thread["id"]
    assert [n["kind"] for n in forum.inbox(story.replier)] == ["forum.reply"]


def test_reacting_bookmarking_and_reading(forum, story):
    tid = story.thread["id"]
    reacted = forum.call(story.mentioned, "PUT", f"/posts/{story.first['id']}/reactions/like", 200)
    assert reacted["reactions"] == [{"reaction": "like", "emoji": "👍", "count": 1}]
    assert reacted["my_reactions"] == ["like"]
    forum.call(story.mentioned, "PUT", f"/threads/{tid}/bookmark", 200)
    listed = forum.call(story.author, "GET", "/threads", 200)["items"][0]
    assert (listed["reply_count"], listed["reaction_count"]) == (2, 1)
    assert listed["unread_count"] == 2  # the author has read only their own first post
    state = forum.call(story.author, "POST", f"/threads/{tid}/read", 200, json={"number": 2})
    assert state["unread_count"] == 1
    detail = forum.call(story.author, "GET", f"/threads/{tid}", 200)
    assert detail["first_unread_number"] == 3
    mine = forum.call(story.mentioned, "GET", "/threads", 200, query_string={"show": "bookmarked"})
    assert [t["id"] for t in mine["items"]] == [tid]


def test_three_flags_hide_a_post_pending_review(forum, moderator, story):
    for i, result in enumerate(_flag_three_times(forum, story)):
        assert result["hidden"] is (i == 2)  # the third flag hides it
    seen = forum.posts(story.replier, story.thread["id"])
    assert seen[2]["hidden"] is True and seen[2]["html"] is None
    queue = forum.call(moderator, "GET", "/moderation/queue", 200)["items"]
    assert [(q["post_id"], q["flag_count"], q["hidden"]) for q in queue] == [
        (story.second_reply["id"], 3, True)
    ]


def test_the_moderator_restores_it_and_the_log_and_its_author_are_told(forum, moderator, story):
    _flag_three_times(forum, story)
    forum.call(
        moderator,
        "POST",
        f"/posts/{story.second_reply['id']}/moderation",
        200,
        json={"action": "restore", "reason": "不是广告"},
    )
    assert forum.posts(story.replier, story.thread["id"])[2]["hidden"] is False
    assert forum.call(moderator, "GET", "/moderation/queue", 200)["items"] == []
    log = forum.call(moderator, "GET", "/moderation/log", 200)["items"]
    assert [(e["action"], e["moderator"] and e["moderator"]["id"], e["reason"]) for e in log] == [
        ("restore", moderator.id, "不是广告"),
        ("auto_hide", None, ""),
    ]
    assert log[1]["data"] == {"flags": 3}
    # the author of the hidden post was told, twice: hidden, then restored
    told = forum.inbox(story.second)
    assert [n["kind"] for n in told] == ["forum.moderated"]
    assert told[0]["count"] == 2
