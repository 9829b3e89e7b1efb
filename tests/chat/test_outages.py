"""Chat with Redis down: sending goes on over REST and Socket.IO, its limits counted per
process; what still needs Redis answers 503 with ``Retry-After``, never 500."""

from __future__ import annotations

from server.extensions import socketio
from tests.faults import dead_redis_url, limiter_storage_down


def test_chat_goes_on_with_redis_down_and_its_limits_hold(app, chat, auth_headers, world):
    app.config["CHAT_SEND_LIMIT"] = "3/minute"
    try:
        with limiter_storage_down():
            path = f"/api/v1/chat/conversations/{world.channel}/messages"
            for i in range(3):
                chat.call(world.member, "POST", path, 201, json={"body": f"第{i}条"})
            refused = chat.call(world.member, "POST", path, 429, json={"body": "太多了"})
            assert refused["code"] == "rate_limited"
            sock = socketio.test_client(
                app,
                namespace="/chat",
                auth={"token": auth_headers(world.owner)["Authorization"].split()[1]},
            )
            assert sock.is_connected("/chat")
            ack = sock.emit("send", {"conversation_id": world.channel, "body": "盟主在"},
                            namespace="/chat", callback=True)  # fmt: skip
            assert ack["message"]["html"] == "<p>盟主在</p>\n"
            sock.disconnect(namespace="/chat")
    finally:
        app.config["CHAT_SEND_LIMIT"] = "30/minute;600/hour"


def test_presence_and_the_socket_registry_fall_back_to_this_process(app, chat, auth_headers,
                                                                   world):  # fmt: skip
    """With Redis unreachable, a socket connects at once, presence answers from what this
    process knows (its own sockets), and membership changes still reach those sockets."""
    import time

    from server.chat import presence

    saved = app.config["REDIS_URL"]
    app.config["REDIS_URL"] = dead_redis_url()
    app.extensions.pop("presence_redis", None)
    try:
        started = time.monotonic()
        sock = socketio.test_client(
            app, namespace="/chat",
            auth={"token": auth_headers(world.owner)["Authorization"].split()[1]},
        )  # fmt: skip
        assert sock.is_connected("/chat")
        assert time.monotonic() - started < 1.0  # no hanging on the dead Redis
        r = chat.client.get(
            "/api/v1/chat/presence",
            headers=chat.auth_headers(world.member),
            query_string={"member_ids": [world.owner.id]},
        )
        assert r.status_code == 200, r.get_json()
        assert {p["member_id"]: p["status"] for p in r.get_json()["items"]} == {
            world.owner.id: "online"
        }
        with app.app_context():
            assert len(presence.sockets_of(world.owner.id)) == 1  # the registry rooms follow
        sock.disconnect(namespace="/chat")
        with app.app_context():
            assert presence.sockets_of(world.owner.id) == []
    finally:
        app.config["REDIS_URL"] = saved
        app.extensions.pop("presence_redis", None)
        presence._down_since = None
