"""A revoked session stops working in every process: two server processes (gunicorn, one sync
worker each) on the pass's database (an SQLite file, or a PostgreSQL schema of their own), with
Redis (``REDIS_URL``) and without. A session is revoked through one process; the other, which
has already verified the token and answered it, must refuse it within ``BOUND`` seconds.

The token check reads the session with its member on every request (``server/auth/tokens.py``)
and keeps nothing across requests, so the other process refuses the very next request: these
tests hold it to that, which is well inside the bound, and Redis changes nothing."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.chat.live import PASSWORD, HttpError, LiveServer, environment, migrate
from tests.conftest import _database_url

BOUND = 1.0  # seconds: the promise (README, "Sign-in sessions")


@pytest.fixture(params=["without_redis", "with_redis"])
def processes(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[tuple[LiveServer, ...]]:
    redis = request.getfixturevalue("redis_url") if request.param == "with_redis" else None
    url, drop = _database_url(tmp_path)
    env = environment(url, redis)
    env["RATELIMIT_ENABLED"] = "0"
    try:
        migrate(env)
        with (
            LiveServer(env, tmp_path / "a.log", worker_class="sync") as a,
            LiveServer(env, tmp_path / "b.log", worker_class="sync") as b,
        ):
            yield a, b
    finally:
        drop()


def _signed_in(server: LiveServer, email: str) -> dict[str, str]:
    return server.call("POST", "/api/v1/auth/login", {"email": email, "password": PASSWORD})


def _refused_at_once(server: LiveServer, token: str, revoked_at: float) -> None:
    """The first request after the revoking answer is refused, within the bound."""
    with pytest.raises(HttpError) as refused:
        server.call("GET", "/api/v1/me", token=token)
    elapsed = time.monotonic() - revoked_at
    assert (refused.value.code, refused.value.body["code"]) == (401, "token_revoked")
    assert elapsed < BOUND, f"refused {elapsed:.3f} s after the revocation"


def test_a_revoked_session_is_refused_by_the_other_process(processes, tmp_path):
    a, b = processes
    handle = f"rev{tmp_path.name[-6:]}".replace("-", "")
    member_id, token = a.member(handle)
    email = f"{handle}@example.com"
    assert b.call("GET", "/api/v1/me", token=token)["id"] == member_id  # b has checked it

    # signed out through a
    a.call("POST", "/api/v1/auth/logout", token=token)
    _refused_at_once(b, token, time.monotonic())

    # replaced: a spent refresh token presented again revokes the session (family) it belongs to
    first = _signed_in(a, email)
    second = a.call("POST", "/api/v1/auth/refresh", token=first["refresh_token"])
    assert b.call("GET", "/api/v1/me", token=second["access_token"])["id"] == member_id
    with pytest.raises(HttpError) as reused:
        a.call("POST", "/api/v1/auth/refresh", token=first["refresh_token"])
    assert reused.value.body["code"] == "refresh_token_reused"
    revoked_at = time.monotonic()
    _refused_at_once(b, second["access_token"], revoked_at)
    _refused_at_once(b, first["access_token"], revoked_at)

    # a new password signs out every other session of the member
    keep, other = _signed_in(a, email), _signed_in(a, email)
    assert b.call("GET", "/api/v1/me", token=other["access_token"])["id"] == member_id
    a.call("POST", "/api/v1/auth/password",
           {"current_password": PASSWORD, "new_password": PASSWORD + "!"},
           token=keep["access_token"])  # fmt: skip
    _refused_at_once(b, other["access_token"], time.monotonic())
    assert b.call("GET", "/api/v1/me", token=keep["access_token"])["id"] == member_id

    # erased: the account is deleted through a
    a.call("DELETE", "/api/v1/me", {"password": PASSWORD + "!"}, token=keep["access_token"])
    _refused_at_once(b, keep["access_token"], time.monotonic())
