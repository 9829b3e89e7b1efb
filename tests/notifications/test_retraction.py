"""retraction.forget(): entries stop quoting content that is gone, and its pushes are
withdrawn — the one mechanism the forum and chat call when they hide, delete or erase."""

from __future__ import annotations

import sqlalchemy as sa

from server.common.tx import commit
from server.extensions import db
from server.notifications import retraction, service
from server.notifications.models import Notification, PushDelivery, QuietHours
from tests.notifications.test_delivery import _device

QUOTE = {
    "title": "自由职业怎么报价",
    "thread_id": 42,
    "post_id": 7,
    "excerpt": "私密的报价单：三万",
}


def _notify_all(app, members, data=QUOTE, subject="thread:42", actor=None):
    with app.app_context():
        service.notify([m.id for m in members], "test.reply", subject, data,
                       actor_id=actor.id if actor else None)  # fmt: skip
        commit()


def _forget(app, **kwargs):
    with app.app_context():
        n = retraction.forget(["test.reply"], **kwargs)
        commit()
        return n


def test_entries_stop_quoting_and_pushes_are_withdrawn_in_constant_queries(
    app, client, fake_fcm, make_member, auth_headers, count_queries
):
    few = [make_member() for _ in range(2)]
    many = [make_member() for _ in range(12)]
    for m in few + many:
        _device(app, m, f"phone-{m.id}")
    _notify_all(app, few, subject="thread:41", data={**QUOTE, "post_id": 6})
    _notify_all(app, many)
    fake_fcm.reset()

    with count_queries() as one_post_few:
        assert _forget(app, subjects=["thread:41"], quoting={"post_id": 6}) == 2
    with count_queries() as one_post_many:
        assert _forget(app, subjects=["thread:42"], quoting={"post_id": 7}) == 12
    # select, blank, skip the waiting pushes, find the shown ones, queue their withdraws — and
    # the delivery run that sends them: as many queries for 12 entries as for 2
    assert one_post_many.count <= 20, one_post_many.statements
    assert one_post_many.count == one_post_few.count

    withdrawn = [r.message for r in fake_fcm.received]
    assert len(withdrawn) == 14
    assert all(m["data"]["action"] == "withdraw" and "notification" not in m for m in withdrawn)
    for member in few + many:
        [item] = client.get("/api/v1/notifications", headers=auth_headers(member)).get_json()[
            "items"
        ]
        assert "私密" not in str(item)
        assert item["data"]["excerpt"] == retraction.GONE  # the entry still says where, and that
        assert item["data"]["title"] == "自由职业怎么报价"
    # forgetting again (hidden, then deleted) withdraws nothing twice
    fake_fcm.reset()
    assert _forget(app, subjects=["thread:42"], quoting={"post_id": 7}) == 0
    assert fake_fcm.received == []


def test_a_push_not_yet_sent_is_never_sent(app, fake_fcm, make_member):
    member = make_member()
    _device(app, member, "phone-quiet-hours")
    with app.app_context():
        db.session.add(QuietHours(member_id=member.id, start="00:00", end="23:59"))
        db.session.commit()
    _notify_all(app, [member])
    assert _forget(app, subjects=["thread:42"], quoting={"post_id": 7}) == 1
    with app.app_context():
        db.session.execute(sa.delete(QuietHours))
        db.session.commit()
        from server.notifications import delivery

        delivery.deliver_due()
        statuses = db.session.execute(sa.select(PushDelivery.purpose, PushDelivery.status)).all()
    assert fake_fcm.received == []
    assert statuses == [("show", "skipped")]


def test_other_content_in_the_same_subject_is_left_alone(app, client, make_member, auth_headers):
    member = make_member()
    _notify_all(app, [member], data={**QUOTE, "post_id": 8, "excerpt": "另一条回复"})
    assert _forget(app, subjects=["thread:42"], quoting={"post_id": 7}) == 0
    [item] = client.get("/api/v1/notifications", headers=auth_headers(member)).get_json()["items"]
    assert item["data"]["excerpt"] == "另一条回复"


def test_deleted_entries_are_still_withdrawn_from_phones(app, fake_fcm, make_member):
    """An erased account's entries in others' inboxes go; the phones showing them are told."""
    erased, reader = make_member(), make_member()
    _device(app, reader, "phone-reader", platform="ios")
    _notify_all(app, [reader], actor=erased)
    [shown] = [r.message for r in fake_fcm.received]
    fake_fcm.reset()
    assert _forget(app, actor_id=erased.id, delete=True) == 1
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count(Notification.id))).scalar_one() == 0
        left = db.session.execute(sa.select(PushDelivery.purpose, PushDelivery.status)).all()
    [withdraw] = [r.message for r in fake_fcm.received]
    assert withdraw["data"] == {
        "kind": "test.reply",
        "notification_id": shown["data"]["notification_id"],
        "action": "withdraw",
    }
    assert (
        withdraw["apns"]["headers"]["apns-collapse-id"]
        == (shown["apns"]["headers"]["apns-collapse-id"])
    )
    assert withdraw["apns"]["payload"]["aps"]["badge"] == 0
    assert left == [("withdraw", "sent")]
