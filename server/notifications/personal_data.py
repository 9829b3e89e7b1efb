"""PIPL for notifications: a member's inbox, devices, choices and quiet hours (export), and
erasure (all of them go; entries they caused in others' inboxes keep their text, not the name).
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from server.extensions import db
from server.notifications.models import (
    Announcement,
    Device,
    Notification,
    NotificationPreference,
    QuietHours,
)


def export(member_id: int) -> dict[str, Any]:
    """The member's entries, devices, choices and quiet hours."""
    notes = db.session.execute(
        sa.select(Notification)
        .where(Notification.recipient_id == member_id)
        .order_by(Notification.id)
    ).scalars()
    devs = db.session.execute(sa.select(Device).where(Device.member_id == member_id)).scalars()
    prefs = db.session.execute(
        sa.select(NotificationPreference).where(NotificationPreference.member_id == member_id)
    ).scalars()
    quiet = db.session.get(QuietHours, member_id)
    return {
        "notifications": [
            {
                "kind": n.kind,
                "subject": n.subject,
                "data": n.data,
                "count": n.count,
                "created_at": n.created_at,
                "read_at": n.read_at,
            }
            for n in notes
        ],
        "devices": [
            {"platform": d.platform, "app_version": d.app_version, "token": d.token} for d in devs
        ],
        "preferences": [{"kind": p.kind, "in_app": p.in_app, "push": p.push} for p in prefs],
        "quiet_hours": {"start": quiet.start, "end": quiet.end} if quiet else None,
    }


def erase(member_id: int) -> None:
    """Delete the member's entries, devices, choices and quiet hours; unname them elsewhere."""
    db.session.execute(sa.delete(Device).where(Device.member_id == member_id))
    db.session.execute(sa.delete(Notification).where(Notification.recipient_id == member_id))
    db.session.execute(
        sa.delete(NotificationPreference).where(NotificationPreference.member_id == member_id)
    )
    db.session.execute(sa.delete(QuietHours).where(QuietHours.member_id == member_id))
    db.session.execute(
        sa.update(Announcement).where(Announcement.author_id == member_id).values(author_id=None)
    )
    # Entries in others' inboxes that this member caused keep their text but lose the name.
    db.session.execute(
        sa.update(Notification).where(Notification.actor_id == member_id).values(actor_id=None)
    )
