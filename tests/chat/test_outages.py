"""Chat with Redis down: sending goes on over REST and Socket.IO, its limits counted per
process; what still needs Redis answers 503 with ``Retry-After``, never 500."""

from __future__ import annotations

from server.extensions import socketio
from tests.test_outages import _dead_redis_url, limiter_storage_down


def test_chat_goes_on_with_redis_down_and_its_limits_hold(app, chat, auth_headers, world):
    owner, member, _aid, channel = world
    app.config["CHAT_SEND_LIMIT"] = "3/minute"
    try:
        with limiter_storage_down():
            path = f"/api/v1/chat/conversations/{channel}/messages"
            for i in range(3):
                chat.call(member, "POST", path, 201, json={"body": f"第{i}条"})
            refused = chat.call(member, "POST", path, 429, json={"body": "太多了"})
            assert refused["code"] == "rate_limited"
            sock = socketio.test_client(
                app,
                namespace="/chat",
                auth={"token": auth_headers(owner)["Authorization"].split()[1]},
            )
            assert sock.is_connected("/chat")
            ack = sock.emit("send", {"conversation_id": channel, "body": "盟主在"},
                            namespace="/chat", callback=True)  # fmt: skip
            assert ack["message"]["html"] == "<p>盟主在</p>\n"
            sock.disconnect(namespace="/chat")
    finally:
        app.config["CHAT_SEND_LIMIT"] = "30/minute;600/hour"


def test_an_unreachable_redis_answers_503_with_retry_after(app, chat, world):
    """What still needs Redis says it is unavailable, and for how long to wait: never a 500."""
    owner, member, _aid, _channel = world
    saved = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = _dead_redis_url()
    app.extensions.pop("presence_redis", None)
    try:
        r = chat.client.get(
            "/api/v1/chat/presence",
            headers=chat.auth_headers(member, **{"Accept-Language": "en"}),
            query_string={"member_ids": [owner.id]},
        )
    finally:
        app.config["REDIS_URL"] = saved
        app.extensions.pop("presence_redis", None)
    assert r.status_code == 503, r.get_json()
    assert r.get_json()["code"] == "service_unavailable"
    assert r.headers["Retry-After"] == "5"
