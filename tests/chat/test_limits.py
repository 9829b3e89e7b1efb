"""Chat limits: one counter per member and action, over REST and Socket.IO alike."""

from __future__ import annotations

import pytest

from server.extensions import socketio
from tests.chat.test_chat import Chat, _events, _token


@pytest.fixture
def chat(client, auth_headers):
    return Chat(client, auth_headers)


@pytest.fixture
def pair(app, chat, auth_headers, make_member):
    """Two members in a direct conversation, each with an open socket."""
    a, b = make_member(), make_member()
    cid = chat.call(a, "POST", "/api/v1/chat/direct", 200, json={"member_ids": [b.id]})["id"]
    sockets = [
        socketio.test_client(app, namespace="/chat", auth={"token": _token(auth_headers, m)})
        for m in (a, b)
    ]
    for s in sockets:
        s.get_received("/chat")
    yield a, b, cid, sockets[0], sockets[1]
    for s in sockets:
        s.disconnect(namespace="/chat")


def _ack(sock, event, data):
    return sock.emit(event, data, namespace="/chat", callback=True)


def test_typing_past_its_limit_is_dropped(pair):
    """The review's burst: 300 typing events at once; 30 a minute reach the other member."""
    _a, _b, cid, mine, theirs = pair
    for _ in range(300):
        mine.emit("typing", {"conversation_id": cid}, namespace="/chat")
    assert len(_events(theirs, "typing")) == 30


def test_sends_over_rest_and_sockets_share_one_counter(chat, pair):
    """30 a minute, as documented: not 30 over REST and 30 more over the socket."""
    a, _b, cid, mine, _theirs = pair
    url = f"/api/v1/chat/conversations/{cid}/messages"
    for i in range(15):
        chat.call(a, "POST", url, 201, json={"body": f"REST {i}"})
        assert "message" in _ack(mine, "send", {"conversation_id": cid, "body": f"socket {i}"})
    r = chat.client.post(url, headers=chat.auth_headers(a), json={"body": "第三十一条"})
    assert r.status_code == 429 and r.get_json()["code"] == "rate_limited"
    assert 0 < int(r.headers["Retry-After"]) <= 61
    refused = _ack(mine, "send", {"conversation_id": cid, "body": "第三十一条"})
    assert refused["error"]["code"] == "rate_limited" and refused["error"]["status"] == 429


def test_reading_is_limited_over_rest_and_sockets_alike(app, chat, monkeypatch, pair):
    monkeypatch.setitem(app.config, "CHAT_READ_LIMIT", "3/minute")
    a, b, cid, _mine, theirs = pair
    sent = chat.call(a, "POST", f"/api/v1/chat/conversations/{cid}/messages", 201,
                     json={"body": "读一下"})  # fmt: skip
    read = {"conversation_id": cid, "message_id": sent["id"]}
    url = f"/api/v1/chat/conversations/{cid}/read"
    chat.call(b, "POST", url, 200, json={"message_id": sent["id"]})
    assert _ack(theirs, "read", read) == {"last_read_id": sent["id"]}
    chat.call(b, "POST", url, 200, json={"message_id": sent["id"]})
    assert _ack(theirs, "read", read)["error"]["code"] == "rate_limited"
    assert chat.call(b, "POST", url, 429, json={"message_id": sent["id"]})["code"] == "rate_limited"
    chat.call(a, "POST", url, 200, json={"message_id": sent["id"]})  # a counter per member


def test_edits_and_reactions_are_limited(app, chat, monkeypatch, pair):
    monkeypatch.setitem(app.config, "CHAT_EDIT_LIMIT", "2/minute")
    monkeypatch.setitem(app.config, "CHAT_REACTION_LIMIT", "3/minute")
    a, b, cid, _mine, _theirs = pair
    sent = chat.call(a, "POST", f"/api/v1/chat/conversations/{cid}/messages", 201,
                     json={"body": "原文"})  # fmt: skip
    for i in range(2):
        chat.call(a, "PATCH", f"/api/v1/chat/messages/{sent['id']}", 200, json={"body": f"改{i}"})
    body = chat.call(a, "PATCH", f"/api/v1/chat/messages/{sent['id']}", 429, json={"body": "再改"})
    assert body["code"] == "rate_limited"
    like = f"/api/v1/chat/messages/{sent['id']}/reactions/like"
    chat.call(b, "PUT", like, 200)
    chat.call(b, "DELETE", like, 200)
    chat.call(b, "PUT", like, 200)
    assert chat.call(b, "DELETE", like, 429)["code"] == "rate_limited"


def test_presence_heartbeats_past_the_limit_are_refused(app, monkeypatch, pair):
    monkeypatch.setitem(app.config, "CHAT_PRESENCE_LIMIT", "2/minute")
    _a, _b, _cid, mine, _theirs = pair
    assert _ack(mine, "presence", {"status": "idle"}) == {"status": "away"}
    assert _ack(mine, "presence", {"status": "active"}) == {"status": "online"}
    refused = _ack(mine, "presence", {"status": "idle"})
    assert refused["error"]["code"] == "rate_limited"


def test_joining_rooms_is_limited(app, monkeypatch, pair):
    """Each join loads the conversation twice: a socket may not ask for rooms without end."""
    monkeypatch.setitem(app.config, "CHAT_JOIN_LIMIT", "3/minute")
    _a, _b, cid, mine, theirs = pair
    for _ in range(3):
        assert _ack(mine, "join", {"conversation_id": cid}) == {"ok": True}
    refused = _ack(mine, "join", {"conversation_id": cid})
    assert (refused["error"]["code"], refused["error"]["status"]) == ("rate_limited", 429)
    # past the limit nothing is loaded: an id that does not exist gets the same answer
    assert _ack(mine, "join", {"conversation_id": 2**31 - 1})["error"]["code"] == "rate_limited"
    assert _ack(theirs, "join", {"conversation_id": cid}) == {"ok": True}  # a counter per member


def test_reports_are_limited(chat, world):
    """20 reports an hour per member: reporting cannot flood an alliance's admins."""
    owner, member, _aid, channel = world
    sent = chat.call(owner, "POST", f"/api/v1/chat/conversations/{channel}/messages", 201,
                     json={"body": "被举报的消息"})  # fmt: skip
    path = f"/api/v1/chat/messages/{sent['id']}/reports"
    for i in range(20):
        chat.call(member, "POST", path, 204, json={"reason": f"第{i}次"})
    refused = chat.client.post(path, headers=chat.auth_headers(member), json={"reason": "再一次"})
    assert refused.status_code == 429 and refused.get_json()["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) > 0
