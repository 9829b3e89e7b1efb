"""The embedded default (``make serve``: one ``flask serve`` process with its job worker, on an
SQLite file) under concurrent writers: every write is answered without a 5xx, and every push
the provider accepted is recorded as sent — none is sent twice because its bookkeeping lost a
race for the database (``server/common/tx.py``: write transactions begin IMMEDIATE; the push
worker records results with retries and holds no lock while it calls FCM)."""

from __future__ import annotations

import os
import time

import pytest

from tests.concurrency import Race

BODY = "这是一条足够长的测试回复。"
ROUNDS, N = 3, 10


@pytest.fixture
def embedded(tmp_path, fake_fcm_server):
    if os.environ.get("TEST_DATABASE_URL", "").startswith("postgres"):
        pytest.skip("make serve's database is SQLite; the PostgreSQL pass races through `race`")
    fake_fcm_server.reset()
    key = fake_fcm_server.service_account(tmp_path / "sa.json")
    env = {
        "PUSH_PROVIDER": "fcm",
        "FCM_CREDENTIALS": str(key),
        "FCM_ENDPOINT": fake_fcm_server.base_url,
        "PUSH_LEASE_SECONDS": "2",  # a push whose bookkeeping failed would go out again soon
        "PUSH_BURST_SECONDS": "0",  # every push alerts: each one counts
    }
    with Race(tmp_path, embedded=True, env=env) as race:
        yield race


def test_concurrent_replies_on_the_embedded_default_push_each_once(embedded, fake_fcm_server):
    race = embedded
    _organiser, organiser = race.member("organiser", role="organiser")
    category = race.call("POST", "/api/v1/forum/categories", {"name": "嵌入式"}, organiser)
    author, author_token = race.member("author")
    race.call("POST", "/api/v1/devices", {"token": "embedded-phone-1", "platform": "android"},
              author_token)  # fmt: skip
    thread = race.call("POST", "/api/v1/forum/threads", {"category_id": category["id"],
                       "title": "嵌入式数据库能扛住吗", "body": BODY}, author_token)  # fmt: skip
    repliers = [race.member(f"replier{i}")[1] for i in range(N)]
    path = f"/api/v1/forum/threads/{thread['id']}/posts"
    answers = []
    for _round in range(ROUNDS):
        answers += race.at_once(N, lambda i: race.request("POST", path, {"body": BODY},
                                                          repliers[i]))  # fmt: skip
        # reading while others write: a GET that counts a view writes too
        answers += race.at_once(
            N,
            lambda i: race.request(
                "GET", f"/api/v1/forum/threads/{thread['id']}", token=repliers[i]
            ),
        )
    assert race.statuses(answers) == {201: ROUNDS * N, 200: ROUNDS * N}
    posts = race.scalar("SELECT count(*) FROM forum_posts WHERE thread_id = :t", t=thread["id"])
    assert posts == ROUNDS * N + 1

    def settled() -> bool:
        return race.scalar("SELECT count(*) FROM push_deliveries WHERE status = 'pending' "
                           "OR lease IS NOT NULL") == 0  # fmt: skip

    deadline = time.monotonic() + 60
    while not settled():
        assert time.monotonic() < deadline, "pushes still pending after a minute"
        time.sleep(0.2)
    time.sleep(2.5)  # past the lease: a push sent but not recorded would have gone out again
    sent = race.scalar("SELECT count(*) FROM push_deliveries WHERE status = 'sent'")
    accepted = fake_fcm_server.tokens()["embedded-phone-1"]
    assert sent >= 1
    assert accepted == sent  # each push FCM accepted is recorded once: none went out twice
