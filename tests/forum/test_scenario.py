"""The issue's scenario, end to end through HTTP."""

from __future__ import annotations


def _inbox(client, auth_headers, member):
    return client.get("/api/v1/notifications", headers=auth_headers(member)).get_json()["items"]


def test_forum_story_end_to_end(client, forum, auth_headers, make_member, organiser, moderator):
    author = make_member(display_name="陈默", username="chenmo")
    replier = make_member(display_name="林晓雨", username="linxiaoyu")
    second = make_member(display_name="周旭", username="zhouxu")
    mentioned = make_member(display_name="黄诗婷", username="huangshiting")
    flaggers = [make_member(display_name=f"成员{i}") for i in range(3)]

    category = forum.category(organiser, "接单与定价", description="报价与合同")
    assert category["can_post"] is True
    thread = forum.thread(author, category["id"], "第一次接品牌短片，报价怎么算？")
    tid = thread["id"]
    assert thread["watching"] is True and thread["post_count"] == 1

    first = forum.reply(replier, tid, "我一般拆成前期、拍摄、后期三段报价。")
    assert first["number"] == 2 and first["author"]["display_name"] == "林晓雨"
    second_reply = forum.reply(
        second,
        tid,
        "@huangshiting 你做过类似的项目，来说说？@nobody_here 不存在。",
        reply_to_id=first["id"],
    )
    assert second_reply["reply_to"]["number"] == 2

    # exactly one notification each: the author's replies collapse, the mention is one entry
    author_inbox = _inbox(client, auth_headers, author)
    assert [(n["kind"], n["count"]) for n in author_inbox] == [("forum.watching", 2)]
    assert [n["kind"] for n in _inbox(client, auth_headers, mentioned)] == ["forum.mention"]
    assert author_inbox[0]["data"]["thread_id"] == tid
    # the replied-to member hears it once, as a reply to their post
    assert [n["kind"] for n in _inbox(client, auth_headers, replier)] == ["forum.reply"]

    # react, bookmark, read
    reacted = forum.call(mentioned, "PUT", f"/posts/{first['id']}/reactions/like", 200)
    assert reacted["reactions"] == [{"reaction": "like", "emoji": "👍", "count": 1}]
    assert reacted["my_reactions"] == ["like"]
    forum.call(mentioned, "PUT", f"/threads/{tid}/bookmark", 200)
    listed = forum.call(author, "GET", "/threads", 200)["items"][0]
    assert (listed["reply_count"], listed["reaction_count"]) == (2, 1)
    assert listed["unread_count"] == 2  # the author has read only their own first post
    state = forum.call(author, "POST", f"/threads/{tid}/read", 200, json={"number": 2})
    assert state["unread_count"] == 1
    detail = forum.call(author, "GET", f"/threads/{tid}", 200)
    assert detail["first_unread_number"] == 3
    mine = forum.call(mentioned, "GET", "/threads", 200, query_string={"show": "bookmarked"})
    assert [t["id"] for t in mine["items"]] == [tid]

    # three members flag → hidden pending review
    for i, flagger in enumerate(flaggers):
        result = forum.call(
            flagger, "POST", f"/posts/{second_reply['id']}/flags", 201, json={"reason": "spam"}
        )
        assert result["hidden"] is (i == 2)
    seen = forum.posts(replier, tid)
    assert seen[2]["hidden"] is True and seen[2]["html"] is None
    queue = forum.call(moderator, "GET", "/moderation/queue", 200)["items"]
    assert [(q["post_id"], q["flag_count"], q["hidden"]) for q in queue] == [
        (second_reply["id"], 3, True)
    ]

    # the moderator restores it; the audit log shows both actions
    forum.call(
        moderator,
        "POST",
        f"/posts/{second_reply['id']}/moderation",
        200,
        json={"action": "restore", "reason": "不是广告"},
    )
    assert forum.posts(replier, tid)[2]["hidden"] is False
    assert forum.call(moderator, "GET", "/moderation/queue", 200)["items"] == []
    log = forum.call(moderator, "GET", "/moderation/log", 200)["items"]
    assert [(e["action"], e["moderator"] and e["moderator"]["id"], e["reason"]) for e in log] == [
        ("restore", moderator.id, "不是广告"),
        ("auto_hide", None, ""),
    ]
    assert log[1]["data"] == {"flags": 3}
    # the author of the hidden post was told, twice: hidden, then restored
    told = _inbox(client, auth_headers, second)
    assert [n["kind"] for n in told] == ["forum.moderated"]
    assert told[0]["count"] == 2
