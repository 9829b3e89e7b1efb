"""What every request pays (issue #15): the rate limiter only where a limit applies, the
conditional-GET hook's headers, and on PostgreSQL no BEGIN, COMMIT or ROLLBACK for a read-only
request (``server/common/ratelimit.py``, ``server/common/http.py``, ``server/common/tx.py``)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import flask_limiter
import pytest
import sqlalchemy as sa
from sqlalchemy.orm import scoped_session, sessionmaker

from server.common.tx import only_reads
from server.extensions import db, limiter
from server.members.models import Member
from tests.conftest import PASSWORD, _app_ctx_id

STORAGE_METHODS = (
    "incr", "get", "get_expiry", "check", "clear", "reset", "acquire_entry",
    "get_moving_window", "acquire_sliding_window_entry", "get_sliding_window",
)  # fmt: skip


@pytest.fixture
def limiter_work(monkeypatch) -> dict[str, int]:
    """Calls into the limiter's storage, and limits it evaluated."""
    seen = {"storage": 0, "evaluated": 0}
    storage = limiter.storage
    for name in STORAGE_METHODS:
        method = getattr(storage, name, None)
        if method is not None:
            monkeypatch.setattr(storage, name, _counting(method, seen, "storage"))
    evaluate = getattr(flask_limiter.Limiter, "_Limiter__evaluate_limits")  # noqa: B009
    monkeypatch.setattr(
        flask_limiter.Limiter, "_Limiter__evaluate_limits", _counting(evaluate, seen, "evaluated")
    )
    return seen


def _counting(fn: Any, seen: dict[str, int], key: str) -> Any:
    def counted(*args: Any, **kwargs: Any) -> Any:
        seen[key] += 1
        return fn(*args, **kwargs)

    return counted


def test_routes_without_a_limit_never_touch_the_limiter(
    client, make_member, auth_headers, limiter_work
):
    headers = auth_headers(make_member())
    for method, path, body in (
        ("GET", "/healthz", None),
        ("GET", "/api/v1/me", None),  # limited for DELETE only
        ("PATCH", "/api/v1/me", {"bio": "不限速"}),
        ("GET", "/api/v1/members?limit=5", None),
        ("GET", "/api/v1/forum/categories", None),
    ):
        answer = client.open(path, method=method, json=body, headers=headers)
        assert answer.status_code == 200, (path, answer.get_json())
        assert not any(h.startswith("X-RateLimit") for h in answer.headers.keys())
    assert limiter_work == {"storage": 0, "evaluated": 0}

    # where a limit applies, it is counted as before
    wrong = client.delete("/api/v1/me", json={"password": "not it"}, headers=headers)
    assert wrong.status_code == 403 and "X-RateLimit-Limit" in wrong.headers
    assert limiter_work["storage"] > 0 and limiter_work["evaluated"] == 1


def test_conditional_get_headers(client, make_member, auth_headers):
    headers = auth_headers(make_member())
    signed_in = client.get("/api/v1/me", headers=headers)
    assert signed_in.headers["Vary"] == "Authorization, Accept-Language"
    assert signed_in.headers["Cache-Control"] == "private, no-cache"
    assert signed_in.headers["ETag"].startswith('"') and len(signed_in.headers["ETag"]) == 42
    anonymous = client.get("/api/v1/meta")
    assert anonymous.headers["Vary"] == "Accept-Language"
    assert anonymous.headers["Cache-Control"] == "public, max-age=300"  # the view's own
    assert client.get("/api/v1/meta", headers={"If-None-Match": anonymous.headers["ETag"]}
                      ).status_code == 304  # fmt: skip
    posted = client.post("/api/v1/auth/refresh", headers=headers)  # not a GET: no ETag
    assert "ETag" not in posted.headers


def test_vary_keeps_what_is_there():
    from werkzeug.datastructures import Headers

    from server.common.http import _vary

    headers = Headers({"Vary": "Origin, accept-language"})
    _vary(headers, headers["Vary"], ("Authorization", "Accept-Language"))
    assert headers.getlist("Vary") == ["Origin, accept-language, Authorization"]
    _vary(headers, headers["Vary"], ("Authorization",))
    assert headers.getlist("Vary") == ["Origin, accept-language, Authorization"]
    empty = Headers()
    _vary(empty, None, ("Accept-Language",))
    assert empty.getlist("Vary") == ["Accept-Language"]


def test_only_plain_selects_are_reads():
    assert only_reads("SELECT members.id FROM members WHERE members.id = %(id)s")
    assert only_reads("\n  select 1")
    for statement in (
        "UPDATE members SET bio = %(bio)s",
        "INSERT INTO members (id) VALUES (1)",
        "DELETE FROM auth_sessions",
        "SELECT auth_sessions.id FROM auth_sessions WHERE id = %(id)s FOR UPDATE",
        "SELECT id FROM members FOR NO KEY UPDATE SKIP LOCKED",
        "select id from members for share",
        "SELECT pg_advisory_xact_lock(1)",
        "SELECT nextval('members_id_seq')",
        "SAVEPOINT sa_savepoint_1",
        "WITH moved AS (DELETE FROM x RETURNING *) SELECT * FROM moved",
    ):
        assert not only_reads(statement), statement


# --- PostgreSQL: round trips -------------------------------------------------------------------


class RoundTrips:
    """What psycopg sent: statements, and the BEGIN, COMMIT and ROLLBACK it sent of its own
    (SQLAlchemy's statement events do not see those: psycopg opens a transaction itself before
    a statement when it is not in autocommit, and ends one only if one is open)."""

    def __init__(self) -> None:
        self.statements: list[str] = []
        self.begun = self.commits = self.rollbacks = 0
        self._was_open = False

    @staticmethod
    def _open(conn: Any) -> bool:
        return conn.connection.dbapi_connection.info.transaction_status != 0  # 0: IDLE

    def before(self, conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        self.statements.append(statement)
        self._was_open = self._open(conn)

    def after(self, conn: Any, *_args: Any) -> None:
        if not self._was_open and self._open(conn):
            self.begun += 1

    def commit(self, conn: Any) -> None:
        self.commits += self._open(conn)

    def rollback(self, conn: Any) -> None:
        self.rollbacks += self._open(conn)

    @property
    def transaction_round_trips(self) -> int:
        return self.begun + self.commits + self.rollbacks


@pytest.fixture
def own_connections(app) -> Iterator[Any]:
    """PostgreSQL only: requests on connections of the pool, outside the test's transaction
    (which would hide what a request does with its own). What is written stays: clean up."""
    with app.app_context():
        engine = db.engine
    if engine.dialect.name != "postgresql":
        pytest.skip("PostgreSQL's round trips")
    saved = db.session
    db.session = scoped_session(
        sessionmaker(bind=engine, expire_on_commit=False), scopefunc=_app_ctx_id
    )
    try:
        yield engine
    finally:
        db.session = saved


@pytest.fixture
def round_trips(own_connections) -> Iterator[Any]:
    def counting() -> Any:
        counter = RoundTrips()
        listeners = [
            ("before_cursor_execute", counter.before),
            ("after_cursor_execute", counter.after),
            ("commit", counter.commit),
            ("rollback", counter.rollback),
        ]
        for name, fn in listeners:
            sa.event.listen(own_connections, name, fn)
        counter.remove = lambda: [sa.event.remove(own_connections, n, f) for n, f in listeners]
        return counter

    yield counting


def test_a_read_only_get_on_postgresql_sends_no_transaction(app, client, round_trips):
    from server.auth.service import sign_in
    from server.members.bootstrap import ensure_member

    email = f"rt-{uuid.uuid4().hex[:8]}@example.com"
    with app.app_context():
        member = ensure_member(email, PASSWORD, "往返")
        member_id, token = member.id, sign_in(member).access_token
    headers = {"Authorization": f"Bearer {token}"}
    try:
        for path, statements in (("/api/v1/me", 1), ("/api/v1/members?limit=5", 2)):
            counter = round_trips()
            try:
                answer = client.get(path, headers=headers)
            finally:
                counter.remove()
            assert answer.status_code == 200
            assert len(counter.statements) == statements, counter.statements
            assert counter.transaction_round_trips == 0, vars(counter)

        # a write still runs in one transaction: BEGIN before its first statement, one COMMIT
        counter = round_trips()
        try:
            assert client.post("/api/v1/auth/logout", headers=headers).status_code == 204
        finally:
            counter.remove()
        assert (counter.begun, counter.commits, counter.rollbacks) == (1, 1, 0), vars(counter)
    finally:
        with app.app_context(), db.engine.begin() as conn:
            conn.execute(sa.delete(Member).where(Member.id == member_id))


def test_a_read_only_request_that_writes_writes_in_one_transaction(app, round_trips):
    counter = round_trips()
    try:
        with app.test_request_context("/api/v1/me", method="GET"):
            db.session.execute(sa.select(Member.id).limit(1)).all()
            assert counter.begun == 0
            # the first statement that may write begins the transaction it runs in
            db.session.execute(sa.update(Member).where(Member.id == -1).values(bio="x"))
            db.session.execute(sa.select(Member.id).limit(1)).all()
            assert counter.begun == 1
            db.session.rollback()
            assert counter.rollbacks == 1
            db.session.execute(sa.select(Member.id).limit(1)).all()
            assert counter.begun == 1  # the request's next transaction reads in autocommit
            db.session.execute(sa.select(Member.id).where(Member.id == -1).with_for_update())
            assert counter.begun == 2  # until it locks rows
        assert counter.rollbacks == 2  # ended with the request
        with app.app_context():  # a job or a command: BEGIN before the first statement
            db.session.execute(sa.select(Member.id).limit(1)).all()
            assert counter.begun == 3
    finally:
        counter.remove()
