"""``Idempotency-Key`` (``server/common/idempotency.py``): a phone that lost the answer to a
write and sends it again gets the first answer, and nothing is written twice."""

from __future__ import annotations

from datetime import timedelta

import pytest
import sqlalchemy as sa

from server.common.idempotency import IdempotencyKey, forget_old_keys
from server.common.time import utcnow
from server.extensions import db
from server.forum.models import ForumPost as Post
from tests.forum.helpers import BODY, new_thread


@pytest.fixture
def thread(forum, make_member):
    return new_thread(forum, make_member)[1]


def _reply(client, headers, thread_id, body=BODY, key="phone-retry-0001"):
    return client.post(
        f"/api/v1/forum/threads/{thread_id}/posts",
        json={"body": body},
        headers={**headers, "Idempotency-Key": key},
    )


def _posts(app, thread_id):
    with app.app_context():
        return db.session.scalar(
            sa.select(sa.func.count()).select_from(Post).where(Post.thread_id == thread_id)
        )


def test_a_retried_write_gets_the_first_answer_and_writes_once(
    app, client, auth_headers, make_member, thread
):
    headers = auth_headers(make_member())
    before = _posts(app, thread["id"])
    first = _reply(client, headers, thread["id"])
    assert first.status_code == 201 and "Idempotent-Replayed" not in first.headers
    again = _reply(client, headers, thread["id"])
    assert again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()
    assert again.headers["Content-Type"] == first.headers["Content-Type"]
    assert _posts(app, thread["id"]) == before + 1
    other = _reply(client, headers, thread["id"], key="phone-retry-0002")  # a new key: new post
    assert other.status_code == 201 and other.get_json()["id"] != first.get_json()["id"]


def test_keys_are_per_member(app, client, auth_headers, make_member, thread):
    a, b = auth_headers(make_member()), auth_headers(make_member())
    first = _reply(client, a, thread["id"])
    second = _reply(client, b, thread["id"])  # the same key, another member
    assert second.status_code == 201 and "Idempotent-Replayed" not in second.headers
    assert second.get_json()["id"] != first.get_json()["id"]


def test_the_same_key_for_another_request_is_refused(client, auth_headers, make_member, thread):
    headers = {**auth_headers(make_member()), "Accept-Language": "en"}
    assert _reply(client, headers, thread["id"]).status_code == 201
    reused = _reply(client, headers, thread["id"], body="另一条完全不同的回复内容。")
    assert reused.status_code == 422
    assert reused.get_json()["code"] == "idempotency_key_reused"
    assert "different request" in reused.get_json()["message"]


def test_a_failed_write_does_not_use_up_its_key(app, client, auth_headers, make_member, thread):
    headers = auth_headers(make_member())
    refused = _reply(client, headers, thread["id"], body="")
    assert refused.status_code == 422 and refused.get_json()["code"] == "validation_error"
    with app.app_context():
        assert db.session.scalar(sa.select(sa.func.count()).select_from(IdempotencyKey)) == 0
    again = _reply(client, headers, thread["id"], body="")  # runs again, fails again
    assert again.status_code == 422 and "Idempotent-Replayed" not in again.headers


def test_a_retry_while_the_first_is_running_is_told_to_wait(
    app, client, auth_headers, make_member, thread
):
    member = make_member()
    headers = auth_headers(member)
    first = _reply(client, headers, thread["id"])
    with app.app_context():
        # as a first try that has committed its write but not yet stored its answer
        row = db.session.get(IdempotencyKey, (member.id, "phone-retry-0001"))
        row.status, row.body = None, None
        db.session.commit()
    waiting = _reply(client, headers, thread["id"])
    assert waiting.status_code == 409, first.get_json()
    assert waiting.get_json()["code"] == "idempotency_key_in_progress"
    assert waiting.headers["Retry-After"] == "1"


@pytest.mark.parametrize("key", ["", "x" * 256, "带中文的键", "tab\there"])
def test_malformed_keys_are_400(client, auth_headers, make_member, thread, key):
    response = _reply(client, auth_headers(make_member()), thread["id"], key=key)
    assert response.status_code == 400
    assert response.get_json()["code"] == "invalid_idempotency_key"


def test_a_key_without_a_signed_in_caller_changes_nothing(client, make_member):
    from tests.conftest import PASSWORD

    member = make_member()
    body = {"email": member.email, "password": PASSWORD}
    for _ in range(2):
        r = client.post("/api/v1/auth/login", json=body, headers={"Idempotency-Key": "k-1"})
        assert r.status_code == 200 and "Idempotent-Replayed" not in r.headers


def test_chat_messages_sent_again_are_sent_once(app, client, auth_headers, make_member):
    a, b = make_member(), make_member()
    ha = auth_headers(a)
    opened = client.post("/api/v1/chat/direct", json={"member_ids": [b.id]}, headers=ha)
    assert opened.status_code in (200, 201), opened.get_json()
    conversation = opened.get_json()["id"]
    send = {"body": "你好，周五见"}
    headers = {**ha, "Idempotency-Key": "msg-7f3a"}
    path = f"/api/v1/chat/conversations/{conversation}/messages"
    first = client.post(path, json=send, headers=headers)
    again = client.post(path, json=send, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.get_json()["id"] == first.get_json()["id"]
    history = client.get(path, headers=ha).get_json()
    assert [m["id"] for m in history["messages"]] == [first.get_json()["id"]]


def test_keys_are_forgotten_after_a_day(app, client, auth_headers, make_member, thread):
    member = make_member()
    headers = auth_headers(member)
    _reply(client, headers, thread["id"])
    with app.app_context():
        row = db.session.get(IdempotencyKey, (member.id, "phone-retry-0001"))
        row.created_at = utcnow() - timedelta(hours=25)
        db.session.commit()
        assert forget_old_keys.call_local() == 1
    export = client.get("/api/v1/me/export", headers=headers).get_json()
    assert export["sections"]["idempotency"] == []


def test_a_limiter_that_fails_after_the_commit_does_not_turn_success_into_an_error(
    app, client, auth_headers, make_member, thread
):
    """The reply limit is counted after the post is stored (``deduct_when``). A storage that
    fails then, even one without the fallback (plain ``redis://`` to a Redis that is down),
    must not make the client retry a write that was stored."""
    from limits.storage import storage_from_string
    from limits.strategies import FixedWindowRateLimiter

    from server.extensions import limiter
    from tests.faults import dead_redis_url

    headers = auth_headers(make_member())
    before = _posts(app, thread["id"])
    saved = limiter._storage, limiter._limiter
    limiter._storage = storage_from_string(dead_redis_url())
    limiter._limiter = FixedWindowRateLimiter(limiter._storage)
    try:
        response = client.post(
            f"/api/v1/forum/threads/{thread['id']}/posts", json={"body": BODY}, headers=headers
        )
    finally:
        limiter._storage, limiter._limiter = saved
    assert response.status_code == 201, response.get_json()
    assert _posts(app, thread["id"]) == before + 1
