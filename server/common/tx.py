"""Side effects (socket emits, notifications, jobs) run only after the transaction commits.

Services call ``on_commit(fn)`` while they work and ``commit()`` when they are done, as Zulip's
``transaction.on_commit``: if the work rolls back, nothing is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy import event
from sqlalchemy.orm import Session

from server.extensions import db

log = logging.getLogger(__name__)

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


def insert_ignore(model: type[Any], values: Mapping[str, Any]) -> bool:
    """INSERT … ON CONFLICT DO NOTHING on SQLite or PostgreSQL; True when a row was added
    (idempotent writes that two requests may race to make)."""
    if db.session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert
    # Not rowcount: once an autoincrement key makes the dialect add RETURNING (to learn the new
    # id), psycopg reports -1 whether or not a row was added. A returned key says it was.
    key = list(model.__table__.primary_key.columns)
    stmt = insert(model).values(**values).on_conflict_do_nothing().returning(*key)
    return db.session.execute(stmt).first() is not None


@event.listens_for(Session, "after_rollback")
def _forget_on_rollback(session: Session) -> None:
    session.info.pop(_KEY, None)
