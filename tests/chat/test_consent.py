"""Direct conversations with consent: blocks, who may message me, one conversation per set of
members, a limit on opening new ones, and presence only where it was accepted."""

from __future__ import annotations

from server.extensions import socketio
from tests.chat.helpers import events, open_direct, send, token_of


def _inbox(chat, member):
    return chat.call(member, "GET", "/api/v1/notifications", 200)["items"]


def test_a_blocked_member_cannot_open_write_mention_or_reply(app, chat, make_member):
    blocker = make_member(username="blocker_b")
    pest, friend = make_member(username="pest_p"), make_member(username="friend_f")
    pair = open_direct(chat, pest, [blocker])["id"]
    hello = send(chat, blocker, pair, body="你好")
    group = open_direct(chat, friend, [blocker, pest])["id"]
    said = send(chat, blocker, group, body="群里说一句")
    chat.call(blocker, "POST", f"/api/v1/members/{pest.id}/block", 204)
    # no new conversation, no one-to-one message, either way round
    refused = open_direct(chat, pest, [blocker], 403)
    assert refused["code"] == "chat_direct_not_allowed"
    assert open_direct(chat, pest, [blocker, friend], 403)["code"] == "chat_direct_not_allowed"
    assert send(chat, pest, pair, 403, body="在吗")["code"] == "chat_direct_not_allowed"
    assert send(chat, blocker, pair, 403, body="别来了")["code"] == "chat_member_blocked"
    assert open_direct(chat, blocker, [pest], 403)["code"] == "chat_member_blocked"
    # in the group: no reply to the blocker, no mention, no push of the pest's messages
    body = send(chat, pest, group, 403, body="回复你", reply_to_id=said["id"])
    assert (body["code"], body["status"]) == ("reply_not_allowed", 403)
    before = _inbox(chat, blocker)
    send(chat, pest, group, body="@blocker_b @friend_f 看这里")
    assert _inbox(chat, blocker) == before
    listed = {
        c["id"]: c for c in chat.call(blocker, "GET", "/api/v1/chat/conversations", 200)["items"]
    }
    assert listed[group]["mention_count"] == 0 and listed[group]["unread_count"] == 1
    friend_view = {
        c["id"]: c for c in chat.call(friend, "GET", "/api/v1/chat/conversations", 200)["items"]
    }
    assert friend_view[group]["mention_count"] == 1
    # reading still works; unblocking lets them talk again
    chat.call(blocker, "POST", f"/api/v1/chat/conversations/{pair}/read", 200,
              json={"message_id": hello["id"]})  # fmt: skip
    chat.call(blocker, "DELETE", f"/api/v1/members/{pest.id}/block", 204)
    send(chat, pest, pair, body="谢谢解除")
    assert open_direct(chat, pest, [blocker])["id"] == pair


def test_who_may_message_me(chat, make_member):
    owner = make_member(role="organiser")
    aid = chat.call(owner, "POST", "/api/v1/alliances", 201, json={"name": "同城联盟"})["id"]
    shy, mate, stranger, blocked = (make_member() for _ in range(4))
    for m in (shy, mate):
        chat.call(m, "POST", f"/api/v1/alliances/{aid}/join", 200, json={})
    earlier = open_direct(chat, stranger, [shy])["id"]
    chat.call(stranger, "POST", f"/api/v1/chat/conversations/{earlier}/leave", 204)
    chat.call(shy, "PATCH", "/api/v1/me", 200, json={"direct_messages_from": "alliances"})
    chat.call(shy, "POST", f"/api/v1/members/{blocked.id}/block", 204)
    filtered = open_direct(chat, stranger, [shy], 403)  # reopening the one they left asks again
    # blocked or filtered out: the same answer, so a blocked member cannot tell
    assert open_direct(chat, blocked, [shy], 403) == filtered
    assert filtered["code"] == "chat_direct_not_allowed"
    assert open_direct(chat, stranger, [shy, mate], 403) == filtered  # a group asks each of them
    assert open_direct(chat, mate, [shy])["kind"] == "direct"
    # nobody: not even alliance mates (the conversation opened a moment ago included)
    chat.call(shy, "PATCH", "/api/v1/me", 200, json={"direct_messages_from": "nobody"})
    assert open_direct(chat, mate, [shy], 403) == filtered
    # the member themself still opens conversations, and the other answers there
    mine = open_direct(chat, shy, [blocked, stranger, mate], 403)
    assert mine["code"] == "chat_member_blocked"
    mine = open_direct(chat, shy, [stranger, mate])["id"]
    send(chat, stranger, mine, body="收到")


def test_the_same_members_get_the_same_group_conversation(chat, make_member):
    a, b, c, d = (make_member() for _ in range(4))
    group = open_direct(chat, a, [b, c])["id"]
    assert open_direct(chat, b, [c, a])["id"] == group
    assert open_direct(chat, a, [b, c, b])["id"] == group
    assert open_direct(chat, a, [b, c, d])["id"] != group
    assert open_direct(chat, a, [b])["id"] != group
    # c leaves; opening again does not pull c back, c opening it does
    chat.call(c, "POST", f"/api/v1/chat/conversations/{group}/leave", 204)
    assert open_direct(chat, a, [b, c])["id"] == group
    assert group not in [
        x["id"] for x in chat.call(c, "GET", "/api/v1/chat/conversations", 200)["items"]
    ]
    assert open_direct(chat, c, [a, b])["id"] == group
    assert group in [
        x["id"] for x in chat.call(c, "GET", "/api/v1/chat/conversations", 200)["items"]
    ]


def test_opening_new_conversations_is_limited_and_reopening_is_not(
    app, chat, make_member, monkeypatch
):
    assert app.config["CHAT_DIRECT_OPEN_LIMIT"] == "20/hour;100/day"
    monkeypatch.setitem(app.config, "CHAT_DIRECT_OPEN_LIMIT", "3/hour")
    me = make_member()
    others = [make_member() for _ in range(5)]
    opened = [open_direct(chat, me, [o])["id"] for o in others[:2]]
    opened.append(open_direct(chat, me, others[:3])["id"])
    r = chat.client.post("/api/v1/chat/direct", headers=chat.auth_headers(me),
                         json={"member_ids": [others[3].id]})  # fmt: skip
    assert r.status_code == 429 and r.get_json()["code"] == "rate_limited"
    assert int(r.headers["Retry-After"]) > 0
    assert open_direct(chat, me, [others[4], others[3]], 429)["code"] == "rate_limited"
    # the existing ones open as often as one likes; others opening with me are their own count
    for _ in range(3):
        assert open_direct(chat, me, [others[0]])["id"] == opened[0]
        assert open_direct(chat, me, others[:3])["id"] == opened[2]
    assert open_direct(chat, others[3], [me])["kind"] == "direct"


def _presence(chat, viewer, *members):
    """Those of ``members`` the viewer sees online (hidden ones read offline)."""
    ids = ",".join(str(m.id) for m in members)
    got = chat.call(viewer, "GET", f"/api/v1/chat/presence?member_ids={ids}", 200)["items"]
    assert [p["member_id"] for p in got] == [m.id for m in members]  # every one answered
    return {p["member_id"] for p in got if p["status"] == "online"}


def test_presence_is_shown_to_alliances_and_accepted_conversations_only(
    app, chat, auth_headers, make_member
):
    from server.chat import presence

    owner = make_member(role="organiser")
    aid = chat.call(owner, "POST", "/api/v1/alliances", 201, json={"name": "在线联盟"})["id"]
    star, mate, stranger = make_member(), make_member(), make_member()
    for m in (star, mate):
        chat.call(m, "POST", f"/api/v1/alliances/{aid}/join", 200, json={})
    cid = open_direct(chat, stranger, [star])["id"]
    with app.app_context():
        presence.report(star.id, "sid-of-star", "active")
        presence.report(stranger.id, "sid-of-stranger", "active")
    try:
        assert _presence(chat, stranger, star) == set()  # opened by the stranger only
        assert _presence(chat, mate, star) == {star.id}  # an alliance in common
        send(chat, star, cid, body="你好，有什么事？")  # writing accepts the conversation
        assert _presence(chat, stranger, star) == {star.id}
        assert _presence(chat, star, stranger) == {stranger.id}  # who opened it accepted it
        chat.call(star, "POST", f"/api/v1/members/{mate.id}/block", 204)
        assert _presence(chat, mate, star) == set()
    finally:
        with app.app_context():
            presence.gone(star.id, "sid-of-star")
            presence.gone(stranger.id, "sid-of-stranger")


def test_presence_events_go_only_to_accepted_conversations(app, chat, auth_headers, make_member):
    star, stranger = make_member(), make_member()
    cid = open_direct(chat, stranger, [star])["id"]
    listener = socketio.test_client(
        app, namespace="/chat", auth={"token": token_of(auth_headers, stranger)}
    )
    try:
        listener.get_received("/chat")
        arriving = socketio.test_client(
            app, namespace="/chat", auth={"token": token_of(auth_headers, star)}
        )
        arriving.disconnect(namespace="/chat")
        assert events(listener, "presence") == []
        send(chat, star, cid, body="在的")
        arriving = socketio.test_client(
            app, namespace="/chat", auth={"token": token_of(auth_headers, star)}
        )
        arriving.disconnect(namespace="/chat")
        assert [e["status"] for e in events(listener, "presence")] == ["online", "offline"]
    finally:
        listener.disconnect(namespace="/chat")
