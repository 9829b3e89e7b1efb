"""Every limited endpoint stops at its limit: the request after the last allowed one is
``429 rate_limited`` with ``Retry-After``, in the one error shape. (Sign-in, thread and reply
limits, and chat's own, have tests of their own in auth/, forum/ and chat/.)"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.conftest import PASSWORD
from tests.forum.helpers import BODY, new_thread


def _exhaust(limit: int, send: Callable[[int], Any]) -> None:
    """``limit`` requests pass (whatever else they answer), the next is 429."""
    for i in range(limit):
        r = send(i)
        assert r.status_code != 429, (i, r.get_json())
    refused = send(limit)
    assert refused.status_code == 429, refused.get_json()
    assert refused.get_json()["code"] == "rate_limited"
    assert int(refused.headers["Retry-After"]) > 0


def _register(client: Any, i: int) -> Any:
    return client.post("/api/v1/auth/register", json={
        "email": f"limit{i}@example.com", "password": PASSWORD, "display_name": f"注册{i}",
        "privacy_policy_version": "2026-11-01",
    })  # fmt: skip


def test_registration_per_address(client):
    _exhaust(5, lambda i: _register(client, i))  # 5/minute


def test_refresh_per_address(client):
    garbage = {"Authorization": "Bearer not-a-token"}
    _exhaust(60, lambda _i: client.post("/api/v1/auth/refresh", headers=garbage))


def test_password_reset_per_account_and_per_address(client, make_member):
    member = make_member()
    _exhaust(3, lambda _i: client.post("/api/v1/auth/password-reset",
                                       json={"email": member.email}))  # fmt: skip
    # other accounts from the same address: 10 an hour in all (4 were spent above, the refused
    # one included)
    _exhaust(6, lambda i: client.post("/api/v1/auth/password-reset",
                                      json={"email": f"someone{i}@example.com"}))  # fmt: skip


def test_password_reset_confirmation_per_address(client):
    body = {"token": "x" * 43, "password": "a new long password"}
    _exhaust(20, lambda _i: client.post("/api/v1/auth/password-reset/confirm", json=body))


@dataclass(frozen=True)
class Post:
    author: Any
    id: int


@pytest.fixture
def post(forum, make_member):
    """The first post of a thread by a member."""
    author, thread = new_thread(forum, make_member, make_member())
    return Post(author=author, id=forum.posts(author, thread["id"])[0]["id"])


def test_forum_edits(client, auth_headers, post):
    headers = auth_headers(post.author)
    _exhaust(30, lambda i: client.patch(f"/api/v1/forum/posts/{post.id}", headers=headers,
                                        json={"body": f"{BODY}（第{i}次修改）"}))  # fmt: skip


def test_forum_reactions(client, auth_headers, make_member, post):
    headers = auth_headers(make_member())
    path = f"/api/v1/forum/posts/{post.id}/reactions/like"
    _exhaust(120, lambda _i: client.put(path, headers=headers))


def test_forum_flags(client, auth_headers, make_member, post):
    headers = auth_headers(make_member())
    path = f"/api/v1/forum/posts/{post.id}/flags"
    _exhaust(20, lambda _i: client.post(path, headers=headers, json={"reason": "spam"}))


def test_forum_search(client, auth_headers, make_member):
    headers = auth_headers(make_member())
    _exhaust(60, lambda _i: client.get("/api/v1/forum/search", headers=headers,
                                       query_string={"q": "报价"}))  # fmt: skip


def test_alliance_creation_joining_and_invites(client, auth_headers, make_member):
    creator = auth_headers(make_member(role="organiser"))
    _exhaust(10, lambda i: client.post("/api/v1/alliances", headers=creator,
                                       json={"name": f"联盟{i:02d}"}))  # fmt: skip
    joiner = auth_headers(make_member())
    _exhaust(30, lambda _i: client.post("/api/v1/alliances/1/join", headers=joiner, json={}))
    _exhaust(20, lambda _i: client.post(f"/api/v1/alliances/invites/{'x' * 24}/accept",
                                        headers=joiner))  # fmt: skip


def test_announcements(client, auth_headers, make_member):
    headers = auth_headers(make_member(role="organiser"))
    _exhaust(10, lambda i: client.post("/api/v1/announcements", headers=headers,
                                       json={"title": f"通知{i}", "body": "内容"}))  # fmt: skip


def test_limits_are_shared_by_processes_through_redis(tmp_path):
    """Two server processes with one Redis (what production configures with REDIS_URL) count
    together: 5 sign-ups a minute from one address, whichever process gets them."""
    from tests.chat.live import HttpError, LiveServer, environment, migrate
    from tests.conftest import _database_url
    from tests.faults import RedisServer

    redis = RedisServer(tmp_path).start()
    url, drop = _database_url(tmp_path)
    env = environment(url, redis_url=redis.url)
    env["RATELIMIT_STORAGE_URI"] = f"fallback+{redis.url}"
    migrate(env)
    try:
        with LiveServer(env, tmp_path / "one.log") as one, \
                LiveServer(env, tmp_path / "two.log") as two:  # fmt: skip

            def sign_up(server: LiveServer, i: int) -> None:
                server.call("POST", "/api/v1/auth/register", {
                    "email": f"shared{i}@example.com", "password": PASSWORD,
                    "display_name": f"共享{i}", "privacy_policy_version": "2026-11-01",
                })  # fmt: skip

            for i in range(5):
                sign_up((one, two)[i % 2], i)
            with pytest.raises(HttpError) as refused:
                sign_up(two, 5)
            assert refused.value.code == 429
            assert refused.value.body["code"] == "rate_limited"
    finally:
        redis.stop()
        drop()


def test_the_per_address_limits_are_settings(app, client, monkeypatch):
    """Members behind one carrier NAT share an address: operators raise these."""
    monkeypatch.setitem(app.config, "REGISTER_LIMIT", "8/minute")
    _exhaust(8, lambda i: _register(client, 100 + i))
    monkeypatch.setitem(app.config, "REFRESH_LIMIT", "2/minute")
    garbage = {"Authorization": "Bearer not-a-token"}
    _exhaust(2, lambda _i: client.post("/api/v1/auth/refresh", headers=garbage))
