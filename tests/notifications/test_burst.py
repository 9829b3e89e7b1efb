"""A burst on one subject alerts the phone once, then updates it silently while the burst
lasts (issue #10: 13 direct messages in 5 s rang the phone 13 times)."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from server.common.time import utcnow
from server.extensions import db
from server.notifications import delivery, service
from server.notifications.models import PushDelivery
from tests.notifications.helpers import DATA, add_device, notify_reply


def _alerting(message):
    return message["android"]["priority"] == "high"


def test_a_burst_alerts_once_then_updates_silently(
    app, client, fake_fcm, make_member, auth_headers
):
    member = make_member(locale="en")
    add_device(app, member, "burst-android")
    add_device(app, member, "burst-iphone", platform="ios")
    for _ in range(5):
        notify_reply(app, [member], actor=make_member(display_name="阿明"))
    assert fake_fcm.invalid_bodies == []
    messages = [r.message for r in fake_fcm.received]
    assert len(messages) == 10  # every event still updates both phones …
    first, rest = messages[:2], messages[2:]
    assert all(_alerting(m) for m in first)  # … the first ones alert
    for m in first:
        assert m["apns"]["payload"]["aps"]["sound"] == "default"
        assert m["apns"]["headers"]["apns-priority"] == "10"
        assert m["android"]["notification"]["channel_id"] == "default"
    for m in rest:  # … the others replace them quietly, with the latest count
        assert m["android"]["priority"] == "normal"
        assert m["android"]["notification"]["channel_id"] == "default_quiet"
        assert m["android"]["notification"]["notification_priority"] == "PRIORITY_LOW"
        aps = m["apns"]["payload"]["aps"]
        assert "sound" not in aps and aps["interruption-level"] == "passive"
        assert m["apns"]["headers"]["apns-priority"] == "5"
        assert "apns-push-type" not in m["apns"]["headers"]  # still an alert, shown
        assert aps["badge"] == 1
    assert {m["android"]["collapse_key"] for m in messages} == {first[0]["android"]["collapse_key"]}
    assert rest[-1]["notification"]["body"] == "5 new replies in “自由职业怎么报价”"
    with app.app_context():
        recorded = sorted(
            db.session.execute(
                sa.select(PushDelivery.alerted).where(PushDelivery.purpose == "show")
            )
            .scalars()
            .all()
        )
    assert recorded == [False] * 8 + [True] * 2


def test_after_the_burst_window_or_a_read_it_alerts_again(
    app, client, fake_fcm, make_member, auth_headers
):
    member = make_member()
    add_device(app, member, "burst-window")
    window = timedelta(seconds=app.config["PUSH_BURST_SECONDS"])
    notify_reply(app, [member])
    with app.app_context():  # an event long after the last alert: the phone rings again
        service.notify([member.id], "test.reply", "thread:42", DATA)
        db.session.commit()
        delivery.deliver_due(now=utcnow() + window + timedelta(seconds=1))
    notify_reply(app, [member])  # within the window of that alert: silent
    assert [_alerting(r.message) for r in fake_fcm.received] == [True, True, False]

    # read: the next event is a new entry, and alerts
    nid = client.get("/api/v1/notifications", headers=auth_headers(member)).get_json()["items"][0]
    client.post(f"/api/v1/notifications/{nid['id']}/read", headers=auth_headers(member))
    fake_fcm.received.clear()
    notify_reply(app, [member])
    shown = [r.message for r in fake_fcm.received if "notification" in r.message]
    assert [_alerting(m) for m in shown] == [True]


def test_other_subjects_alert_on_their_own(app, fake_fcm, make_member):
    member = make_member()
    add_device(app, member, "burst-subjects")
    notify_reply(app, [member], subject="thread:1")
    notify_reply(app, [member], subject="thread:2")
    notify_reply(app, [member], subject="thread:1")
    assert [_alerting(r.message) for r in fake_fcm.received] == [True, True, False]
