"""notify() → inbox and push, delivered through firebase-admin to the fake FCM server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import sqlalchemy as sa

from server.common.time import utcnow
from server.common.tx import commit
from server.extensions import db
from server.notifications import delivery, service
from server.notifications.models import Device, Notification, PushDelivery, QuietHours
from tests.factories import insert_devices, insert_members
from tests.notifications.helpers import DATA, add_device, notify_reply


def _statuses(app):
    with app.app_context():
        return sorted(
            db.session.execute(sa.select(PushDelivery.purpose, PushDelivery.status)).all()
        )


def test_one_well_formed_message_per_device_in_the_recipients_language(app, fake_fcm, make_member):
    actor = make_member(display_name="林晓雨")
    hans = make_member(display_name="陈默", locale="zh-Hans")
    hant = make_member(display_name="黃詩婷", locale="zh-Hant")
    add_device(app, hans, "phone-hans-1")
    add_device(app, hans, "tablet-hans-2", platform="ios")
    add_device(app, hant, "phone-hant-1", platform="ios")
    add_device(app, hant, "laptop-en", platform="web", locale="en")  # the device's own language

    notify_reply(app, [hans, hant, actor], actor=actor)

    assert fake_fcm.invalid_bodies == []
    by_token = {r.token: r.message for r in fake_fcm.received}
    assert set(by_token) == {"phone-hans-1", "tablet-hans-2", "phone-hant-1", "laptop-en"}
    assert by_token["phone-hans-1"]["notification"] == {
        "title": "新回复",
        "body": "林晓雨 回复了「自由职业怎么报价」",
    }
    assert by_token["phone-hant-1"]["notification"]["title"] == "新回覆"
    assert by_token["laptop-en"]["notification"]["title"] == "New reply"
    link = by_token["tablet-hans-2"]["data"]
    assert link["kind"] == "test.reply" and link["thread_id"] == "42" and link["notification_id"]
    assert by_token["tablet-hans-2"]["apns"]["payload"]["aps"]["badge"] == 1
    assert _statuses(app) == [("show", "sent")] * 4


def test_a_rolled_back_action_notifies_nobody(app, fake_fcm, make_member):
    member = make_member()
    add_device(app, member, "phone-rollback")
    with app.app_context():
        service.notify([member.id], "test.reply", "thread:1", DATA)
        db.session.rollback()
        commit()  # nothing pending any more
        assert db.session.execute(sa.select(sa.func.count(Notification.id))).scalar_one() == 0
    assert fake_fcm.received == []


def test_repeated_events_collapse_into_one_entry(app, client, fake_fcm, make_member, auth_headers):
    member = make_member(locale="en")
    add_device(app, member, "phone-collapse")
    for _ in range(3):
        notify_reply(app, [member], actor=make_member(display_name="someone"))
    notify_reply(app, [member], subject="thread:99")
    headers = {**auth_headers(member), "Accept-Language": "en"}
    items = client.get("/api/v1/notifications", headers=headers).get_json()["items"]
    assert [i["count"] for i in items] == [1, 3]  # most recently updated first
    assert items[1]["body"] == "3 new replies in “自由职业怎么报价”"
    assert items[1]["actor"]["display_name"] == "someone"
    assert client.get("/api/v1/notifications/unread-count", headers=headers).get_json() == {
        "unread": 2
    }
    collapse_keys = {r.message["android"]["collapse_key"] for r in fake_fcm.received}
    assert len(collapse_keys) == 2  # the phone replaces, per subject


def test_1200_devices_go_out_in_batches_each_once(app, fake_fcm, count_queries):
    app.config["PUSH_BATCH_SIZE"] = 500
    with app.app_context():
        ids = insert_members(1200)
        insert_devices(ids)
        db.session.commit()
        with count_queries() as q:
            service.notify(ids, "test.reply", "thread:7", DATA)
            commit()
    assert fake_fcm.tokens() == {f"bulk-token-{m}": 1 for m in ids}
    # claim + load + 3 lookups + finish, per batch of 500: the count grows with batches, not devices
    assert q.count < 60, q.statements[:5]


def test_dead_tokens_are_pruned_and_transient_failures_retried(app, fake_fcm, make_member):
    member = make_member()
    for token in ("unregistered-x", "invalid-y", "quota-z", "unavailable-w", "fine-v"):
        add_device(app, member, token)
    before = utcnow()
    notify_reply(app, [member])
    with app.app_context():
        left = set(db.session.execute(sa.select(Device.token)).scalars())
        waiting = (
            db.session.execute(
                sa.select(PushDelivery.not_before).where(PushDelivery.status == "pending")
            )
            .scalars()
            .all()
        )
    assert left == {"quota-z", "unavailable-w", "fine-v"}  # the dead ones are forgotten
    assert len(waiting) == 2 and min(waiting) > utcnow()
    with app.app_context():
        quota_due = db.session.execute(
            sa.select(PushDelivery.not_before)
            .join(Device, Device.id == PushDelivery.device_id)
            .where(Device.token == "quota-z")
        ).scalar_one()
        assert quota_due >= before + timedelta(seconds=1)  # honoured Retry-After: 1
        assert delivery.deliver_due()["sent"] == 0  # not yet: Retry-After and backoff hold
        # the moment they come due (as the minute sweep, or the job scheduled for it, sees it)
        assert delivery.deliver_due(now=max(waiting) + timedelta(milliseconds=1))["sent"] == 2
    assert len([r for r in fake_fcm.received if r.token == "quota-z"]) == 2
    assert fake_fcm.tokens() == {"fine-v": 1, "quota-z": 1, "unavailable-w": 1}


def test_quiet_hours_hold_the_push_but_not_the_inbox(
    app, client, fake_fcm, make_member, auth_headers
):
    member = make_member(time_zone="Asia/Shanghai")
    add_device(app, member, "phone-quiet")
    local = datetime.now(UTC).astimezone(ZoneInfo("Asia/Shanghai"))
    start = (local - timedelta(hours=1)).strftime("%H:%M")
    end = (local + timedelta(hours=2)).strftime("%H:%M")
    with app.app_context():
        db.session.add(QuietHours(member_id=member.id, start=start, end=end))
        db.session.commit()
    notify_reply(app, [member])
    assert fake_fcm.received == []
    unread = client.get("/api/v1/notifications/unread-count", headers=auth_headers(member))
    assert unread.get_json() == {"unread": 1}
    with app.app_context():
        not_before = db.session.execute(sa.select(PushDelivery.not_before)).scalar_one()
    assert timedelta(hours=1, minutes=58) < not_before - utcnow() <= timedelta(hours=2)
    with app.app_context():
        delivery.deliver_due(now=not_before + timedelta(seconds=1))
    assert fake_fcm.tokens() == {"phone-quiet": 1}


def test_reading_on_one_device_stops_pushes_to_the_others(
    app, client, fake_fcm, make_member, auth_headers
):
    member = make_member()
    add_device(app, member, "phone-a")
    add_device(app, member, "phone-b")
    headers = auth_headers(member)
    # Read before the push went out (it waits in quiet hours): it is never sent.
    with app.app_context():
        db.session.add(QuietHours(member_id=member.id, start="00:00", end="23:59"))
        db.session.commit()
    [first] = notify_reply(app, [member], subject="thread:1")
    assert client.post(f"/api/v1/notifications/{first}/read", headers=headers).status_code == 204
    with app.app_context():
        delivery.deliver_due(now=utcnow() + timedelta(days=1))
    assert fake_fcm.received == []
    assert _statuses(app) == [("show", "skipped")] * 2

    # Read after it was shown: the other devices are told to take it down.
    with app.app_context():
        db.session.execute(sa.delete(QuietHours))
        db.session.commit()
    [second] = notify_reply(app, [member], subject="thread:2")
    assert fake_fcm.tokens() == {"phone-a": 1, "phone-b": 1}
    assert client.post(f"/api/v1/notifications/{second}/read", headers=headers).status_code == 204
    withdrawals = [r.message for r in fake_fcm.received if r.message["data"].get("action")]
    assert len(withdrawals) == 2
    assert all("notification" not in m and m["data"]["action"] == "withdraw" for m in withdrawals)
    shown = [r.message for r in fake_fcm.received if "notification" in r.message]
    assert {m["android"]["collapse_key"] for m in withdrawals} == {
        m["android"]["collapse_key"] for m in shown
    }
    assert withdrawals[0]["apns"]["payload"]["aps"]["badge"] == 0


def test_muted_kinds_reach_the_inbox_without_a_push(
    app, client, fake_fcm, make_member, auth_headers
):
    member = make_member()
    add_device(app, member, "phone-muted")
    headers = auth_headers(member)
    changed = client.patch(
        "/api/v1/notifications/preferences",
        headers=headers,
        json={"kinds": [{"kind": "test.reply", "push": False}]},
    )
    assert changed.status_code == 200
    notify_reply(app, [member])
    assert fake_fcm.received == []
    assert client.get("/api/v1/notifications/unread-count", headers=headers).get_json() == {
        "unread": 1
    }


@pytest.mark.parametrize("platform", ["android", "ios"])
def test_badge_is_the_unread_count(app, fake_fcm, make_member, platform):
    member = make_member()
    add_device(app, member, f"badge-{platform}", platform=platform)
    notify_reply(app, [member], subject="thread:1")
    notify_reply(app, [member], subject="thread:2")
    badges = [r.message["apns"]["payload"]["aps"]["badge"] for r in fake_fcm.received]
    assert badges == [1, 2]


def test_permanent_errors_are_recorded_and_the_token_kept(app, fake_fcm, make_member):
    member = make_member()
    add_device(app, member, "apnsauth-cert-expired", platform="ios")
    notify_reply(app, [member])
    with app.app_context():
        status, error = db.session.execute(
            sa.select(PushDelivery.status, PushDelivery.last_error)
        ).one()
        kept = db.session.execute(sa.select(Device.token)).scalars().all()
    assert status == "failed" and error.startswith("ThirdPartyAuthError")
    assert kept == ["apnsauth-cert-expired"]  # the device is fine; our APNs setup is not


def test_in_app_off_still_pushes_but_keeps_the_inbox_clean(
    app, client, fake_fcm, make_member, auth_headers
):
    member = make_member()
    add_device(app, member, "phone-no-inbox")
    headers = auth_headers(member)
    client.patch(
        "/api/v1/notifications/preferences",
        headers=headers,
        json={"kinds": [{"kind": "test.reply", "in_app": False}]},
    )
    notify_reply(app, [member])
    assert fake_fcm.tokens() == {"phone-no-inbox": 1}
    assert client.get("/api/v1/notifications", headers=headers).get_json()["items"] == []
