"""Test fixtures: one schema per session, one rolled-back transaction per test.

The database is SQLite (a temporary file) unless ``TEST_DATABASE_URL`` names PostgreSQL; then a
schema of its own is created for the session and dropped at the end, so runs never collide.
The schema is built by running the real migrations, so every run also proves they work.

Each test runs inside one outer transaction on one connection; the app's sessions join it with
savepoints, so a service's ``commit()`` really commits (to the savepoint) and the next request
sees it, and everything is rolled back after the test.
"""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask, request, request_finished
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy.orm import scoped_session, sessionmaker

from server import create_app
from server.extensions import db, limiter
from tests.caller import Caller
from tests.forum.helpers import Forum
from tests.openapi import AdminHeaders

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"


def _database_url(tmp: Path) -> tuple[str, Callable[[], None]]:
    url = os.environ.get("TEST_DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql")):
        return f"sqlite:///{tmp / 'test.db'}", lambda: None
    schema = f"test_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with admin.begin() as conn:
        conn.exec_driver_sql(f"CREATE SCHEMA {schema}")
    sep = "&" if "?" in url else "?"

    def drop() -> None:
        with admin.begin() as conn:
            conn.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
        admin.dispose()

    return f"{url}{sep}options=-csearch_path%3D{schema}", drop


@pytest.fixture(scope="session")
def app() -> Iterator[Flask]:
    with tempfile.TemporaryDirectory() as tmp:
        url, drop = _database_url(Path(tmp))
        app = create_app(
            {
                "JIAYUAN_ENV": "test",
                "SECRET_KEY": "test-secret-key-" + "x" * 32,
                "JWT_SECRET_KEY": "test-jwt-secret-" + "y" * 32,
                "DATABASE_URL": url,
                "MEDIA_ROOT": str(Path(tmp) / "media"),  # uploads never land in instance/
                "SQLALCHEMY_DATABASE_URI": url.replace("postgresql://", "postgresql+psycopg://", 1),
                "JOBS_BACKEND": "immediate",
                "MAIL_BACKEND": "memory",
                "ARGON2_TIME_COST": 1,
                "ARGON2_MEMORY_COST": 1024,
                "ARGON2_PARALLELISM": 1,
                "LOG_LEVEL": "WARNING",
                "CORS_ORIGINS": ["https://app.example"],
            }
        )
        with app.app_context():
            upgrade(directory=str(ROOT / "migrations"))
        app.extensions["errors_seen"] = set()
        request_finished.connect(_record_error, app)
        try:
            yield app
        finally:
            request_finished.disconnect(_record_error, app)
            with app.app_context():
                db.engine.dispose()
            drop()


# --- the error-contract recorder (tests/test_error_contract.py) -----------------------------
# Every error answer of the session's app, as (method, URL rule, status, code): the last test
# of the run checks each is documented for its operation. Requests that match no route are
# left out (no operation to hold them to), and so are servers in other processes.


def _record_error(app: Flask, response: Any, **_extra: Any) -> None:
    if response.status_code < 400 or request.url_rule is None or response.is_streamed:
        return
    body = response.get_json(silent=True) if response.is_json else None
    if isinstance(body, dict) and isinstance(body.get("code"), str):
        method = "GET" if request.method == "HEAD" else request.method
        seen = (method, request.url_rule.rule, response.status_code, body["code"])
        app.extensions["errors_seen"].add(seen)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Tests marked ``RUN_LAST`` (the error-contract check of what the run recorded) last."""
    last = [i for i in items if getattr(getattr(i, "function", None), "RUN_LAST", False)]
    items[:] = [i for i in items if all(i is not j for j in last)] + last


def _app_ctx_id() -> int:
    from flask.globals import app_ctx

    return id(app_ctx._get_current_object())  # type: ignore[attr-defined]


@pytest.fixture(autouse=True)
def _transaction(app: Flask) -> Iterator[None]:
    """Everything a test writes is rolled back; limits and the outbox start empty."""
    with app.app_context():
        engine = db.engine
    connection = engine.connect()
    # SQLite: the outer transaction every request of the test shares begins DEFERRED, so that
    # it takes the write lock at its first write (as before IMMEDIATE), not before a test's
    # own second connection reads
    connection.info["sqlite_begin"] = "deferred"
    outer = connection.begin()
    original = db.session
    db.session = scoped_session(
        sessionmaker(
            bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False
        ),
        scopefunc=_app_ctx_id,
    )
    limiter.reset()
    app.extensions["mail_outbox"] = []
    app.extensions["test_connection"] = connection  # for tests that roll back within a test
    try:
        yield
    finally:
        app.extensions.pop("test_connection", None)
        db.session = original  # each app context closed its own session on teardown
        outer.rollback()
        connection.close()


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis of this run's own (``redis-server`` on a free port): two runs on one machine
    never hear each other's events, jobs or counters."""
    from tests.faults import RedisServer

    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def race(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The concurrency harness (``tests/concurrency.py``): one server of several processes on
    the pass's database, started when a test first asks for it."""
    from tests.concurrency import Race

    with Race(tmp_path_factory.mktemp("race")) as harness:
        yield harness


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def caller(client: FlaskClient, auth_headers: Callable[..., dict[str, str]]) -> Caller:
    """``caller.call(member, "GET", "/api/v1/me", 200)`` → the body (``tests/caller.py``)."""
    return Caller(client, auth_headers)


@pytest.fixture
def forum(caller: Caller) -> Forum:
    """The forum's caller (paths under ``/api/v1/forum``) with its conveniences."""
    return Forum(caller.client, caller.auth_headers)


@pytest.fixture
def organiser(make_member: Callable[..., Any]) -> Any:
    """A member with the organiser's role (who makes forum categories and alliances)."""
    return make_member(role="organiser", display_name="组织者", username="organiser1")


class QueryCounter:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)

    def __call__(self, _conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not re.match(r"\s*(SAVEPOINT|RELEASE|ROLLBACK TO|BEGIN|COMMIT)", statement, re.I):
            self.statements.append(statement)


@pytest.fixture
def count_queries(app: Flask) -> Callable[[], contextlib.AbstractContextManager[QueryCounter]]:
    """``with count_queries() as q: …; assert q.count == 3`` counts SQL sent to the database."""

    @contextlib.contextmanager
    def counting() -> Iterator[QueryCounter]:
        counter = QueryCounter()
        with app.app_context():
            engine = db.engine
        sa.event.listen(engine, "before_cursor_execute", counter)
        try:
            yield counter
        finally:
            sa.event.remove(engine, "before_cursor_execute", counter)

    return counting


@pytest.fixture
def make_member(app: Flask) -> Callable[..., Any]:
    """``make_member(display_name="林晓雨", city="杭州", role="organiser")`` → a saved Member."""
    from server.members.bootstrap import ensure_member
    from server.members.models import Member

    counter = iter(range(1, 1_000_000))

    def make(
        *,
        email: str | None = None,
        display_name: str = "测试成员",
        password: str = PASSWORD,
        role: str = "member",
        username: str | None = None,
        city: str | None = None,
        occupations: list[str] | None = None,
        bio: str = "",
        **attributes: Any,
    ) -> Member:
        n = next(counter)
        with app.app_context():
            member = ensure_member(
                email or f"member{n}-{uuid.uuid4().hex[:6]}@example.com",
                password,
                display_name,
                role=role,
                username=username,
                city=city,
                occupations=occupations,
                bio=bio,
            )
            for name, value in attributes.items():
                setattr(member, name, value)
            db.session.commit()
            member.occupations  # noqa: B018 - load before the session closes
            return member

    return make


@pytest.fixture
def auth_headers(app: Flask) -> Callable[..., dict[str, str]]:
    """``auth_headers(member)`` → an Authorization header for a fresh session of ``member``."""
    from server.auth.service import sign_in

    def headers(member: Any, **extra: str) -> dict[str, str]:
        with app.app_context():
            from server.members.models import Member

            tokens = sign_in(db.session.get(Member, member.id))
        return {"Authorization": f"Bearer {tokens.access_token}", **extra}

    return headers


@pytest.fixture(scope="module")
def spec(app: Flask) -> dict[str, Any]:
    """The OpenAPI document, as a client downloads it."""
    return app.test_client().get("/api/v1/openapi.json").get_json()


@pytest.fixture
def admin_headers(
    make_member: Callable[..., Any], auth_headers: Callable[..., dict[str, str]]
) -> AdminHeaders:
    """A site admin's headers (answers in zh-TW) and another member's id, for walks over every
    operation (``tests/openapi.py``)."""
    admin = make_member(role="admin")
    target = make_member()
    headers = {**auth_headers(admin), "Accept-Language": "zh-TW"}
    return AdminHeaders(headers=headers, member_id=target.id)


@pytest.fixture(scope="session")
def fake_fcm_server() -> Iterator[Any]:
    from tests.fake_fcm import FakeFcm

    server = FakeFcm().start()
    yield server
    server.stop()


@pytest.fixture
def fake_fcm(app: Flask, fake_fcm_server: Any, tmp_path: Path) -> Iterator[Any]:
    """The app sends pushes through firebase-admin credentials to the fake FCM server."""
    fake_fcm_server.reset()
    key = fake_fcm_server.service_account(tmp_path / "service-account.json")
    saved = {k: app.config.get(k) for k in ("PUSH_PROVIDER", "FCM_CREDENTIALS", "FCM_ENDPOINT")}
    app.config.update(
        PUSH_PROVIDER="fcm", FCM_CREDENTIALS=str(key), FCM_ENDPOINT=fake_fcm_server.base_url
    )
    try:
        yield fake_fcm_server
    finally:
        app.config.update(saved)
        app.extensions.pop("push_provider", None)
