"""A deleted (or erased) message stops being quoted in the recipient's inbox and on their
phone (issue #10): chat calls notifications.retraction.forget() when it deletes and erases."""

from __future__ import annotations

from server.extensions import db
from server.notifications.models import Device
from server.notifications.retraction import GONE
from tests.conftest import PASSWORD

SECRET = "我的银行卡号是 6222 0000"


def _direct_message(app, chat, make_member, fake_fcm):
    sender = make_member(display_name="張三豐")
    reader = make_member(display_name="读者", locale="en")
    with app.app_context():
        db.session.add(Device(member_id=reader.id, token="dm-reader-phone", platform="ios"))
        db.session.commit()
    conv = chat.call(sender, "POST", "/api/v1/chat/direct", 200, json={"member_ids": [reader.id]})
    url = f"/api/v1/chat/conversations/{conv['id']}/messages"
    message = chat.call(sender, "POST", url, 201, json={"body": SECRET})
    [shown] = [r.message for r in fake_fcm.received if r.token == "dm-reader-phone"]
    assert SECRET in shown["notification"]["body"]
    fake_fcm.reset()
    return sender, reader, message


def _withdrawals(fake_fcm):
    return [r.message["data"] for r in fake_fcm.received if "notification" not in r.message]


def test_a_deleted_message_is_no_longer_quoted(app, chat, make_member, fake_fcm):
    sender, reader, message = _direct_message(app, chat, make_member, fake_fcm)
    chat.call(sender, "DELETE", f"/api/v1/chat/messages/{message['id']}", 204)
    [entry] = chat.call(reader, "GET", "/api/v1/notifications", 200)["items"]
    assert SECRET not in str(entry)
    assert entry["body"] == "張三豐: " + GONE["en"]  # who wrote, where: still there
    assert [w["action"] for w in _withdrawals(fake_fcm)] == ["withdraw"]


def test_erasing_the_sender_withdraws_the_message_from_the_readers_phone(
    app, client, auth_headers, chat, make_member, fake_fcm
):
    sender, reader, _message = _direct_message(app, chat, make_member, fake_fcm)
    r = client.delete("/api/v1/me", headers=auth_headers(sender), json={"password": PASSWORD})
    assert r.status_code == 204
    assert chat.call(reader, "GET", "/api/v1/notifications", 200)["items"] == []
    [withdraw] = _withdrawals(fake_fcm)
    assert withdraw["action"] == "withdraw" and withdraw["kind"] == "chat.message"
