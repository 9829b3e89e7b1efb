"""Redis stops and comes back under two real Socket.IO processes (the production command,
gunicorn with gevent) and a Redis of the test's own (``tests/faults.py``).

While it is down: sign-in works, a socket connects and a send is answered within a second,
REST processes stay ready and Socket.IO processes say they are not. Within five seconds of its
return: the processes listen again, every connected client is told ``resync`` (events were
missed: reload by anchor), and events cross processes again."""

from __future__ import annotations

import queue
import time
import urllib.error
import urllib.request

import socketio

from tests.chat.live import PASSWORD, LiveServer, environment, migrate
from tests.conftest import _database_url
from tests.faults import RedisServer


def _client(url: str, token: str) -> tuple[socketio.Client, queue.Queue]:
    events: queue.Queue = queue.Queue()
    client = socketio.Client(reconnection=False)
    for name in ("message", "resync"):
        client.on(name, lambda data, name=name: events.put((name, data)), namespace="/chat")
    client.connect(url, auth={"token": token}, namespaces=["/chat"],
                   transports=["websocket"], wait_timeout=10)  # fmt: skip
    return client, events


def _next(events: queue.Queue, name: str, timeout: float) -> dict:
    deadline = time.monotonic() + timeout
    while True:
        got, data = events.get(timeout=max(deadline - time.monotonic(), 0.01))
        if got == name:
            return data


def _status(url: str) -> int:
    try:
        with urllib.request.urlopen(url, timeout=3) as r:
            return r.status
    except urllib.error.HTTPError as err:
        err.close()
        return err.code


def _until(condition, timeout: float, what: str) -> float:
    started = time.monotonic()
    while not condition():
        if time.monotonic() - started > timeout:
            raise AssertionError(f"not within {timeout} s: {what}")
        time.sleep(0.1)
    return time.monotonic() - started


def test_redis_outage_under_two_socket_processes(tmp_path):
    redis = RedisServer(tmp_path).start()
    url, drop = _database_url(tmp_path)
    env = environment(url, redis_url=redis.url)
    env["RATELIMIT_STORAGE_URI"] = f"fallback+{redis.url}"  # what production configures
    migrate(env)
    try:
        with LiveServer(env, tmp_path / "one.log") as one, \
                LiveServer(env, tmp_path / "two.log") as two:  # fmt: skip
            a, a_token = one.member("fault_a")
            b, b_token = one.member("fault_b")
            conv = one.call("POST", "/api/v1/chat/direct", {"member_ids": [b]}, a_token)
            path = f"/api/v1/chat/conversations/{conv['id']}/messages"
            listener, events = _client(one.url, b_token)
            sender, sender_events = _client(two.url, a_token)
            try:
                sent = two.call("POST", path, {"body": "之前"}, a_token)
                assert _next(events, "message", 10)["id"] == sent["id"]
                _until(lambda: _status(one.url + "/readyz/socketio") == 200, 5, "ready")

                redis.stop()
                _until(lambda: _status(one.url + "/readyz/socketio") == 503, 5, "not ready")
                assert _status(one.url + "/readyz") == 200  # REST: still ready

                login = {"email": "fault_a@example.com", "password": PASSWORD}
                signed_in = one.call("POST", "/api/v1/auth/login", login)
                assert signed_in["access_token"]
                started = time.monotonic()
                late, _ = _client(two.url, signed_in["access_token"])
                connected = time.monotonic()
                ack = late.call("send", {"conversation_id": conv["id"], "body": "停电中"},
                                namespace="/chat", timeout=5)  # fmt: skip
                answered = time.monotonic()
                assert ack["message"]["id"] > sent["id"]
                assert connected - started < 1.0  # connect answers during the outage
                assert answered - connected < 1.0  # and so does a send
                late.disconnect()

                redis.start()  # the same port, empty: nothing was kept
                back = time.monotonic()
                assert _next(events, "resync", 5) == {"reason": "events_missed"}
                assert _next(sender_events, "resync", 5) == {"reason": "events_missed"}
                again = two.call("POST", path, {"body": "恢复了"}, a_token)
                assert _next(events, "message", 5)["id"] == again["id"]
                assert time.monotonic() - back < 5.0
                assert _status(one.url + "/readyz/socketio") == 200
            finally:
                sender.disconnect()
                listener.disconnect()
    finally:
        redis.stop()
        drop()
