"""Side effects (socket emits, notifications, jobs) run only after the transaction commits.

Services call ``on_commit(fn)`` while they work and ``commit()`` when they are done, as Zulip's
``transaction.on_commit``: if the work rolls back, nothing is sent.

SQLite and concurrent writers: a transaction that has read and then writes cannot wait for
the write lock — if another connection committed since its first read, SQLite answers
"database is locked" at once, whatever the busy timeout (its documentation: use ``BEGIN
IMMEDIATE`` for transactions that will write). So transactions that are expected to write
begin ``IMMEDIATE`` (``writes_expected``: every request but GET, HEAD and OPTIONS, every
Socket.IO event, jobs and commands), and a read-only request that must write after all (a GET
that counts a view) calls ``write_ahead()`` first. PostgreSQL needs none of this.

PostgreSQL and read-only requests: psycopg sends ``BEGIN`` before a transaction's first
statement and the session sends ``ROLLBACK`` when the request gives its connection back: two
of the four round trips of a signed-in ``GET /me`` (with the pool's ping and the query). A
transaction that is not expected to write (the same
``writes_expected``) runs its statements in autocommit instead, none of them in a transaction:
at READ COMMITTED, PostgreSQL's default and this app's, each statement sees a fresh snapshot
either way, so reads see what they saw before. The first statement that is not a plain
``SELECT`` (an INSERT, UPDATE or DELETE, a ``SELECT … FOR UPDATE``, a SAVEPOINT, anything
else) switches the connection back first, so psycopg begins a real transaction there and what
the request writes from then on commits or rolls back as one, as before. Its ``COMMIT`` or
``ROLLBACK`` at the end costs nothing when no transaction was begun (psycopg sends none).
SQLAlchemy's own isolation settings (migrations' ``autocommit_block``) are left alone.
"""

from __future__ import annotations

import functools
import logging
import re
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from flask import g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import Executable

from server.errors import is_outage
from server.extensions import db

if TYPE_CHECKING:
    from sqlalchemy.engine import CursorResult

log = logging.getLogger(__name__)
T = TypeVar("T")

_KEY = "on_commit"


def on_commit(fn: Callable[[], Any]) -> None:
    """Run ``fn`` once the current session's transaction has committed."""
    db.session.info.setdefault(_KEY, []).append(fn)


def commit() -> None:
    """Commit the session, then run what was queued with ``on_commit``, in order."""
    session = db.session()
    session.commit()
    callbacks = session.info.pop(_KEY, [])
    for fn in callbacks:
        try:
            fn()
        except Exception:  # one failing side effect must not hide the committed state
            log.exception("after-commit callback failed")


def changed(statement: Executable) -> int:
    """Run an UPDATE or DELETE in the session; how many rows it changed."""
    result = db.session.execute(statement)
    return cast("CursorResult[Any]", result).rowcount


def insert_ignore(model: type[Any], values: Mapping[str, Any]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING on SQLite or PostgreSQL; True when a row was added
    (idempotent writes that two requests may race to make)."""
    from sqlalchemy.dialects import postgresql, sqlite

    postgres = db.session.get_bind().dialect.name == "postgresql"
    insert = postgresql.insert if postgres else sqlite.insert
    # Not rowcount: once an autoincrement key makes the dialect add RETURNING (to learn the new
    # id), psycopg reports -1 whether or not a row was added. A returned key says it was.
    key = list(model.__table__.primary_key.columns)
    stmt = insert(model).values(**values).on_conflict_do_nothing().returning(*key)
    return db.session.execute(stmt).first() is not None


READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def writes_expected() -> bool:
    """Whether a transaction starting now will probably write (SQLite begins it IMMEDIATE)."""
    if not has_request_context():
        return True  # jobs, commands, tests
    if g.get("_write_transaction") or getattr(request, "sid", None) is not None:
        return True  # asked for, or a Socket.IO event
    return request.method not in READ_METHODS


def write_ahead() -> bool:
    """Call before the first write of a request that has only read so far. On SQLite the read
    transaction is ended and the next one begins IMMEDIATE (waiting for the write lock instead
    of failing); returns True then, and the caller loads again what it needs. Nothing may be
    pending. On PostgreSQL it does nothing and returns False."""
    session = db.session()
    if session.get_bind().dialect.name != "sqlite":
        return False
    if has_request_context():
        g._write_transaction = True
    if not session.in_transaction():
        return False
    if session.new or session.dirty or session.deleted:
        raise RuntimeError("write_ahead() with changes pending: call it before writing")
    session.rollback()
    return True


def retrying(fn: Callable[[], T], *, attempts: int = 5, first_wait: float = 0.1) -> T:
    """Run ``fn`` (which writes and commits) again after an outage-like failure (a locked
    SQLite, a dropped connection), rolling back between tries: for bookkeeping that must be
    recorded, such as a push that the provider already accepted."""
    for attempt in range(attempts):
        try:
            return fn()
        except Exception as exc:
            db.session.rollback()
            if not is_outage(exc) or attempt == attempts - 1:
                raise
            log.warning("retrying after %s (attempt %d)", type(exc).__name__, attempt + 1)
            time.sleep(first_wait * 2**attempt)
    raise AssertionError("unreachable: the last attempt returns or raises")  # pragma: no cover


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop(_KEY, None)


# --- PostgreSQL: read-only transactions in autocommit (see the module) ------------------------

_READING = "jiayuan_reading"  # in a connection's ``info``: statements run in autocommit, for now
_OURS = "jiayuan_autocommit"  # autocommit is on because this module turned it on

_WRITES_FROM_A_SELECT = re.compile(
    r"\bFOR\s+(NO\s+KEY\s+UPDATE|UPDATE|KEY\s+SHARE|SHARE)\b"  # row locks
    r"|\b(nextval|setval|set_config|pg_advisory\w*|pg_notify|txid_current|pg_current_xact_id)"
    r"\s*\(",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=2048)
def only_reads(statement: str) -> bool:
    """A plain ``SELECT`` that neither locks rows nor calls a function with a lasting effect
    (sequences, settings, advisory locks, notifications, transaction ids)."""
    return statement.lstrip()[:6].upper() == "SELECT" and not _WRITES_FROM_A_SELECT.search(
        statement
    )


@event.listens_for(Engine, "begin")
def _reads_in_autocommit(connection: Connection) -> None:
    if connection.dialect.name != "postgresql":
        return
    info = connection.info
    if "isolation_level" in connection.get_execution_options():
        info[_OURS] = info[_READING] = False  # SQLAlchemy's own setting (migrations) rules
        return
    reading = not writes_expected()
    dbapi_connection: Any = connection.connection.dbapi_connection
    if reading != bool(info.get(_OURS)):
        if reading and dbapi_connection.autocommit:
            info[_READING] = False  # someone else's autocommit: left alone
            return
        dbapi_connection.autocommit = reading  # no transaction is open yet: no round trip
        info[_OURS] = reading
    info[_READING] = reading


@event.listens_for(Engine, "before_cursor_execute")
def _begin_before_writing(
    connection: Connection, _cursor: Any, statement: str, *_args: Any
) -> None:
    info = connection.info
    if info.get(_READING) and not only_reads(statement):
        info[_READING] = info[_OURS] = False
        # psycopg begins a transaction before this statement, as it does by default
        connection.connection.dbapi_connection.autocommit = False  # type: ignore[union-attr]
