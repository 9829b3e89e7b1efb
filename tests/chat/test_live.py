"""Chat against real servers with real clients: python-socketio's client, the official
JavaScript socket.io-client (Node), and two server processes sharing events through Redis."""

from __future__ import annotations

import json
import os
import queue
import shutil
import subprocess
from pathlib import Path

import pytest
import socketio

from tests.chat.live import HttpError, LiveServer, environment, migrate
from tests.conftest import _database_url

JS = Path(__file__).resolve().parents[1] / "js"
IN_CI = bool(os.environ.get("REQUIRE_POSTGRES"))  # set by .ci/run, which has Node


def _client(url: str, token: str | None) -> tuple[socketio.Client, queue.Queue]:
    events: queue.Queue = queue.Queue()
    client = socketio.Client(reconnection=False)
    for name in ("message", "typing", "read", "message_deleted", "reaction", "presence",
                 "conversation_added", "conversation_removed"):  # fmt: skip
        client.on(name, lambda data, name=name: events.put((name, data)), namespace="/chat")
    client.connect(url, auth={"token": token} if token else None, namespaces=["/chat"],
                   transports=["websocket"], wait_timeout=10)  # fmt: skip
    return client, events


def _refusal(url: str, token: str | None) -> dict:
    """Connect with a bad token: the connection fails, and the reason the server gave."""
    reasons: list = []
    client = socketio.Client(reconnection=False)
    client.on("connect_error", reasons.append, namespace="/chat")
    with pytest.raises(socketio.exceptions.ConnectionError):
        client.connect(url, auth={"token": token} if token else None, namespaces=["/chat"],
                       transports=["websocket"], wait_timeout=10)  # fmt: skip
    client.disconnect()
    return reasons[0]


def _next(events: queue.Queue, name: str, timeout: float = 5) -> dict:
    while True:
        got, data = events.get(timeout=timeout)
        if got == name:
            return data


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """One live server, an alliance with a channel, three members: owner, member, outsider."""
    tmp = tmp_path_factory.mktemp("live")
    url, drop = _database_url(tmp)  # the pass's database: SQLite, or PostgreSQL
    env = environment(url)
    migrate(env)
    with LiveServer(env, tmp / "server.log") as server:
        owner, owner_token = server.member("liveowner")
        member, member_token = server.member("livemember")
        outsider, outsider_token = server.member("liveoutsider")
        alliance = server.call("POST", "/api/v1/alliances", {"name": "实时联盟"}, owner_token)
        server.call("POST", f"/api/v1/alliances/{alliance['id']}/join", {}, member_token)
        hall = {"alliance_id": alliance["id"], "name": "大厅"}
        channel = server.call("POST", "/api/v1/chat/channels", hall, owner_token)
        server.call("POST", f"/api/v1/chat/conversations/{channel['id']}/join", None, member_token)
        yield {
            "server": server, "channel": channel["id"],
            "owner": (owner, owner_token), "member": (member, member_token),
            "outsider": (outsider, outsider_token),
        }  # fmt: skip
    drop()


def test_python_client_sends_receives_types_and_reads(world):
    server, cid = world["server"], world["channel"]
    owner, events_owner = _client(server.url, world["owner"][1])
    member, events_member = _client(server.url, world["member"][1])
    try:
        ack = member.call("send", {"conversation_id": cid, "body": "实时消息 @liveowner"},
                          namespace="/chat", timeout=5)  # fmt: skip
        stored = ack["message"]
        assert stored["id"] > 0 and stored["sender"]["id"] == world["member"][0]
        assert _next(events_owner, "message") == stored
        assert _next(events_member, "message") == stored  # the sender's other tabs hear it too
        member.emit("typing", {"conversation_id": cid}, namespace="/chat")
        assert _next(events_owner, "typing") == {
            "conversation_id": cid,
            "member_id": world["member"][0],
        }
        read = owner.call("read", {"conversation_id": cid, "message_id": stored["id"]},
                          namespace="/chat", timeout=5)  # fmt: skip
        assert read == {"last_read_id": stored["id"]}
        assert _next(events_member, "read")["member_id"] == world["owner"][0]
        # a REST send reaches the sockets too
        sent = server.call("POST", f"/api/v1/chat/conversations/{cid}/messages",
                           {"body": "从 REST 发出"}, world["owner"][1])  # fmt: skip
        assert _next(events_member, "message")["id"] == sent["id"]
    finally:
        owner.disconnect()
        member.disconnect()


def test_bad_tokens_are_refused_and_outsiders_kept_out(world):
    server, cid = world["server"], world["channel"]
    expected = {None: "authentication_required", "not-a-jwt": "invalid_token",
                world["member"][1][:-2] + "xx": "invalid_token"}  # fmt: skip
    for token, code in expected.items():
        reason = _refusal(server.url, token)
        assert reason["data"]["code"] == code and reason["data"]["status"] == 401
        assert reason["message"] == reason["data"]["message"]
    outsider, _events = _client(server.url, world["outsider"][1])
    try:
        joined = outsider.call("join", {"conversation_id": cid}, namespace="/chat", timeout=5)
        assert joined["error"]["code"] == "chat_conversation_not_found"
        sent = outsider.call("send", {"conversation_id": cid, "body": "混进来"}, namespace="/chat",
                             timeout=5)  # fmt: skip
        assert sent["error"]["code"] == "chat_conversation_not_found"
    finally:
        outsider.disconnect()
    with pytest.raises(HttpError) as history:
        server.call("GET", f"/api/v1/chat/conversations/{cid}/messages", token=world["outsider"][1])
    assert history.value.code == 404
    assert history.value.body["code"] == "chat_conversation_not_found"


def test_the_official_javascript_client(world):
    node = shutil.which("node")
    if node is None and not IN_CI:
        pytest.skip("Node.js is not installed (CI always runs this)")
    assert node, "Node.js is needed for the socket.io-client test"
    if not (JS / "node_modules" / "socket.io-client").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=JS, check=True,
                       capture_output=True, timeout=300)  # fmt: skip
    server, cid = world["server"], world["channel"]
    listener, events = _client(server.url, world["owner"][1])
    try:
        done = subprocess.run(
            [node, str(JS / "chat_client.mjs"), server.url, world["member"][1], str(cid)],
            capture_output=True, text=True, timeout=30, check=False,
        )  # fmt: skip
        assert done.returncode == 0, done.stderr
        result = json.loads(done.stdout.strip().splitlines()[-1])
        assert result["refused"]["code"] == "invalid_token"
        assert result["ack"]["message"]["html"] == "<p>来自 JavaScript 客户端</p>\n"
        assert _next(events, "message")["id"] == result["ack"]["message"]["id"]
    finally:
        listener.disconnect()


def test_two_processes_share_events_through_redis(tmp_path, redis_url):
    url, drop = _database_url(tmp_path)
    env = environment(url, redis_url=redis_url)
    migrate(env)
    with LiveServer(env, tmp_path / "one.log") as one, LiveServer(env, tmp_path / "two.log") as two:
        a, a_token = one.member("redisa")
        b, b_token = one.member("redisb")
        conv = one.call("POST", "/api/v1/chat/direct", {"member_ids": [b]}, a_token)
        listener, events = _client(one.url, b_token)
        sender, _ = _client(two.url, a_token)
        try:
            ack = sender.call("send", {"conversation_id": conv["id"], "body": "跨进程的消息"},
                              namespace="/chat", timeout=5)  # fmt: skip
            assert _next(events, "message", timeout=10)["id"] == ack["message"]["id"]
            sent = two.call("POST", f"/api/v1/chat/conversations/{conv['id']}/messages",
                            {"body": "REST 也跨进程"}, a_token)  # fmt: skip
            assert _next(events, "message", timeout=10)["id"] == sent["id"]
            # rooms follow membership across processes: a new conversation made on two reaches
            # b's socket on one; leaving on two takes that socket out of the room
            c, c_token = one.member("redisc")
            group = two.call("POST", "/api/v1/chat/direct", {"member_ids": [b, c]}, a_token)
            added = _next(events, "conversation_added", timeout=10)
            assert (added["id"], added["kind"], added["member_count"]) == (group["id"], "direct", 3)
            first = two.call("POST", f"/api/v1/chat/conversations/{group['id']}/messages",
                             {"body": "三人群"}, c_token)  # fmt: skip
            assert _next(events, "message", timeout=10)["id"] == first["id"]
            two.call("POST", f"/api/v1/chat/conversations/{group['id']}/leave", None, b_token)
            assert _next(events, "conversation_removed", timeout=10) == {
                "conversation_id": group["id"]
            }
            two.call("POST", f"/api/v1/chat/conversations/{group['id']}/messages",
                     {"body": "b 听不到"}, c_token)  # fmt: skip
            marker = two.call("POST", f"/api/v1/chat/conversations/{conv['id']}/messages",
                              {"body": "b 还在这里"}, a_token)  # fmt: skip
            assert _next(events, "message", timeout=10)["id"] == marker["id"]
        finally:
            sender.disconnect()
            listener.disconnect()
    drop()


def _presence(events: queue.Queue, member_id: int) -> str:
    while True:
        data = _next(events, "presence")
        if data["member_id"] == member_id:
            return data["status"]


def test_presence_online_away_offline(world):
    server = world["server"]
    member_id, member_token = world["member"]
    owner, events = _client(server.url, world["owner"][1])
    try:
        member, _ = _client(server.url, member_token)
        assert _presence(events, member_id) == "online"
        query = f"/api/v1/chat/presence?member_ids={member_id},{world['outsider'][0]}"
        seen = server.call("GET", query, token=world["owner"][1])["items"]
        # the outsider shares nothing with the owner: offline, as if they were
        assert seen == [
            {"member_id": member_id, "status": "online"},
            {"member_id": world["outsider"][0], "status": "offline"},
        ]
        assert member.call("presence", {"status": "idle"}, namespace="/chat", timeout=5) == {
            "status": "away"
        }
        assert _presence(events, member_id) == "away"
        member.disconnect()
        assert _presence(events, member_id) == "offline"
        assert server.call("GET", query, token=world["owner"][1])["items"][0]["status"] == "offline"
    finally:
        owner.disconnect()


def test_open_sockets_kept_in_redis_forget_a_dead_process(app, redis_url):
    """The registry rooms follow is shared by all processes; a process that died without
    closing its sockets leaves sids that go after a day without a heartbeat."""
    import redis

    REDIS_URL = redis_url  # noqa: N806

    from server.chat import presence

    app.config["REDIS_URL"] = REDIS_URL
    app.extensions.pop("presence_redis", None)
    try:
        with app.app_context():
            presence.report(424242, "live-sid", "active")
            presence.report(424242, "dead-sid", "active")
            key = "jiayuan:chat:sockets:424242"
            with redis.Redis.from_url(REDIS_URL) as direct:
                direct.hset(key, "dead-sid", 0)  # last heard of in 1970
                assert presence.sockets_of(424242) == ["live-sid"]
                assert direct.hkeys(key) == [b"live-sid"]
            presence.gone(424242, "live-sid")
            assert presence.sockets_of(424242) == []
    finally:
        app.config["REDIS_URL"] = None
        client = app.extensions.pop("presence_redis", None)
        if client is not None:
            client.delete("jiayuan:chat:sockets:424242", "jiayuan:presence:424242")
            client.close()
