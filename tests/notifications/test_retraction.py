"""retraction.forget(): entries stop quoting content that is gone, and its pushes are
withdrawn — the one mechanism the forum and chat call when they hide, delete or erase."""

from __future__ import annotations

from datetime import timedelta

import sqlalchemy as sa

from server.common.time import utcnow
from server.common.tx import commit
from server.extensions import db
from server.notifications import delivery, retraction, service
from server.notifications.models import Notification, PushDelivery, QuietHours
from tests.notifications.helpers import (
    add_device,
    claim_batch,
    finish_batch,
    register_reply_kind,
)

register_reply_kind(
    "test.quote",
    {"title": "string", "thread_id": "integer", "post_id": "integer", "excerpt": "string"},
)

QUOTE = {
    "title": "自由职业怎么报价",
    "thread_id": 42,
    "post_id": 7,
    "excerpt": "私密的报价单：三万",
}


def _notify_all(app, members, data=QUOTE, subject="thread:42", actor=None):
    with app.app_context():
        service.notify([m.id for m in members], "test.quote", subject, data,
                       actor_id=actor.id if actor else None)  # fmt: skip
        commit()


def _quiet_notify(app, member, data, actor=None):
    """notify() without delivering yet (the test plays the worker)."""
    with app.app_context():
        service.notify([member.id], "test.quote", "thread:42", data,
                       actor_id=actor.id if actor else None)  # fmt: skip
        db.session.commit()  # not tx.commit(): no delivery run is started


def _forget(app, **kwargs):
    with app.app_context():
        n = retraction.forget(["test.quote"], **kwargs)
        commit()
        return n


def test_entries_stop_quoting_and_pushes_are_withdrawn_in_constant_queries(
    app, client, fake_fcm, make_member, auth_headers, count_queries
):
    few = [make_member() for _ in range(2)]
    many = [make_member() for _ in range(12)]
    for m in few + many:
        add_device(app, m, f"phone-{m.id}")
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
        # the entry still says where, and that something is gone; every value keeps its type
        post_id = 6 if member in few else 7
        assert item["data"] == {**QUOTE, "post_id": post_id, "excerpt": "", "gone": ["excerpt"]}
    # forgetting again (hidden, then deleted) withdraws nothing twice
    fake_fcm.reset()
    assert _forget(app, subjects=["thread:42"], quoting={"post_id": 7}) == 0
    assert fake_fcm.received == []


def test_a_push_not_yet_sent_is_never_sent(app, fake_fcm, make_member):
    member = make_member()
    add_device(app, member, "phone-quiet-hours")
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
    add_device(app, reader, "phone-reader", platform="ios")
    _notify_all(app, [reader], actor=erased)
    [shown] = [r.message for r in fake_fcm.received]
    fake_fcm.reset()
    assert _forget(app, actor_id=erased.id, delete=True) == 1
    with app.app_context():
        assert db.session.execute(sa.select(sa.func.count(Notification.id))).scalar_one() == 0
        left = db.session.execute(sa.select(PushDelivery.purpose, PushDelivery.status)).all()
    [withdraw] = [r.message for r in fake_fcm.received]
    assert withdraw["data"] == {
        "kind": "test.quote",
        "notification_id": shown["data"]["notification_id"],
        "action": "withdraw",
    }
    assert (
        withdraw["apns"]["headers"]["apns-collapse-id"]
        == (shown["apns"]["headers"]["apns-collapse-id"])
    )
    assert withdraw["apns"]["payload"]["aps"]["badge"] == 0
    assert left == [("withdraw", "sent")]


def test_what_is_gone_keeps_its_type_and_is_said_in_the_readers_language(
    app, client, fake_fcm, make_member, auth_headers
):
    """A typed app decodes ``excerpt: String``: a forgotten entry must not turn it into an
    object (issue #10 review, L2). The words "no longer available" are the renderer's."""
    readers = {"en": make_member(locale="en"), "zh-Hant": make_member(locale="zh-Hant")}
    _notify_all(app, readers.values(), actor=make_member(display_name="張三豐"))
    assert _forget(app, subjects=["thread:42"], keys=("title", "excerpt")) == 2
    for locale, reader in readers.items():
        [item] = client.get("/api/v1/notifications", headers=auth_headers(reader)).get_json()[
            "items"
        ]
        assert {k: type(v) for k, v in item["data"].items() if k in QUOTE} == {
            k: type(v) for k, v in QUOTE.items()
        }
        assert item["data"] == {**QUOTE, "title": "", "excerpt": "", "gone": ["excerpt", "title"]}
        gone = retraction.GONE[locale]
        assert (
            item["body"]
            == {"en": f"張三豐 replied in “{gone}”", "zh-Hant": f"張三豐 回覆了「{gone}」"}[locale]
        )
    # forgetting one more key later keeps the first in the list
    _notify_all(app, [readers["en"]], subject="thread:43")
    _forget(app, subjects=["thread:43"], keys=("excerpt",))
    _forget(app, subjects=["thread:43"], keys=("title",))
    with app.app_context():
        data = db.session.execute(
            sa.select(Notification.data).where(Notification.subject == "thread:43")
        ).scalar_one()
    assert data["gone"] == ["excerpt", "title"] and data["title"] == data["excerpt"] == ""


def test_a_push_sent_while_its_content_goes_is_withdrawn_once_the_send_is_recorded(
    app, fake_fcm, make_member
):
    """Not when the send's lease (PUSH_LEASE_SECONDS) would have run out."""
    member = make_member(locale="en")
    add_device(app, member, "phone-in-flight", locale="zh-Hant")
    _quiet_notify(app, member, data=QUOTE)
    lease = claim_batch(app)  # a worker is sending it …
    assert _forget(app, subjects=["thread:42"], keys=("title", "excerpt")) == 1
    assert fake_fcm.received == []  # the withdraw must not overtake the send
    finish_batch(app, lease)  # … it read the entry after the forget: nothing of it is shown
    [shown] = [r.message for r in fake_fcm.received]
    assert shown["notification"]["body"] == f" 回覆了「{retraction.GONE['zh-Hant']}」"
    with app.app_context():
        delivery.deliver_due()  # the worker's next claim, right after it recorded the send
    assert [r.message["data"].get("action") for r in fake_fcm.received] == [None, "withdraw"]


def test_a_deleted_entrys_withdraw_waits_for_the_send_in_flight_until_its_lease_ends(
    app, fake_fcm, make_member
):
    """The entry and its show are deleted (an erased account): nothing records when that send
    is over, so its withdraw keeps waiting for the lease."""
    erased, reader = make_member(), make_member()
    add_device(app, reader, "phone-erased-in-flight")
    _quiet_notify(app, reader, data=QUOTE, actor=erased)
    lease = claim_batch(app)
    assert _forget(app, actor_id=erased.id, delete=True) == 1
    finish_batch(app, lease)
    with app.app_context():
        delivery.deliver_due()
        assert fake_fcm.received == []
        lease_end = db.session.execute(sa.select(PushDelivery.not_before)).scalar_one()
        assert lease_end > utcnow()
        delivery.deliver_due(now=lease_end + timedelta(seconds=1))
    [withdraw] = [r.message for r in fake_fcm.received]
    assert withdraw["data"]["action"] == "withdraw"


def test_a_subject_and_what_lies_under_it_are_found_by_the_index(app, make_member):
    """A thread's entries (``forum.thread:7`` and ``forum.thread:7:…``) are found through the
    subject index, on SQLite and on PostgreSQL whatever its collation, where LIKE would scan
    the whole table under FOR UPDATE (issue #10 review, L4)."""
    member = make_member()
    for subject in ("thread:7", "thread:7:2", "thread:70:1", "thread:7;"):
        _notify_all(app, [member], subject=subject)
    with app.app_context():
        engine = db.engine
        # a table the size of a small site's, so the planner knows what the index is worth
        now = utcnow()
        others = [
            {"recipient_id": member.id, "kind": "test.quote", "subject": f"thread:{n}:{m}",
             "data": {}, "count": 1, "in_inbox": True, "created_at": now, "updated_at": now}
            for n in range(100, 1100) for m in range(3)
        ]  # fmt: skip
        db.session.execute(sa.insert(Notification), others)
        db.session.execute(sa.text("ANALYZE notifications"))
        db.session.commit()
    seen: list[tuple[str, object]] = []

    def keep(_conn, _cursor, statement, parameters, _context, _many):
        if statement.lstrip().startswith("SELECT notifications.id, notifications.kind"):
            seen.append((statement, parameters))

    sa.event.listen(engine, "before_cursor_execute", keep)
    try:
        assert _forget(app, subjects=["thread:7"], subject_prefixes=["thread:7:"]) == 2
    finally:
        sa.event.remove(engine, "before_cursor_execute", keep)
    [(statement, parameters)] = seen
    with app.app_context():
        connection = db.session.connection()
        if connection.dialect.name == "postgresql":
            plan = "\n".join(
                connection.exec_driver_sql("EXPLAIN " + statement, parameters).scalars()
            )
            assert "ix_notifications_subject_prefix" in plan, plan
            assert "Index Cond: (((subject)::text ~>=~ 'thread:7:'::text)" in plan, plan
        else:
            plan = "\n".join(
                str(row[-1])
                for row in connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters)
            )
            assert "USING INDEX ix_notifications_subject_prefix (subject>? AND subject<?)" in plan
            assert "USING INDEX ix_notifications_subject_prefix (subject=?)" in plan, plan
