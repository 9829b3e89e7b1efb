"""Muted means no new content in the alliance's channels: a muted member reads and marks
read, but sends, edits and reacts nothing there."""

from __future__ import annotations

from server.extensions import socketio
from tests.chat.helpers import token_of


def test_a_muted_member_reads_but_adds_nothing(app, chat, auth_headers, make_member):
    owner = make_member(role="organiser")
    aid = chat.call(owner, "POST", "/api/v1/alliances", 201, json={"name": "禁言联盟"})["id"]
    member = make_member()
    chat.call(member, "POST", f"/api/v1/alliances/{aid}/join", 200, json={})
    cid = chat.call(owner, "POST", "/api/v1/chat/channels", 201,
                    json={"alliance_id": aid, "name": "大厅"})["id"]  # fmt: skip
    chat.call(member, "POST", f"/api/v1/chat/conversations/{cid}/join", 200)
    url = f"/api/v1/chat/conversations/{cid}/messages"
    old = chat.call(member, "POST", url, 201, json={"body": "禁言前的消息"})
    theirs = chat.call(owner, "POST", url, 201, json={"body": "盟主的消息"})
    like = f"/api/v1/chat/messages/{theirs['id']}/reactions/like"
    chat.call(member, "PUT", like, 200)
    # a direct conversation is no alliance's: muting does not reach it
    direct = chat.call(member, "POST", "/api/v1/chat/direct", 200, json={"member_ids": [owner.id]})
    in_direct = chat.call(owner, "POST", f"/api/v1/chat/conversations/{direct['id']}/messages",
                          201, json={"body": "私聊"})  # fmt: skip
    chat.call(owner, "POST", f"/api/v1/chat/alliances/{aid}/mutes", 204,
              json={"member_id": member.id, "hours": 1})  # fmt: skip
    sock = socketio.test_client(
        app, namespace="/chat", auth={"token": token_of(auth_headers, member)}
    )
    try:
        edited = chat.call(member, "PATCH", f"/api/v1/chat/messages/{old['id']}", 403,
                           json={"body": "偷偷改掉"})  # fmt: skip
        assert (edited["code"], edited["status"]) == ("chat_muted", 403)
        assert chat.call(member, "PUT", like.replace("like", "heart"), 403)["code"] == "chat_muted"
        chat.call(member, "DELETE", like, 200)  # taking one back adds nothing
        ack = sock.emit("send", {"conversation_id": cid, "body": "还能说吗"}, namespace="/chat",
                        callback=True)  # fmt: skip
        assert ack["error"]["code"] == "chat_muted"
        # reading and marking read still work, over REST and the socket
        history = chat.call(member, "GET", url, 200)["messages"]
        assert [m["html"] for m in history] == ["<p>禁言前的消息</p>\n", "<p>盟主的消息</p>\n"]
        chat.call(member, "POST", f"/api/v1/chat/conversations/{cid}/read", 200,
                  json={"message_id": theirs["id"]})  # fmt: skip
        read = sock.emit("read", {"conversation_id": cid, "message_id": theirs["id"]},
                         namespace="/chat", callback=True)  # fmt: skip
        assert read == {"last_read_id": theirs["id"]}
        chat.call(member, "PUT", f"/api/v1/chat/messages/{in_direct['id']}/reactions/like", 200)
    finally:
        sock.disconnect(namespace="/chat")
    chat.call(owner, "DELETE", f"/api/v1/chat/alliances/{aid}/mutes/{member.id}", 204)
    chat.call(member, "PATCH", f"/api/v1/chat/messages/{old['id']}", 200, json={"body": "改了"})


def test_a_muted_member_types_nothing_in_the_alliances_channels(
    app, chat, auth_headers, make_member
):
    owner = make_member(role="organiser")
    aid = chat.call(owner, "POST", "/api/v1/alliances", 201, json={"name": "安静联盟"})["id"]
    member = make_member()
    chat.call(member, "POST", f"/api/v1/alliances/{aid}/join", 200, json={})
    cid = chat.call(owner, "POST", "/api/v1/chat/channels", 201,
                    json={"alliance_id": aid, "name": "大厅"})["id"]  # fmt: skip
    chat.call(member, "POST", f"/api/v1/chat/conversations/{cid}/join", 200)
    socks = [
        socketio.test_client(app, namespace="/chat", auth={"token": token_of(auth_headers, m)})
        for m in (owner, member)
    ]
    owner_sock, member_sock = socks
    try:
        owner_sock.get_received("/chat")
        member_sock.emit("typing", {"conversation_id": cid}, namespace="/chat")
        assert [e["name"] for e in owner_sock.get_received("/chat")] == ["typing"]
        chat.call(owner, "POST", f"/api/v1/chat/alliances/{aid}/mutes", 204,
                  json={"member_id": member.id, "hours": 1})  # fmt: skip
        member_sock.emit("typing", {"conversation_id": cid}, namespace="/chat")
        assert [e["name"] for e in owner_sock.get_received("/chat")] == []
    finally:
        for sock in socks:
            sock.disconnect(namespace="/chat")
