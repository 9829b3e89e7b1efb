"""Chat limits: one counter per member and action, over REST and Socket.IO alike."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from server.extensions import socketio
from tests.chat.helpers import events, token_of


@dataclass(frozen=True)
class Pair:
    a: Any
    b: Any
    conversation: int  # their direct conversation's id
    mine: Any  # a's socket
    theirs: Any  # b's socket


@pytest.fixture
def pair(app, chat, auth_headers, make_member):
    """Two members in a direct conversation, each with an open socket."""
    a, b = make_member(), make_member()
    cid = chat.call(a, "POST", "/api/v1/chat/direct", 200, json={"member_ids": [b.id]})["id"]
    sockets = [
        socketio.test_client(app, namespace="/chat", auth={"token": token_of(auth_headers, m)})
        for m in (a, b)
    ]
    for s in sockets:
        s.get_received("/chat")
    yield Pair(a=a, b=b, conversation=cid, mine=sockets[0], theirs=sockets[1])
    for s in sockets:
        s.disconnect(namespace="/chat")


def _ack(sock, event, data):
    return sock.emit(event, data, namespace="/chat", callback=True)


def test_typing_past_its_limit_is_dropped(pair):
    """The review's burst: 300 typing events at once; 30 a minute reach the other member."""
    for _ in range(300):
        pair.mine.emit("typing", {"conversation_id": pair.conversation}, namespace="/chat")
    assert len(events(pair.theirs, "typing")) == 30


def test_sends_over_rest_and_sockets_share_one_counter(chat, pair):
    """30 a minute, as documented: not 30 over REST and 30 more over the socket."""
    url = f"/api/v1/chat/conversations/{pair.conversation}/messages"
    for i in range(15):
        chat.call(pair.a, "POST", url, 201, json={"body": f"REST {i}"})
        assert "message" in _ack(
            pair.mine, "send", {"conversation_id": pair.conversation, "body": f"socket {i}"}
        )
    r = chat.client.post(url, headers=chat.auth_headers(pair.a), json={"body": "第三十一条"})
    assert r.status_code == 429 and r.get_json()["code"] == "rate_limited"
    assert 0 < int(r.headers["Retry-After"]) <= 61
    refused = _ack(pair.mine, "send", {"conversation_id": pair.conversation, "body": "第三十一条"})
    assert refused["error"]["code"] == "rate_limited" and refused["error"]["status"] == 429


def test_reading_is_limited_over_rest_and_sockets_alike(app, chat, monkeypatch, pair):
    monkeypatch.setitem(app.config, "CHAT_READ_LIMIT", "3/minute")
    sent = chat.call(
        pair.a,
        "POST",
        f"/api/v1/chat/conversations/{pair.conversation}/messages",
        201,
        json={"body": "读一下"},
    )
    read = {"conversation_id": pair.conversation, "message_id": sent["id"]}
    url = f"/api/v1/chat/conversations/{pair.conversation}/read"
    chat.call(pair.b, "POST", url, 200, json={"message_id": sent["id"]})
    assert _ack(pair.theirs, "read", read) == {"last_read_id": sent["id"]}
    chat.call(pair.b, "POST", url, 200, json={"message_id": sent["id"]})
    assert _ack(pair.theirs, "read", read)["error"]["code"] == "rate_limited"
    assert (
        chat.call(pair.b, "POST", url, 429, json={"message_id": sent["id"]})["code"]
        == "rate_limited"
    )
    chat.call(pair.a, "POST", url, 200, json={"message_id": sent["id"]})  # a counter per member


def test_edits_and_reactions_are_limited(app, chat, monkeypatch, pair):
    monkeypatch.setitem(app.config, "CHAT_EDIT_LIMIT", "2/minute")
    monkeypatch.setitem(app.config, "CHAT_REACTION_LIMIT", "3/minute")
    sent = chat.call(
        pair.a,
        "POST",
        f"/api/v1/chat/conversations/{pair.conversation}/messages",
        201,
        json={"body": "原文"},
    )
    for i in range(2):
        chat.call(
            pair.a, "PATCH", f"/api/v1/chat/messages/{sent['id']}", 200, json={"body": f"改{i}"}
        )
    body = chat.call(
        pair.a, "PATCH", f"/api/v1/chat/messages/{sent['id']}", 429, json={"body": "再改"}
    )
    assert body["code"] == "rate_limited"
    like = f"/api/v1/chat/messages/{sent['id']}/reactions/like"
    chat.call(pair.b, "PUT", like, 200)
    chat.call(pair.b, "DELETE", like, 200)
    chat.call(pair.b, "PUT", like, 200)
    assert chat.call(pair.b, "DELETE", like, 429)["code"] == "rate_limited"


def test_presence_heartbeats_past_the_limit_are_refused(app, monkeypatch, pair):
    monkeypatch.setitem(app.config, "CHAT_PRESENCE_LIMIT", "2/minute")
    assert _ack(pair.mine, "presence", {"status": "idle"}) == {"status": "away"}
    assert _ack(pair.mine, "presence", {"status": "active"}) == {"status": "online"}
    refused = _ack(pair.mine, "presence", {"status": "idle"})
    assert refused["error"]["code"] == "rate_limited"


def test_joining_rooms_is_limited(app, monkeypatch, pair):
    """Each join loads the conversation twice: a socket may not ask for rooms without end."""
    monkeypatch.setitem(app.config, "CHAT_JOIN_LIMIT", "3/minute")
    for _ in range(3):
        assert _ack(pair.mine, "join", {"conversation_id": pair.conversation}) == {"ok": True}
    refused = _ack(pair.mine, "join", {"conversation_id": pair.conversation})
    assert (refused["error"]["code"], refused["error"]["status"]) == ("rate_limited", 429)
    # past the limit nothing is loaded: an id that does not exist gets the same answer
    assert (
        _ack(pair.mine, "join", {"conversation_id": 2**31 - 1})["error"]["code"] == "rate_limited"
    )
    assert _ack(pair.theirs, "join", {"conversation_id": pair.conversation}) == {
        "ok": True
    }  # a counter per member


def test_reports_are_limited(chat, world):
    """20 reports an hour per member: reporting cannot flood an alliance's admins."""
    sent = chat.call(
        world.owner,
        "POST",
        f"/api/v1/chat/conversations/{world.channel}/messages",
        201,
        json={"body": "被举报的消息"},
    )
    path = f"/api/v1/chat/messages/{sent['id']}/reports"
    for i in range(20):
        chat.call(world.member, "POST", path, 204, json={"reason": f"第{i}次"})
    refused = chat.client.post(
        path, headers=chat.auth_headers(world.member), json={"reason": "再一次"}
    )
    assert refused.status_code == 429 and refused.get_json()["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) > 0
