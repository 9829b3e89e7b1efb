"""The FCM provider against the fake FCM server: real firebase-admin credentials and message
model, FCM's wire protocol, FCM's error payloads."""

from __future__ import annotations

import pytest

from push import Outcome, Push, make_provider
from push.fcm import classify


@pytest.fixture
def provider(fake_fcm_server, tmp_path):
    fake_fcm_server.reset()
    key = fake_fcm_server.service_account(tmp_path / "sa.json")
    return make_provider(
        {
            "PUSH_PROVIDER": "fcm",
            "FCM_CREDENTIALS": str(key),
            "FCM_ENDPOINT": fake_fcm_server.base_url,
        }
    )


def test_sends_well_formed_messages_with_a_fetched_access_token(provider, fake_fcm_server):
    pushes = [
        Push(
            "tok-a", "新回复", "林晓雨回复了你", {"kind": "forum.reply", "thread_id": "7"}, "k1", 3
        ),
        Push("tok-b", None, None, {"action": "withdraw"}, "k1", 0, platform="ios"),
    ]
    results = provider.send(pushes)
    assert [r.outcome for r in results] == [Outcome.SENT, Outcome.SENT]
    assert fake_fcm_server.invalid_bodies == []
    assert fake_fcm_server.calls["token"] == 1  # one OAuth exchange, cached
    shown, silent = (r.message for r in fake_fcm_server.received)
    assert shown["token"] == "tok-a"
    assert shown["notification"] == {"title": "新回复", "body": "林晓雨回复了你"}
    assert shown["data"] == {"kind": "forum.reply", "thread_id": "7"}
    assert shown["android"]["collapse_key"] == "k1" and shown["android"]["priority"] == "high"
    assert shown["apns"]["payload"]["aps"]["badge"] == 3
    assert shown["apns"]["headers"]["apns-collapse-id"] == "k1"
    assert (
        "notification" not in silent and silent["apns"]["payload"]["aps"]["content-available"] == 1
    )
    assert silent["apns"]["headers"]["apns-push-type"] == "background"


def test_each_failure_is_classified(provider):
    tokens = ["unregistered-1", "invalid-1", "quota-1", "unavailable-1", "internal-1", "ok-1"]
    results = provider.send([Push(t, "t", "b") for t in tokens])
    assert [r.outcome for r in results] == [
        Outcome.DROP_TOKEN,
        Outcome.DROP_TOKEN,
        Outcome.RETRY,
        Outcome.RETRY,
        Outcome.RETRY,
        Outcome.SENT,
    ]
    assert results[0].error.startswith("UnregisteredError")
    assert results[2].retry_after == 1.0


def test_a_malformed_message_does_not_condemn_the_token():
    body = (
        b'{"error": {"code": 400, "message": "Invalid JSON payload", "status": "INVALID_ARGUMENT"}}'
    )
    assert classify(400, body)[0] is Outcome.FAILED
    assert classify(401, b"{}")[0] is Outcome.RETRY
    assert classify(403, b"{}")[0] is Outcome.FAILED


def test_unreachable_fcm_is_a_retry(tmp_path, fake_fcm_server):
    key = fake_fcm_server.service_account(tmp_path / "sa.json")
    provider = make_provider(
        {"PUSH_PROVIDER": "fcm", "FCM_CREDENTIALS": str(key), "FCM_ENDPOINT": "http://127.0.0.1:9"}
    )
    [result] = provider.send([Push("tok", "t", "b")])
    assert result.outcome is Outcome.RETRY and result.error.startswith("transport")


def test_a_sender_id_mismatch_keeps_the_device():
    body = (
        b'{"error": {"code": 403, "message": "SenderId mismatch", "status": "PERMISSION_DENIED",'
        b' "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",'
        b' "errorCode": "SENDER_ID_MISMATCH"}]}}'
    )
    assert classify(403, body)[0] is Outcome.FAILED


@pytest.mark.parametrize(
    ("header", "seconds"),
    [("2", 2.0), ("soon", None), ("inf", 3600.0), ("1e12", 3600.0), ("-5", 0.0), ("nan", None)],
)
def test_retry_after_is_read_defensively(header, seconds):
    from push.fcm import _retry_after

    assert _retry_after(header) == seconds


def test_a_quiet_update_is_shown_without_sound_at_normal_priority(provider, fake_fcm_server):
    pushes = [
        Push("tok-q", "陈默", "3 条新消息", {"kind": "chat.message"}, "k2", 2, alert=False),
        Push("tok-qi", "陈默", "3 条新消息", {}, "k2", 2, platform="ios", alert=False),
    ]
    assert [r.outcome for r in provider.send(pushes)] == [Outcome.SENT, Outcome.SENT]
    assert fake_fcm_server.invalid_bodies == []  # the v1 schema knows every field we use
    quiet = fake_fcm_server.received[0].message
    assert quiet["notification"] == {"title": "陈默", "body": "3 条新消息"}
    assert quiet["android"]["priority"] == "normal"
    assert quiet["android"]["notification"] == {
        "channel_id": "default_quiet",  # the app's low-importance twin of the channel
        "tag": "k2",
        "notification_priority": "PRIORITY_LOW",
    }
    assert quiet["apns"]["headers"] == {"apns-priority": "5", "apns-collapse-id": "k2"}
    assert quiet["apns"]["payload"]["aps"] == {"badge": 2, "interruption-level": "passive"}
