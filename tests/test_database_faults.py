"""PostgreSQL restarts and goes away under a real server process (the production command),
on a cluster of the test's own (``initdb`` in a temporary directory, ``tests/faults.py``).

A restart costs no request (pooled connections are checked before use); during an outage every
request, read or write, and every socket connect is told ``503 service_unavailable`` with
``Retry-After`` within seconds, never 500; when the database is back the server answers again by
itself."""

from __future__ import annotations

import time

import pytest
import socketio

from tests.chat.live import HttpError, LiveServer, environment, migrate
from tests.faults import PostgresCluster


def _outage(server: LiveServer, call) -> HttpError:
    started = time.monotonic()
    with pytest.raises(HttpError) as caught:
        call()
    assert time.monotonic() - started < 7  # the connect timeout is 5 s
    return caught.value


def test_postgresql_restart_and_outage(tmp_path):
    cluster = PostgresCluster().start()
    env = environment(tmp_path / "unused.db")
    env["DATABASE_URL"] = cluster.url
    migrate(env)
    try:
        with LiveServer(env, tmp_path / "server.log") as server:
            member, token = server.member("pg_fault")
            assert server.call("GET", "/api/v1/me", token=token)["id"] == member

            cluster.stop()  # a restart with no request in between: pooled connections are stale
            cluster.start()
            assert server.call("GET", "/api/v1/me", token=token)["id"] == member

            cluster.stop()
            for call in (
                lambda: server.call("GET", "/api/v1/me", token=token),
                lambda: server.call("PATCH", "/api/v1/me", {"bio": "停电了"}, token),
                lambda: server.call("GET", "/readyz"),
            ):
                error = _outage(server, call)
                assert error.code == 503, error.body
                if error.body.get("code"):  # /readyz answers its own shape
                    assert error.body["code"] == "service_unavailable"
                    assert error.headers["Retry-After"] == "5"
            refused = socketio.Client(reconnection=False)
            reasons: list = []
            refused.on("connect_error", reasons.append, namespace="/chat")
            with pytest.raises(socketio.exceptions.ConnectionError):
                refused.connect(server.url, auth={"token": token}, namespaces=["/chat"],
                                transports=["websocket"], wait_timeout=10)  # fmt: skip
            refused.disconnect()
            assert reasons and reasons[0]["data"]["code"] == "service_unavailable", reasons

            cluster.start()
            assert server.call("GET", "/api/v1/me", token=token)["id"] == member
            assert server.call("PATCH", "/api/v1/me", {"bio": "恢复了"}, token)["bio"] == "恢复了"
    finally:
        cluster.remove()
