"""The inbox, the devices that receive pushes, and the state of every push.

A ``Notification`` is one entry in one member's inbox; repeated events on the same subject
update the unread entry (``count``) instead of adding another. A ``PushDelivery`` is one
message to one device, with its own state, so that a crash, a retry or a dead token affects
only the devices it concerns.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.common.time import UTCDateTime, utcnow
from server.extensions import Model
from server.members.models import Member

PLATFORMS = ("android", "ios", "web")
DELIVERY_STATUSES = ("pending", "sent", "skipped", "failed")
PURPOSES = ("show", "withdraw")


class Notification(Model):
    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(primary_key=True)
    recipient_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(sa.String(64))
    subject: Mapped[str] = mapped_column(sa.String(128))
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"))
    data: Mapped[dict[str, Any]] = mapped_column(sa.JSON, default=dict)
    count: Mapped[int] = mapped_column(default=1)
    in_inbox: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    actor: Mapped[Member | None] = relationship(foreign_keys=[actor_id])

    __table_args__ = (
        sa.Index("ix_notifications_inbox", "recipient_id", "updated_at", "id"),
        sa.Index("ix_notifications_subject", "recipient_id", "kind", "subject"),
        # what content is quoted where, across inboxes (retraction.forget): subjects and their
        # prefixes; on PostgreSQL compared byte by byte whatever the collation (migration 0012)
        sa.Index(
            "ix_notifications_subject_prefix",
            "subject",
            postgresql_ops={"subject": "varchar_pattern_ops"},
        ),
        sa.Index("ix_notifications_actor", "actor_id"),
    )


class Device(Model):
    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    token: Mapped[str] = mapped_column(sa.String(512), unique=True)
    platform: Mapped[str] = mapped_column(sa.String(16))
    app_version: Mapped[str | None] = mapped_column(sa.String(32))
    locale: Mapped[str | None] = mapped_column(sa.String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (sa.CheckConstraint(f"platform IN {PLATFORMS!r}", name="platform"),)


class PushDelivery(Model):
    """One message to one device. A withdraw may outlive its entry (an erased account's):
    then ``notification_id`` is NULL and ``detached`` keeps what the phone needs to find the
    message it showed (``kind``, ``subject``, ``notification_id``)."""

    __tablename__ = "push_deliveries"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    device_id: Mapped[int] = mapped_column(
        sa.ForeignKey("devices.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(sa.String(16), default="show")
    status: Mapped[str] = mapped_column(sa.String(16), default="pending")
    attempts: Mapped[int] = mapped_column(default=0)
    not_before: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    lease: Mapped[str | None] = mapped_column(sa.String(32), index=True)
    leased_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.String(300))
    # a sent "show": True if it alerted (sound, high priority), False if it updated silently
    alerted: Mapped[bool | None] = mapped_column()
    detached: Mapped[dict[str, Any] | None] = mapped_column(sa.JSON)

    __table_args__ = (
        sa.Index("ix_push_deliveries_due", "status", "not_before"),
        sa.CheckConstraint(f"status IN {DELIVERY_STATUSES!r}", name="status"),
        sa.CheckConstraint(f"purpose IN {PURPOSES!r}", name="purpose"),
    )


class NotificationPreference(Model):
    """A member's choice for one kind; absent means the kind's defaults."""

    __tablename__ = "notification_preferences"

    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    in_app: Mapped[bool] = mapped_column(default=True)
    push: Mapped[bool] = mapped_column(default=True)


class QuietHours(Model):
    """Push waits while the member's local clock is between ``start`` and ``end``."""

    __tablename__ = "notification_quiet_hours"

    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    start: Mapped[str] = mapped_column(sa.String(5))  # "22:00", member's local time
    end: Mapped[str] = mapped_column(sa.String(5))  # "08:00"


class Announcement(Model):
    """A message from the organisers to every member."""

    __tablename__ = "announcements"

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int | None] = mapped_column(sa.ForeignKey("members.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(sa.String(100))
    body: Mapped[str] = mapped_column(sa.String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
