"""Helpers of the notification tests: the ``test.reply`` kind they notify with (registered on
import), devices to push to, and the worker's steps played one by one."""

from __future__ import annotations

from collections import Counter
from typing import Any

from server.common.time import utcnow
from server.common.tx import commit
from server.extensions import db
from server.notifications import delivery, service
from server.notifications.kinds import Kind, register_kind
from server.notifications.models import Device


def register_reply_kind(name: str, data: dict[str, str]) -> None:
    """A test kind that reads as a forum reply, with ``data`` as its contract."""
    register_kind(
        Kind(
            name=name,
            label={"zh-Hans": "回复", "zh-Hant": "回覆", "en": "Replies"},
            title={"zh-Hans": "新回复", "zh-Hant": "新回覆", "en": "New reply"},
            body={
                "zh-Hans": "{actor} 回复了「{title}」",
                "zh-Hant": "{actor} 回覆了「{title}」",
                "en": "{actor} replied in “{title}”",
            },
            many={
                "zh-Hans": "「{title}」有 {count} 条新回复",
                "zh-Hant": "「{title}」有 {count} 則新回覆",
                "en": "{count} new replies in “{title}”",
            },
            link_keys=("thread_id",),
            data=data,
        )
    )


register_reply_kind("test.reply", {"title": "string", "thread_id": "integer"})

DATA = {"title": "自由职业怎么报价", "thread_id": 42}


def add_device(
    app: Any, member: Any, token: str, platform: str = "android", locale: str | None = None
) -> None:
    with app.app_context():
        db.session.add(Device(member_id=member.id, token=token, platform=platform, locale=locale))
        db.session.commit()


def notify_reply(
    app: Any, recipients: Any, subject: str = "thread:42", data: Any = DATA, actor: Any = None
) -> Any:
    """A ``test.reply`` to each of ``recipients``, committed (so delivered at once)."""
    with app.app_context():
        ids = service.notify(
            [r.id for r in recipients],
            "test.reply",
            subject,
            data,
            actor_id=actor.id if actor else None,
        )
        commit()
        return ids


def claim_batch(app: Any) -> Any:
    """A worker's claim of the pushes due (its lease)."""
    with app.app_context():
        return delivery._claim(utcnow(), 100)


def finish_batch(app: Any, lease: Any) -> None:
    """The worker sends what it claimed."""
    with app.app_context():
        delivery._deliver_batch(lease, utcnow(), Counter())
