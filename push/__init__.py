"""Delivery of push messages to phones: the messages, the provider interface, and a factory.

This package knows device tokens and providers and imports nothing from ``server``: the
notifications feature renders each message (text in the recipient's language, badge, deep
link) and gets back one ``Result`` per token, which says what to do with that token next.

Providers: ``log`` (the default; writes what it would send) and ``fcm`` (Firebase Cloud
Messaging HTTP v1, see ``push.fcm``).
"""

from __future__ import annotations

import enum
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Push:
    """One message for one device. ``title is None`` makes a silent, data-only message
    (used to withdraw a notification the member has read elsewhere). ``alert=False`` shows the
    text without sound, at normal priority, replacing what the phone shows under the same
    collapse key: an update within a burst."""

    token: str
    title: str | None
    body: str | None
    data: Mapping[str, str] = field(default_factory=dict)
    collapse_key: str | None = None
    badge: int | None = None
    platform: str = "android"
    android_channel: str = "default"
    high_priority: bool = True
    alert: bool = True


class Outcome(enum.Enum):
    SENT = "sent"
    RETRY = "retry"  # try again later (after ``retry_after`` seconds when the provider said)
    DROP_TOKEN = "drop_token"  # the token is dead: forget the device
    FAILED = "failed"  # permanent for this message; the token stays


@dataclass(frozen=True)
class Result:
    token: str
    outcome: Outcome
    error: str | None = None
    retry_after: float | None = None


class Provider(Protocol):
    name: str

    def send(self, pushes: Sequence[Push]) -> list[Result]:
        """Send every push (concurrently where the provider can); one result per push, in
        order."""
        ...


class LogProvider:
    """Writes each push to the log and reports it sent (``make serve``, development)."""

    name = "log"

    def send(self, pushes: Sequence[Push]) -> list[Result]:
        for push in pushes:
            log.info("push to %s…: %s — %s %s", push.token[:12], push.title, push.body, push.data)
        return [Result(p.token, Outcome.SENT) for p in pushes]


def make_provider(settings: Mapping[str, Any]) -> Provider:
    """Build the provider named by ``PUSH_PROVIDER`` from plain settings."""
    name = settings.get("PUSH_PROVIDER") or "log"
    if name == "log":
        return LogProvider()
    if name == "fcm":
        from push.fcm import FcmProvider

        return FcmProvider(
            credentials_path=settings["FCM_CREDENTIALS"],
            project_id=settings.get("FCM_PROJECT_ID"),
            endpoint=settings.get("FCM_ENDPOINT") or None,
            concurrency=int(settings.get("FCM_CONCURRENCY") or 64),
        )
    raise ValueError(f"unknown PUSH_PROVIDER {name!r}")
