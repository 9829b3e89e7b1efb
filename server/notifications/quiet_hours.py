"""Quiet hours: when a push may reach a member.

A member's quiet hours (``QuietHours``, in their own time zone, possibly across midnight) hold
back pushes until they end: ``notify`` queues a push for then, and delivery checks again just
before sending. The inbox is never held back.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa

from server.common.time import zone
from server.extensions import db
from server.members.models import Member
from server.notifications.models import QuietHours


def quiet_until(start: str, end: str, time_zone: str, now: datetime) -> datetime | None:
    """When quiet hours that hold ``now`` end (UTC), or None if ``now`` is not quiet."""
    local = now.astimezone(zone(time_zone))
    s_h, s_m = map(int, start.split(":"))
    e_h, e_m = map(int, end.split(":"))
    minute = local.hour * 60 + local.minute
    s, e = s_h * 60 + s_m, e_h * 60 + e_m
    if s == e:
        return None
    inside = s <= minute < e if s < e else minute >= s or minute < e
    if not inside:
        return None
    end_local = local.replace(hour=e_h, minute=e_m, second=0, microsecond=0)
    if end_local <= local:
        end_local += timedelta(days=1)
    return end_local.astimezone(now.tzinfo)


def push_not_before(member_ids: list[int], now: datetime) -> dict[int, datetime]:
    """The earliest time a push may reach each member (the end of their quiet hours)."""
    rows = db.session.execute(
        sa.select(QuietHours.member_id, QuietHours.start, QuietHours.end, Member.time_zone)
        .join(Member, Member.id == QuietHours.member_id)
        .where(QuietHours.member_id.in_(member_ids))
    )
    out = {}
    for member_id, start, end, tz in rows:
        until = quiet_until(start, end, tz, now)
        if until:
            out[member_id] = until
    return out
