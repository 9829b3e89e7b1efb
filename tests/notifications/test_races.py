"""What happens when members act while a push is on its way (found by review)."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import sqlalchemy as sa

from server.common.time import utcnow
from server.extensions import db
from server.notifications import delivery, service
from server.notifications.models import Device, Notification, PushDelivery
from tests.notifications.test_delivery import DATA, _device


def _quiet_notify(app, member, subject="thread:1", actor=None):
    """notify() without delivering yet (the test plays the worker)."""
    with app.app_context():
        [nid] = service.notify(
            [member.id], "test.reply", subject, DATA, actor_id=actor.id if actor else None
        )
        db.session.commit()  # not tx.commit(): no delivery run is started
        return nid


def _claim(app):
    with app.app_context():
        return delivery._claim(utcnow(), 100)


def _finish_batch(app, lease):
    with app.app_context():
        delivery._deliver_batch(lease, utcnow(), Counter())


def test_read_while_the_push_is_in_flight_is_withdrawn_afterwards(
    app, client, fake_fcm, make_member, auth_headers
):
    member = make_member()
    _device(app, member, "phone-inflight")
    nid = _quiet_notify(app, member)
    lease = _claim(app)  # a worker has checked the push and is sending it …
    read = client.post(f"/api/v1/notifications/{nid}/read", headers=auth_headers(member))
    assert read.status_code == 204
    with app.app_context():  # … it reaches the phone, and the worker records that
        ids = (
            db.session.execute(sa.select(PushDelivery.id).where(PushDelivery.purpose == "show"))
            .scalars()
            .all()
        )
        delivery._finish(lease, ids, status="sent", sent_at=utcnow())
        db.session.commit()
        waiting = db.session.execute(
            sa.select(PushDelivery.not_before).where(PushDelivery.purpose == "withdraw")
        ).scalar_one()
    assert waiting > utcnow()  # queued for when the send in flight is over
    with app.app_context():
        delivery.deliver_due(now=waiting + timedelta(seconds=1))
    assert [r.message["data"]["action"] for r in fake_fcm.received] == ["withdraw"]


def test_a_repeat_during_the_send_is_pushed_with_the_new_text(app, fake_fcm, make_member):
    member = make_member(locale="en")
    _device(app, member, "phone-repeat")
    _quiet_notify(app, member, actor=make_member(display_name="A"))
    lease = _claim(app)  # "A replied …" is on its way
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
        _device(app, m, f"phone-ann-{m.id}")
    with app.app_context():
        from server.members.models import Member

        announcement = service.announce(db.session.get(Member, organiser.id), "通知", "内容")
        service.announce_job(organiser.id, announcement.id, "通知", "内容")  # a retry
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
    _device(app, member, "phone-lease")
    _quiet_notify(app, member)
    stale = _claim(app)
    with app.app_context():  # the lease ran out and another worker took the row over
        db.session.execute(sa.update(PushDelivery).values(lease="another-worker"))
        db.session.commit()
    _finish_batch(app, stale)
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
