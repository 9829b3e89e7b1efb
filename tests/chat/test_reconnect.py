"""Reconnect storms: sockets connecting while their sessions are signed out and their
memberships change, at once. A socket server (gevent) and a REST server of several processes
(``tests/concurrency.py``), on the pass's database, sharing events through a Redis, as in
production: whatever order the connect and the change come in, a signed-out session's socket
does not stay connected, and a socket ends up in the rooms of exactly the conversations its
member follows.

The window each guarantee guards is a millisecond or two of a connect, so each test runs
``ROUNDS`` rounds of ``N`` connects with ``N`` changes, the changes spread over the connects.
(With the connect's second read taken out, both tests fail nearly every run.)"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import socketio

from tests.chat.live import PASSWORD, LiveServer
from tests.concurrency import Race

ROUNDS = 5
N = 8
SPREAD = 0.004  # seconds between one change and the next


class Socket:
    """A python-socketio client of ``/chat`` (no reconnection) and the messages it heard;
    ``refused``: the code the server refused the connect with."""

    def __init__(self, url: str, token: str) -> None:
        self.heard: list[int] = []
        self.refused: str | None = None
        self.client = socketio.Client(reconnection=False)
        self.client.on("message", lambda m: self.heard.append(m["id"]), namespace="/chat")
        reasons: list[Any] = []
        self.client.on("connect_error", reasons.append, namespace="/chat")
        try:
            self.client.connect(url, auth={"token": token}, namespaces=["/chat"],
                                transports=["websocket"], wait_timeout=10)  # fmt: skip
        except socketio.exceptions.ConnectionError:
            self.refused = reasons[0]["data"]["code"] if reasons else "no reason"

    def connected(self) -> bool:
        return self.client.connected


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory, redis_url: str) -> Iterator[Any]:
    tmp = tmp_path_factory.mktemp("reconnect")
    with Race(tmp, env={"REDIS_URL": redis_url}) as rest:
        # the same database, Redis and keys as the REST processes
        with LiveServer(rest.server.env, tmp / "sockets.log") as sockets:
            yield rest, sockets


def _at_once(rest: Race, connects: list[Callable[[], Any]], changes: list[Callable[[], Any]]
             ) -> tuple[list[Any], list[Any]]:  # fmt: skip
    """The connects and the changes released together, the changes ``SPREAD`` apart."""

    def run(i: int) -> Any:
        if i < len(connects):
            return connects[i]()
        time.sleep(SPREAD * (i - len(connects)))
        return changes[i - len(connects)]()

    answers = rest.at_once(len(connects) + len(changes), run)
    return answers[: len(connects)], answers[len(connects) :]


def _settle(sockets: list[Socket], until: Callable[[Socket], bool], seconds: float = 10) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not all(until(s) for s in sockets):
        time.sleep(0.05)


def _close(sockets: list[Any]) -> None:
    for s in sockets:
        if isinstance(s, Socket) and s.connected():
            s.client.disconnect()


def test_a_session_signed_out_while_its_socket_connects_does_not_stay_connected(servers):
    rest, live = servers
    handles = [f"out{uuid.uuid4().hex[:10]}" for _ in range(N)]
    emails = [f"{handle}@example.com" for handle in handles]
    for handle, email in zip(handles, emails, strict=True):
        rest.call("POST", "/api/v1/auth/register", {
            "email": email, "password": PASSWORD, "display_name": handle, "username": handle,
            "privacy_policy_version": "2026-11-01",
        })  # fmt: skip
    for _ in range(ROUNDS):
        tokens = [
            rest.call("POST", "/api/v1/auth/login", {"email": e, "password": PASSWORD})[
                "access_token"
            ]
            for e in emails
        ]
        sockets, answers = _at_once(
            rest,
            [lambda t=t: Socket(live.url, t) for t in tokens],
            [lambda t=t: rest.request("POST", "/api/v1/auth/logout", token=t) for t in tokens],
        )
        try:
            assert rest.statuses(answers) == {204: N}
            # refused, or let in and then closed: whichever came first
            assert {s.refused for s in sockets} <= {None, "token_revoked"}
            _settle(sockets, lambda s: not s.connected())
            assert [s.connected() for s in sockets] == [False] * N
            again = [Socket(live.url, t).refused for t in tokens]
            assert again == ["token_revoked"] * N  # and none gets back in
        finally:
            _close(sockets)


def test_memberships_changed_while_sockets_connect_leave_them_in_the_right_rooms(servers):
    rest, live = servers
    owner = rest.member("stormowner")[1]
    alliance = rest.call("POST", "/api/v1/alliances", {"name": "重连联盟"}, owner)["id"]
    leavers = [rest.member("leaver")[1] for _ in range(N)]
    joiners = [rest.member("joiner")[1] for _ in range(N)]
    for token in leavers + joiners:
        rest.call("POST", f"/api/v1/alliances/{alliance}/join", {}, token)
    for round_ in range(ROUNDS):
        hall = {"alliance_id": alliance, "name": f"大厅{round_}"}
        channel = rest.call("POST", "/api/v1/chat/channels", hall, owner)["id"]
        path = f"/api/v1/chat/conversations/{channel}"
        for token in leavers:
            rest.call("POST", f"{path}/join", None, token)
        sockets, answers = _at_once(
            rest,
            [lambda t=t: Socket(live.url, t) for t in leavers + joiners],
            [lambda t=t, v=v, path=path: rest.request("POST", f"{path}/{v}", token=t)
             for pair in zip(leavers, joiners, strict=True)
             for t, v in zip(pair, ("leave", "join"), strict=True)],
        )  # fmt: skip
        try:
            assert [s.refused for s in sockets] == [None] * (2 * N)
            assert rest.statuses(answers) == {204: N, 200: N}
            time.sleep(0.5)  # the last room changes, sent through Redis after their commits
            said = rest.call("POST", f"{path}/messages", {"body": "谁在房间里"}, owner)["id"]
            _settle(sockets[N:], lambda s, said=said: said in s.heard)
            assert [said in s.heard for s in sockets[N:]] == [True] * N  # joined
            time.sleep(0.3)  # one emit to the room: the leavers would have heard it by now
            assert [said in s.heard for s in sockets[:N]] == [False] * N  # left
        finally:
            _close(sockets)


def test_connects_at_once_are_all_accepted_and_all_hear_their_channel(servers):
    """A storm of one member's devices and many members: every connect is accepted, each
    socket in its rooms once."""
    rest, live = servers
    owner = rest.member("crowdowner")[1]
    alliance = rest.call("POST", "/api/v1/alliances", {"name": "人多联盟"}, owner)["id"]
    hall = {"alliance_id": alliance, "name": "广场"}
    channel = rest.call("POST", "/api/v1/chat/channels", hall, owner)["id"]
    tokens = [rest.member("crowd")[1] for _ in range(N)]
    for token in tokens:
        rest.call("POST", f"/api/v1/alliances/{alliance}/join", {}, token)
        rest.call("POST", f"/api/v1/chat/conversations/{channel}/join", None, token)
    sockets: list[Socket] = rest.at_once(3 * N, lambda i: Socket(live.url, tokens[i % N]))
    try:
        assert [s.refused for s in sockets] == [None] * (3 * N)
        said = rest.call("POST", f"/api/v1/chat/conversations/{channel}/messages",
                         {"body": "大家好"}, owner)["id"]  # fmt: skip
        _settle(sockets, lambda s: said in s.heard)
        assert [s.heard.count(said) for s in sockets] == [1] * (3 * N)
    finally:
        _close(sockets)
