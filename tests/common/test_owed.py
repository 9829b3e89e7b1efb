"""Owed work (``server/common/owed.py``): recorded with the promise, advanced step by step under
a lease, handed back by a stopping worker, resumed by the sweep, retried, and given up loudly.

The test app runs jobs at once ("immediate"), so the job that ``owe`` enqueues after the commit
runs inside ``commit()``; tests that need work left unfinished hold its lease first."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
import sqlalchemy as sa

from server.common import owed
from server.common.owed import OwedWork
from server.common.time import utcnow
from server.common.tx import commit
from server.extensions import db, jobs
from server.members.models import Member
from server.notifications.models import Notification

calls: list[tuple[dict[str, Any], Any]] = []
failures: dict[str, int] = {}


@owed.step("test.count")
def _count(args: Any, cursor: Any) -> Any:
    """Counts from 0 to args["to"], one per step; fails while failures["test.count"] > 0."""
    calls.append((dict(args), cursor))
    if failures.get("test.count", 0) > 0:
        failures["test.count"] -= 1
        raise RuntimeError("the step's service is down")
    n = 0 if cursor is None else cursor + 1
    return owed.DONE if n > args["to"] else n


@pytest.fixture(autouse=True)
def _fresh() -> Iterator[None]:
    calls.clear()
    failures.clear()
    yield
    jobs.stopping.clear()


def _work(work_id: int) -> OwedWork:
    db.session.expire_all()
    work = db.session.get(OwedWork, work_id)
    assert work is not None
    return work


def test_owed_work_runs_after_the_commit_a_step_at_a_time(app):
    with app.app_context():
        work_id = owed.owe("test.count", {"to": 2}).id
        assert calls == []  # nothing before the commit
        commit()
        work = _work(work_id)
        assert work.done_at is not None and work.steps == 4
        assert [c for _a, c in calls] == [None, 0, 1, 2]
        assert work.lease_owner is None


def test_a_rolled_back_promise_owes_nothing(app):
    with app.app_context():
        owed.owe("test.count", {"to": 0})
        db.session.rollback()
        assert db.session.scalar(sa.select(sa.func.count()).select_from(OwedWork)) == 0
    assert calls == []


def test_unknown_kinds_are_refused_when_owed(app):
    with app.app_context(), pytest.raises(ValueError):
        owed.owe("no.such.kind", {})


def _held(app, to: int = 1) -> int:
    """Work whose lease another (live) worker holds: the job after commit finds it busy."""
    with app.app_context():
        work = owed.owe("test.count", {"to": to})
        work.lease_owner, work.lease_until = "other", utcnow() + timedelta(minutes=5)
        commit()
        assert _work(work.id).done_at is None
        return work.id


def test_work_under_a_live_lease_is_left_alone_and_resumed_when_it_lapses(app):
    work_id = _held(app)
    with app.app_context():
        assert owed.advance(work_id) == "busy"
        assert owed.sweep() == 1  # seen, but scheduled for when the lease lapses
        assert _work(work_id).done_at is None
        work = _work(work_id)
        work.lease_until = utcnow() - timedelta(seconds=1)  # the other worker died
        commit()
        assert owed.sweep() == 1
        work = _work(work_id)
        assert work.done_at is not None and work.steps == 3
        assert owed.sweep() == 0  # nothing left


def test_a_stopping_worker_hands_its_work_back_between_steps(app):
    work_id = _held(app, to=5)
    with app.app_context():
        work = _work(work_id)
        work.lease_until = utcnow() - timedelta(seconds=1)
        commit()
        jobs.stopping.set()
        assert owed.advance(work_id) == "handed back"
        work = _work(work_id)
        assert work.done_at is None and work.lease_owner is None and work.steps == 0
        jobs.stopping.clear()
        assert owed.advance(work_id) == "done"  # the next worker takes it at once
        assert _work(work_id).steps == 7


def test_a_step_that_fails_is_retried_later_and_done_once(app):
    failures["test.count"] = 1
    with app.app_context():
        work_id = owed.owe("test.count", {"to": 1}).id
        commit()
        work = _work(work_id)
        assert work.done_at is None and work.attempts == 1
        assert work.last_error == "RuntimeError: the step's service is down"
        assert work.not_before > utcnow()  # backed off
        assert owed.advance(work_id) == "busy"  # not due yet
        work.not_before = utcnow()
        commit()
        assert owed.advance(work_id) == "done"
        work = _work(work_id)
        assert work.attempts == 0 and work.last_error is None and work.steps == 3


def test_work_that_keeps_failing_is_given_up_loudly_and_can_be_retried(app, caplog):
    failures["test.count"] = owed.MAX_ATTEMPTS
    with app.app_context():
        work_id = owed.owe("test.count", {"to": 0}).id
        commit()
        for _ in range(owed.MAX_ATTEMPTS - 1):
            work = _work(work_id)
            work.not_before = utcnow()
            commit()
            owed.advance(work_id)
        work = _work(work_id)
        assert work.failed_at is not None and work.attempts == owed.MAX_ATTEMPTS
        assert any(
            r.levelname == "ERROR" and f"owed work {work_id}" in r.getMessage()
            for r in caplog.records
        )
        assert owed.sweep() == 0  # failed work is not swept
        runner = app.test_cli_runner()
        listed = runner.invoke(args=["owed-work"])
        assert f"{work_id}\ttest.count\tfailed" in listed.output
        retried = runner.invoke(args=["owed-work", "--retry", str(work_id)])
        assert retried.exit_code == 0, retried.output
        assert _work(work_id).done_at is not None


def test_an_announcement_reaches_every_member_once_in_chunks(app, make_member):
    organiser = make_member(role="organiser")
    members = [make_member() for _ in range(5)]
    app.config["FANOUT_CHUNK"] = 2
    try:
        with app.app_context():
            from server.notifications import announcements as service

            announcement = service.create_announcement(
                db.session.get(Member, organiser.id), "年会通知", "十二月见"
            )
            work = db.session.execute(
                sa.select(OwedWork).where(OwedWork.kind == "announcement")
            ).scalar_one()
            told = db.session.execute(
                sa.select(Notification.recipient_id).where(
                    Notification.subject == f"announcement:{announcement.id}"
                )
            ).scalars()
            assert sorted(told) == sorted(m.id for m in members)  # once each, not the author
            assert work.done_at is not None
            assert work.steps >= 4  # 6 members, 2 a step, and the step that finds no more
    finally:
        app.config["FANOUT_CHUNK"] = 1000
