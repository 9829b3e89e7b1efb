"""The Jiayuan server: ``create_app(config=None)`` builds one Flask app.

Order: config → extensions → features → error handlers. Creating an app has no side effects
beyond reading the environment (and, in development, writing generated secrets to
``instance/``): it runs no migration and opens no connection.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from flask import Flask

from server.config import load_config


def create_app(config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app; ``config`` overrides settings from the environment (tests use it)."""
    app = Flask(__name__, instance_relative_config=True)
    app.config.update(load_config(app.instance_path, overrides=config))

    from server import cli
    from server.common import (
        http,
        idempotency,
        jsonio,
        observability,
        owed,  # noqa: F401  (declares owed_work and its sweep)
    )
    from server.extensions import api, cors, db, jobs, jwt, limiter, migrate, socketio

    http.trust_proxies(app)
    jsonio.install(app)
    db.init_app(app)
    _configure_engine_events(app)
    migrate.init_app(app, db, directory=str(_migrations_dir()))
    jwt.init_app(app)
    limiter.init_app(app)
    jobs.init_app(app)
    if app.config["CORS_ORIGINS"]:
        cors.init_app(
            app,
            resources={r"/api/*": {"origins": app.config["CORS_ORIGINS"]}},
            expose_headers=["ETag", "Retry-After", "X-Request-ID", idempotency.REPLAYED],
            # a browser sends Origin with every cross-origin request; the apps send none, and
            # get no Access-Control headers they would not read
            always_send=False,
        )
    api.init_app(app)
    from server.common.socketwire import StrictPacket

    bus: dict[str, Any] = {}
    if app.config["REDIS_URL"]:
        from server.common.socketbus import ResilientRedisManager

        # events cross processes through Redis, recovering in seconds after an outage
        bus["client_manager"] = ResilientRedisManager(
            app.config["REDIS_URL"], channel="flask-socketio"
        )
    socketio.init_app(
        app,
        async_mode=app.config["SOCKETIO_ASYNC_MODE"],
        # namespaces with handlers are accepted (/chat); "/" and any other are refused
        namespaces=["/chat"],
        serializer=StrictPacket,
        cors_allowed_origins=app.config["CORS_ORIGINS"] or [],
        **bus,
    )
    observability.init_app(app)
    http.init_app(app)
    idempotency.init_app(app)

    from server import alliances, auth, chat, forum, media, members, meta, notifications

    for feature in (auth, members, media, notifications, forum, alliances, chat, meta):
        feature.register(app, api)

    cli.register(app)
    return app


def _migrations_dir() -> Any:
    from pathlib import Path

    return Path(__file__).resolve().parent.parent / "migrations"


def _configure_engine_events(app: Flask) -> None:
    """PostgreSQL: a statement timeout. SQLite: foreign keys on, WAL, a busy timeout, and real
    transactions (SAVEPOINT works)."""
    from sqlalchemy import event
    from sqlalchemy.engine import Engine
    from sqlalchemy.exc import DBAPIError

    from server.extensions import db

    with app.app_context():
        engine: Engine = db.engine
    if engine.dialect.name == "postgresql":
        timeout = int(app.config["DATABASE_STATEMENT_TIMEOUT_MS"])

        @event.listens_for(engine, "connect")
        def _statement_timeout(dbapi_connection: Any, _record: Any) -> None:
            # a statement that runs away fails (503) instead of holding a connection and its
            # locks; migrations lift it for their own connection (migrations/env.py)
            with dbapi_connection.cursor() as cursor:
                cursor.execute(f"SET statement_timeout = {timeout}")
            dbapi_connection.commit()

        _check_before_use(engine)
        return
    if not app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite"):
        return

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # pysqlite's own transaction handling breaks SAVEPOINT; we issue BEGIN ourselves.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA busy_timeout = 5000")
        cursor.close()

    from server.common.tx import writes_expected

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # transactions that will write take the write lock as they begin (server/common/tx.py)
        deferred = connection.info.get("sqlite_begin") == "deferred" or not writes_expected()
        statement = "BEGIN" if deferred else "BEGIN IMMEDIATE"
        # sent by the driver: SQLAlchemy's statement machinery (events, cursor, result) cost
        # 4 times what the BEGIN does (~20 µs a request); its errors are SQLAlchemy's all the
        # same ("database is locked" is an OperationalError: 503)
        dialect = connection.dialect
        try:
            connection.connection.dbapi_connection.execute(statement)
        except dialect.loaded_dbapi.Error as error:
            raise DBAPIError.instance(
                statement, (), error, dialect.loaded_dbapi.Error, dialect=dialect
            ) from error


PING_IDLE_SECONDS = 1.0


def _check_before_use(engine: Any) -> None:
    """PostgreSQL: a pooled connection is checked before a request uses it, as SQLAlchemy's
    ``pool_pre_ping`` does, but without its round trip (0.13 ms, a tenth of ``GET /me``) when
    the connection was given back less than ``PING_IDLE_SECONDS`` ago and its socket has nothing
    to read. A server that restarts or ends a session (``pg_terminate_backend``,
    ``idle_session_timeout``) closes the socket, which the poll sees; a connection idle longer
    (a firewall may have dropped it without a word) is pinged. A failed ping invalidates the
    pool and the request gets a new connection (``InvalidatePoolError``, as the pre-ping does):
    a restart costs no request (``tests/test_database_faults.py``). pgx, Go's PostgreSQL pool,
    pings only connections idle for more than a second likewise."""
    import select
    import time

    from sqlalchemy import event
    from sqlalchemy.exc import InvalidatePoolError

    dialect = engine.dialect
    given_back = "jiayuan_given_back"  # in a connection record's info (cleared on reconnect)

    @event.listens_for(engine, "checkin")
    def _given_back(_dbapi_connection: Any, record: Any) -> None:
        record.info[given_back] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _alive(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(given_back)
        if since is None:
            return  # connected for this checkout
        try:
            poll = select.poll()
            poll.register(dbapi_connection.fileno(), select.POLLIN)
            quiet = not poll.poll(0)  # no end of stream, no message from the server
        except Exception:  # closed, or no poll on this platform: ask the server
            quiet = False
        if quiet and time.monotonic() - since < PING_IDLE_SECONDS:
            return
        try:
            dialect.do_ping(dbapi_connection)
        except Exception as error:
            raise InvalidatePoolError(f"ping failed: {error}") from error
