"""Blocks in the forum: a blocked member's mentions do not reach the blocker, and they cannot
reply to the blocker's posts."""

from __future__ import annotations


def _block(caller, blocker, blocked):
    caller.call(blocker, "POST", f"/api/v1/members/{blocked.id}/block", 204)


def test_blocked_members_neither_mention_nor_reply_to_the_blocker(
    caller, client, forum, make_member, auth_headers, category
):
    blocker = make_member(username="blocker_b")
    blocked = make_member(username="pest_p")
    friend = make_member(username="friend_f")
    thread = forum.thread(blocker, category["id"], "屏蔽之后还能回复吗")
    first = forum.posts(blocker, thread["id"])[0]
    theirs = forum.reply(friend, thread["id"], "朋友的回复内容在这里")
    _block(caller, blocker, blocked)
    before = forum.inbox(blocker)  # the friend's reply, in a watched thread
    body = forum.call(
        blocked,
        "POST",
        f"/threads/{thread['id']}/posts",
        403,
        json={"body": "回复楼主的第一帖内容", "reply_to_id": first["id"]},
    )
    assert (body["code"], body["status"], body["message"]) == (
        "reply_not_allowed", 403, "无法回复这条内容。"
    )  # fmt: skip
    # replying to someone else, mentioning both: only the one who did not block hears of it
    reply = forum.reply(
        blocked, thread["id"], "@blocker_b @friend_f 一起看看", reply_to_id=theirs["id"]
    )
    assert reply["reply_to"]["id"] == theirs["id"]
    assert forum.inbox(blocker) == before  # no mention, nor watching entry
    assert {n["kind"] for n in forum.inbox(friend)} == {"forum.mention"}
    # nor through an edit that adds the mention later
    forum.call(blocked, "PATCH", f"/posts/{reply['id']}", 200,
               json={"body": "改一下再提到 @blocker_b 试试"})  # fmt: skip
    assert forum.inbox(blocker) == before
    # once unblocked, replies and mentions work again
    client.delete(f"/api/v1/members/{blocked.id}/block", headers=auth_headers(blocker))
    forum.reply(blocked, thread["id"], "@blocker_b 解除了吗", reply_to_id=first["id"])
    assert forum.inbox(blocker)[0]["kind"] == "forum.mention"
