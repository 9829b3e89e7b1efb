"""What happens when members act while a push is on its way (found by review)."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
import sqlalchemy as sa

from server.common import owed
from server.common.owed import OwedWork
from server.common.time import utcnow
from server.extensions import db
from server.notifications import announcements, delivery, service
from server.notifications.models import Device, Notification, PushDelivery
from tests.conftest import ROOT, _database_url
from tests.notifications.helpers import DATA, add_device, claim_batch, finish_batch


def _quiet_notify(app, member, subject="thread:1", actor=None):
    """notify() without delivering yet (the test plays the worker)."""
    with app.app_context():
        [nid] = service.notify(
            [member.id], "test.reply", subject, DATA, actor_id=actor.id if actor else None
        )
        db.session.commit()  # not tx.commit(): no delivery run is started
        return nid


def test_read_while_the_push_is_in_flight_is_withdrawn_once_the_send_is_recorded(
    app, client, fake_fcm, make_member, auth_headers
):
    member = make_member()
    add_device(app, member, "phone-inflight")
    nid = _quiet_notify(app, member)
    lease = claim_batch(app)  # a worker has checked the push and is sending it …
    read = client.post(f"/api/v1/notifications/{nid}/read", headers=auth_headers(member))
    assert read.status_code == 204
    assert fake_fcm.received == []  # the withdraw waits: it must not overtake the send
    with app.app_context():  # … it reaches the phone, and the worker records that
        ids = (
            db.session.execute(sa.select(PushDelivery.id).where(PushDelivery.purpose == "show"))
            .scalars()
            .all()
        )
        delivery._finish(lease, ids, status="sent", sent_at=utcnow())
        db.session.commit()
        delivery.deliver_due()  # the worker's next claim: not the lease's end, 120 s later
    assert [r.message["data"]["action"] for r in fake_fcm.received] == ["withdraw"]


def test_a_repeat_during_the_send_is_pushed_with_the_new_text(app, fake_fcm, make_member):
    member = make_member(locale="en")
    add_device(app, member, "phone-repeat")
    _quiet_notify(app, member, actor=make_member(display_name="A"))
    lease = claim_batch(app)  # "A replied …" is on its way
    _quiet_notify(app, member, actor=make_member(display_name="B"))
    with app.app_context():
        in_flight = (
            db.session.execute(sa.select(PushDelivery.id).where(PushDelivery.lease == lease))
            .scalars()
            .all()
        )
        delivery._finish(lease, in_flight, status="sent", sent_at=utcnow())
        db.session.commit()
        delivery.deliver_due()
    bodies = [r.message["notification"]["body"] for r in fake_fcm.received]
    assert bodies == ["2 new replies in “自由职业怎么报价”"]  # the repeat was queued anew


def test_a_retried_announcement_tells_nobody_twice(app, fake_fcm, make_member):
    organiser = make_member(role="organiser")
    members = [make_member() for _ in range(3)]
    for m in members:
        add_device(app, m, f"phone-ann-{m.id}")
    with app.app_context():
        from server.members.models import Member

        announcement = announcements.create_announcement(
            db.session.get(Member, organiser.id), "通知", "内容"
        )
        # the fan-out done again from the start, as if its record of progress were lost
        work = db.session.execute(
            sa.select(OwedWork).where(OwedWork.args["announcement_id"].as_integer()
                                      == announcement.id)
        ).scalar_one()  # fmt: skip
        assert work.done_at is not None
        work.done_at, work.cursor = None, None
        db.session.commit()
        assert owed.advance(work.id) == "done"
        rows = db.session.execute(
            sa.select(Notification.recipient_id, Notification.count).where(
                Notification.kind == "announcement"
            )
        ).all()
    assert sorted(count for _r, count in rows) == [1, 1, 1]
    assert set(fake_fcm.tokens().values()) == {1}


def test_turning_the_inbox_back_on_shows_new_events(app, client, make_member, auth_headers):
    member = make_member()
    headers = auth_headers(member)
    client.patch(
        "/api/v1/notifications/preferences",
        headers=headers,
        json={"kinds": [{"kind": "test.reply", "in_app": False}]},
    )
    _quiet_notify(app, member)
    assert client.get("/api/v1/notifications", headers=headers).get_json()["items"] == []
    client.patch(
        "/api/v1/notifications/preferences",
        headers=headers,
        json={"kinds": [{"kind": "test.reply", "in_app": True}]},
    )
    _quiet_notify(app, member)
    [item] = client.get("/api/v1/notifications", headers=headers).get_json()["items"]
    assert item["count"] == 2


def test_results_are_recorded_only_under_the_lease_that_sent(app, fake_fcm, make_member):
    member = make_member()
    add_device(app, member, "phone-lease")
    _quiet_notify(app, member)
    stale = claim_batch(app)
    with app.app_context():  # the lease ran out and another worker took the row over
        db.session.execute(sa.update(PushDelivery).values(lease="another-worker"))
        db.session.commit()
    finish_batch(app, stale)
    with app.app_context():
        status, lease = db.session.execute(sa.select(PushDelivery.status, PushDelivery.lease)).one()
        assert db.session.execute(sa.select(sa.func.count(Device.id))).scalar_one() == 1
    assert (status, lease) == ("pending", "another-worker")


def test_announcements_must_fit_in_a_push(client, make_member, auth_headers):
    organiser = make_member(role="organiser")
    r = client.post(
        "/api/v1/announcements",
        headers=auth_headers(organiser),
        json={"title": "🎉" * 100, "body": "😀" * 1000},
    )
    assert r.status_code == 422 and "body" in r.get_json()["errors"]


@pytest.mark.skipif(
    not os.environ.get("TEST_DATABASE_URL", "").startswith(("postgres://", "postgresql")),
    reason="SQLite serialises writers with one database lock: there is no row order to keep",
)
def test_forget_and_notify_lock_entries_in_id_order(tmp_path):
    """A forget (a post hidden) and a notify (a reply to it) on the same entries, at once:
    each locks them in id order, so one waits for the other instead of both deadlocking."""
    url, drop = _database_url(tmp_path)
    env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": "k" * 40, "JWT_SECRET_KEY": "j" * 40}
    try:
        run = subprocess.run(
            [sys.executable, "-m", "tests.notifications.lock_order"],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
        )  # fmt: skip
    finally:
        drop()
    assert run.returncode == 0, run.stderr
    result = json.loads(run.stdout.strip().splitlines()[-1])
    for call in ("notify", "forget"):
        assert result[call] == {"waited": True, "higher_free": True, "errors": []}, result
