"""When the infrastructure fails, clients are told so (503 ``service_unavailable`` with
``Retry-After``, never 500) and what does not need it keeps working: sign-in and chat go on
with Redis down, their limits counted per process until it is back
(``server/common/ratelimit.py``).

Redis is "down" the way an outage looks to a client of it: its address answers nothing (a free
port on this machine that no server listens on).
"""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from limits.storage import storage_from_string

from tests.conftest import PASSWORD
from tests.faults import dead_redis_url, limiter_storage_down


def test_sign_in_works_and_is_still_limited_with_redis_down(client, make_member):
    member = make_member()
    with limiter_storage_down():
        ok = client.post("/api/v1/auth/login", json={"email": member.email, "password": PASSWORD})
        assert ok.status_code == 200, ok.get_json()
        refresh = client.post(
            "/api/v1/auth/refresh",
            headers={"Authorization": f"Bearer {ok.get_json()['refresh_token']}"},
        )
        assert refresh.status_code == 200, refresh.get_json()
        for _ in range(10):
            guess = {"email": member.email, "password": "wrong guess"}
            wrong = client.post("/api/v1/auth/login", json=guess)
            assert wrong.status_code == 401
        limited = client.post("/api/v1/auth/login",
                              json={"email": member.email, "password": PASSWORD})  # fmt: skip
        assert limited.status_code == 429  # counted in this process meanwhile


@pytest.mark.parametrize(
    "error",
    [
        sa.exc.OperationalError("SELECT 1", {}, Exception("server closed the connection")),
        sa.exc.TimeoutError("QueuePool limit of size 10 overflow 10 reached"),
    ],
)
def test_database_outages_are_503_not_500(app, error):
    from server.errors import handle_unexpected

    with app.test_request_context(headers={"Accept-Language": "en"}):
        response = handle_unexpected(error)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.get_json()["code"] == "service_unavailable"
    with app.test_request_context():
        assert handle_unexpected(ValueError("a bug")).status_code == 500


def test_the_fallback_storage_goes_back_to_redis_when_it_answers(monkeypatch, redis_url):
    """After ``RETRY_SECONDS`` the storage tries Redis again, and counts there once it answers."""
    from server.common import ratelimit

    url = redis_url
    storage = storage_from_string("fallback+" + url)
    storage.reset()
    dead = storage_from_string("fallback+" + dead_redis_url())
    assert dead.incr("k", 60) == 1 and dead.incr("k", 60) == 2  # in memory meanwhile
    assert dead.down_since is not None
    storage.down_since = 0.0  # as if Redis had been down long ago
    monkeypatch.setattr(ratelimit, "RETRY_SECONDS", 0.0)
    assert storage.incr("k", 60) == 1  # tried again, and Redis answered
    assert storage.down_since is None
    storage.reset()


def test_a_runaway_statement_is_cancelled_and_answered_503(app):
    """PostgreSQL connections carry a statement timeout; a statement past it is an outage to
    the client (503, retry), not a 500 and not a connection held for minutes."""
    from server.errors import handle_unexpected
    from server.extensions import db

    with app.app_context():
        if db.engine.dialect.name != "postgresql":
            pytest.skip("the statement timeout is PostgreSQL's (SQLite has a busy timeout)")
        connection = app.extensions["test_connection"]
        shown = connection.exec_driver_sql("SHOW statement_timeout").scalar()
        assert shown == f"{app.config['DATABASE_STATEMENT_TIMEOUT_MS'] // 1000}s"
        savepoint = connection.begin_nested()
        connection.exec_driver_sql("SET LOCAL statement_timeout = 50")
        with pytest.raises(sa.exc.OperationalError) as caught:
            connection.exec_driver_sql("SELECT pg_sleep(2)")
        savepoint.rollback()
    with app.test_request_context():
        response = handle_unexpected(caught.value)
    assert response.status_code == 503 and response.headers["Retry-After"] == "5"
