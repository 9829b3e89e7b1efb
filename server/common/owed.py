"""Work that must happen: recorded in the database by the transaction that promises it, and
advanced step by step by jobs until it is done.

A fan-out (an announcement to every member, event reminders, promotions from a waiting list)
is promised to a client the moment its request commits. The job queue alone cannot keep that
promise: a killed worker, a deploy's SIGTERM or a Redis restart without persistence loses the
job and nothing would resume it. So:

- ``owe(kind, args)`` inserts an ``owed_work`` row **in the caller's transaction** (the
  promise and the record of it commit together) and, after the commit, enqueues
  ``advance_job`` to start at once;
- a kind's step function (``@owed.step("announcement")``) does one bounded chunk and returns
  the next cursor, or ``DONE``. Each step commits with the cursor, in one transaction, under a
  lease held by one worker: a step is done exactly once, however often the job runs;
- ``sweep()`` runs every minute (and when a worker starts): anything unfinished whose lease
  has lapsed is enqueued again. A worker that is stopped (SIGTERM, ``jobs.stopping``) hands
  its work back between two steps; one that is killed loses its lease after
  ``OWED_LEASE_SECONDS``;
- a step that raises is retried with back-off; after ``MAX_ATTEMPTS`` failures in a row the
  work is marked failed and logged as an error (operators see it, and can ``retry``).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from huey import crontab
from sqlalchemy.orm import Mapped, mapped_column

from server.common.time import UTCDateTime, utcnow
from server.common.tx import changed, commit, on_commit
from server.extensions import Model, db, jobs

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8
DONE: Any = object()  # what a step returns when nothing is left to do

Step = Callable[[Mapping[str, Any], Any], Any]
_STEPS: dict[str, Step] = {}


class OwedWork(Model):
    """One promised piece of work and how far it has got."""

    __tablename__ = "owed_work"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(sa.String(64))
    args: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    cursor: Mapped[Any] = mapped_column(sa.JSON, nullable=True)  # None: not started
    steps: Mapped[int] = mapped_column(default=0)
    attempts: Mapped[int] = mapped_column(default=0)  # failures in a row
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    not_before: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease_owner: Mapped[str | None] = mapped_column(sa.String(32))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    failed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        # what the sweep looks for: unfinished work, oldest first (finished rows are not in it)
        sa.Index(
            "ix_owed_work_unfinished",
            "not_before",
            sqlite_where=sa.text("done_at IS NULL AND failed_at IS NULL"),
            postgresql_where=sa.text("done_at IS NULL AND failed_at IS NULL"),
        ),
    )


def step(kind: str) -> Callable[[Step], Step]:
    """Declare how to advance work of ``kind`` by one bounded step:
    ``fn(args, cursor) -> next cursor | DONE`` (cursor ``None`` the first time). The step runs
    in a transaction of its own with the cursor it returns; it must not commit."""

    def register(fn: Step) -> Step:
        if kind in _STEPS:
            raise ValueError(f"owed work {kind!r} is declared twice")
        _STEPS[kind] = fn
        return fn

    return register


def owe(kind: str, args: Mapping[str, Any], *, not_before: datetime | None = None) -> OwedWork:
    """Record, in the current transaction, work that must happen; it starts after the commit
    (or at ``not_before``). JSON-able ``args`` say what to do."""
    if kind not in _STEPS:
        raise ValueError(f"no step is declared for owed work {kind!r}")
    now = utcnow()
    work = OwedWork(kind=kind, args=dict(args), not_before=not_before or now, created_at=now)
    db.session.add(work)
    db.session.flush()
    work_id, due = work.id, work.not_before
    if due <= now:
        on_commit(lambda: advance_job(work_id))
    else:
        on_commit(lambda: advance_job.schedule((work_id,), eta=due))
    return work


def _lease() -> timedelta:
    return timedelta(seconds=current_app.config["OWED_LEASE_SECONDS"])


def _backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(10 * 2 ** (attempts - 1), 3600))


def _claim(work_id: int, owner: str) -> bool:
    now = utcnow()
    claimed = changed(
        sa.update(OwedWork)
        .where(
            OwedWork.id == work_id,
            OwedWork.done_at.is_(None),
            OwedWork.failed_at.is_(None),
            OwedWork.not_before <= now,
            sa.or_(OwedWork.lease_until.is_(None), OwedWork.lease_until < now),
        )
        .values(lease_owner=owner, lease_until=now + _lease())
        .execution_options(synchronize_session=False)
    )
    commit()
    return bool(claimed)


def _release(work_id: int, owner: str, **values: Any) -> None:
    db.session.execute(
        sa.update(OwedWork)
        .where(OwedWork.id == work_id, OwedWork.lease_owner == owner)
        .values(lease_owner=None, lease_until=None, **values)
        .execution_options(synchronize_session=False)
    )
    commit()


def advance(work_id: int) -> str:
    """Take the work's lease and advance it step by step until it is done, fails, or this
    worker is asked to stop. Returns what happened: ``done``, ``busy`` (another worker holds
    it, or it is not due), ``handed back``, ``retrying``, ``failed`` or ``lost lease``."""
    owner = uuid.uuid4().hex
    if not _claim(work_id, owner):
        return "busy"
    while True:
        if jobs.stopping.is_set():
            _release(work_id, owner)
            log.info("owed work %s handed back: this worker is stopping", work_id)
            return "handed back"
        # Each step begins by renewing the lease: the write locks the row (PostgreSQL) or the
        # database (SQLite, where a transaction that reads first and writes later can fail at
        # once instead of waiting), and the step counts only if this worker still holds it.
        renewed = changed(
            sa.update(OwedWork)
            .where(OwedWork.id == work_id, OwedWork.lease_owner == owner)
            .values(lease_until=utcnow() + _lease())
            .execution_options(synchronize_session=False)
        )
        if not renewed:
            db.session.rollback()
            log.warning("owed work %s: lease lost to another worker", work_id)
            return "lost lease"
        work = db.session.execute(
            sa.select(OwedWork)
            .where(OwedWork.id == work_id)
            .execution_options(populate_existing=True)
        ).scalar_one()
        try:
            cursor = _STEPS[work.kind](work.args, work.cursor)
        except Exception as exc:
            db.session.rollback()
            return _failed(work_id, owner, exc)
        now = utcnow()
        work.steps += 1
        work.attempts = 0
        work.last_error = None
        if cursor is DONE:
            work.done_at = now
            work.lease_owner = work.lease_until = None
        else:
            work.cursor = cursor
        commit()
        if cursor is DONE:
            return "done"


def _failed(work_id: int, owner: str, exc: Exception) -> str:
    work = db.session.get(OwedWork, work_id)
    assert work is not None
    attempts = work.attempts + 1
    error = f"{type(exc).__name__}: {exc}"[:500]
    now = utcnow()
    if attempts >= MAX_ATTEMPTS:
        log.error(
            "owed work %s (%s) failed %d times and is given up: %s",
            work_id, work.kind, attempts, error, exc_info=exc,
        )  # fmt: skip
        _release(work_id, owner, attempts=attempts, last_error=error, failed_at=now)
        return "failed"
    log.warning(
        "owed work %s (%s) failed (attempt %d), retried later: %s",
        work_id, work.kind, attempts, error, exc_info=exc,
    )  # fmt: skip
    due = now + _backoff(attempts)
    _release(work_id, owner, attempts=attempts, last_error=error, not_before=due)
    advance_job.schedule((work_id,), eta=due)
    return "retrying"


@jobs.task()
def advance_job(work_id: int) -> str:
    return advance(work_id)


def sweep() -> int:
    """Enqueue every unfinished piece of work that is due and held by no live lease (a job that
    was lost, a worker that died); work under a lease is enqueued for when it lapses."""
    now = utcnow()
    rows = db.session.execute(
        sa.select(OwedWork.id, OwedWork.lease_until)
        .where(
            OwedWork.done_at.is_(None),
            OwedWork.failed_at.is_(None),
            OwedWork.not_before <= now,
        )
        .order_by(OwedWork.not_before, OwedWork.id)
    ).all()
    db.session.rollback()
    for work_id, lease_until in rows:
        if lease_until is None or lease_until < now:
            advance_job(work_id)
        else:
            advance_job.schedule((work_id,), eta=lease_until + timedelta(seconds=1))
    if rows:
        log.info("owed work: %d unfinished, enqueued again", len(rows))
    return len(rows)


@jobs.periodic_task(crontab(minute="*"))
def sweep_job() -> None:
    sweep()


@jobs.on_startup()
def _sweep_on_startup() -> None:
    """A worker that starts picks up what the last one left (once per process)."""
    sweep()


def retry(work_id: int) -> bool:
    """Give failed work another round of attempts (``flask owed-work --retry ID``)."""
    done = changed(
        sa.update(OwedWork)
        .where(OwedWork.id == work_id, OwedWork.failed_at.is_not(None))
        .values(failed_at=None, attempts=0, not_before=utcnow())
        .execution_options(synchronize_session=False)
    )
    if done:
        on_commit(lambda: advance_job(work_id))
    commit()
    return bool(done)
