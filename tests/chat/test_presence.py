"""Presence is announced when a member's status changes, not per device: a second device
coming, idling or going while another is active tells nobody — kept in this process or in
Redis alike."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from tests.chat.helpers import events, open_direct, open_socket


@pytest.fixture(params=["this process", "Redis"])
def registry(request: pytest.FixtureRequest, app) -> Iterator[str]:
    """Presence kept in this process, or in Redis (a database of the run's Redis of its own)."""
    saved = app.config.get("REDIS_URL")
    if request.param == "Redis":
        url = request.getfixturevalue("redis_url").rsplit("/", 1)[0] + "/7"
        redis.Redis.from_url(url).flushdb()
        app.config["REDIS_URL"] = url
    app.extensions.pop("presence_redis", None)
    try:
        yield request.param
    finally:
        app.config["REDIS_URL"] = saved
        app.extensions.pop("presence_redis", None)


def test_a_member_is_announced_when_their_status_changes_not_per_device(
    app, chat, auth_headers, make_member, registry
):
    star, friend = make_member(), make_member()
    open_direct(chat, star, [friend])  # opened by the star: it hears the star's presence
    listener = open_socket(app, auth_headers, friend)
    phone = laptop = None
    try:
        phone = open_socket(app, auth_headers, star)
        assert events(listener, "presence") == [{"member_id": star.id, "status": "online"}]
        laptop = open_socket(app, auth_headers, star)
        idle = laptop.emit("presence", {"status": "idle"}, namespace="/chat", callback=True)
        assert idle == {"status": "online"}  # the phone is active
        laptop.disconnect(namespace="/chat")
        assert events(listener, "presence") == []  # still online all along
        assert phone.emit("presence", {"status": "idle"}, namespace="/chat",
                          callback=True) == {"status": "away"}  # fmt: skip
        phone.disconnect(namespace="/chat")
        assert events(listener, "presence") == [
            {"member_id": star.id, "status": "away"},
            {"member_id": star.id, "status": "offline"},
        ]
    finally:
        for sock in (phone, laptop, listener):
            if sock is not None and sock.is_connected("/chat"):
                sock.disconnect(namespace="/chat")
