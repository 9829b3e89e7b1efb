"""Which entry ``retraction.forget()`` and ``notify()`` lock first, on PostgreSQL, each call on
its own connection in a process of its own (the suite's connection is one rolled-back
transaction, where nothing can wait): ``python -m tests.notifications.lock_order``. Settings
come from the environment; prints JSON.

Two entries are laid out with the higher id first in the table, so a scan in table order
reaches it first. Another connection holds the lower one; while the call waits for it, is the
higher one still free? It must be: each call locks in id order, or a forget and a notify on the
same entries, each holding one and waiting for the other, deadlock.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import Flask
from flask_migrate import upgrade

from server import create_app
from server.common.time import utcnow
from server.common.tx import commit
from server.extensions import db
from server.notifications import retraction, service
from server.notifications.models import Notification
from tests.factories import insert_members

SUBJECT = "forum.thread:7:2"
DATA = {"thread_id": 7, "post_id": 70, "number": 2, "title": "报价", "excerpt": "三万"}
LOWER, HIGHER = 1001, 1002


def _lay_out(members: list[int]) -> None:
    """The entry with the higher id first in the table."""
    db.session.execute(sa.delete(Notification))
    now = utcnow()
    for entry_id, member_id in ((HIGHER, members[1]), (LOWER, members[0])):
        db.session.execute(
            sa.insert(Notification).values(
                id=entry_id, recipient_id=member_id, kind="forum.mention", subject=SUBJECT,
                data=DATA, count=1, in_inbox=True, created_at=now, updated_at=now,
            )
        )  # fmt: skip
    db.session.commit()


def _higher_free_while_waiting(app: Flask, call: Callable[[], Any]) -> dict[str, Any]:
    with app.app_context():
        engine = db.engine
    holder = engine.connect()
    holding = holder.begin()
    holder.execute(sa.text(f"SELECT id FROM notifications WHERE id = {LOWER} FOR UPDATE"))
    backend: list[int] = []
    errors: list[str] = []

    def run() -> None:
        with app.app_context():
            backend.append(db.session.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())
            try:
                call()
                commit()
            except Exception as exc:  # reported: the caller asserts there is none
                errors.append(repr(exc))

    worker = threading.Thread(target=run)
    worker.start()
    waiting = False
    deadline = time.monotonic() + 20
    while not waiting and time.monotonic() < deadline:
        time.sleep(0.05)
        if backend:
            waiting = holder.execute(
                sa.text("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = :p"),
                {"p": backend[0]},
            ).scalar_one()
    prober = engine.connect()
    probing = prober.begin()
    try:
        prober.execute(
            sa.text(f"SELECT id FROM notifications WHERE id = {HIGHER} FOR UPDATE NOWAIT")
        )
        free = True
    except sa.exc.OperationalError:
        free = False
    probing.rollback()
    prober.close()
    holding.rollback()
    holder.close()
    worker.join(30)
    return {"waited": waiting, "higher_free": free, "errors": errors}


def main() -> None:
    app = create_app({"JIAYUAN_ENV": "test", "JOBS_BACKEND": "memory", "LOG_LEVEL": "WARNING"})
    with app.app_context():
        upgrade(directory=str(Path(__file__).resolve().parents[2] / "migrations"))
        members = insert_members(2, prefix="locker")
        db.session.commit()
    calls: dict[str, Callable[[], Any]] = {
        "notify": lambda: service.notify(members, "forum.mention", SUBJECT, DATA),
        "forget": lambda: retraction.forget(
            ["forum.mention"], subjects=[SUBJECT], quoting={"post_id": DATA["post_id"]}
        ),
    }
    result = {}
    for name, call in calls.items():
        with app.app_context():
            _lay_out(members)
        result[name] = _higher_free_while_waiting(app, call)
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
