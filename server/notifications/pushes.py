"""The push queue: the ``PushDelivery`` rows written in the acting transaction, which delivery
sends after commit.

An entry written or updated (``notify``) queues a *show* for each live device of its recipient,
held to the end of their quiet hours; an entry read (``inbox``) or forgotten (``retraction``)
queues a *withdraw* for each device that showed it, or is being sent it right now.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa

from server.common.time import utcnow
from server.common.tx import on_commit
from server.extensions import db
from server.notifications.delivery import start_delivery
from server.notifications.devices import live_since
from server.notifications.models import Device, PushDelivery
from server.notifications.quiet_hours import push_not_before


def queue_shows(notification_by_member: dict[int, int], now: datetime) -> None:
    """A show for each live device of each member (entry id by member), unless one is waiting
    already; held to the end of the member's quiet hours."""
    if not notification_by_member:
        return
    members = list(notification_by_member)
    devices = db.session.execute(
        sa.select(Device.id, Device.member_id).where(
            Device.member_id.in_(members), Device.last_seen_at >= live_since(now)
        )
    ).all()
    if not devices:
        return
    waiting = {
        (n, d)
        for n, d in db.session.execute(
            sa.select(PushDelivery.notification_id, PushDelivery.device_id).where(
                PushDelivery.notification_id.in_(list(notification_by_member.values())),
                PushDelivery.status == "pending",
                PushDelivery.purpose == "show",
                PushDelivery.lease.is_(None),  # one being sent now carries the old text
            )
        )
    }
    not_before = push_not_before(members, now)
    rows = [
        {
            "notification_id": notification_by_member[member_id],
            "device_id": device_id,
            "purpose": "show",
            "status": "pending",
            "attempts": 0,
            "not_before": not_before.get(member_id, now),
        }
        for device_id, member_id in devices
        if (notification_by_member[member_id], device_id) not in waiting
    ]
    if rows:
        db.session.execute(sa.insert(PushDelivery), rows)


def withdraw_sent(notification_ids: list[int] | sa.Select[Any]) -> None:
    """Ask every device that showed these notifications — or is being sent one right now — to
    take them down. Pushes still waiting are dropped when their turn comes (delivery checks)."""
    rows = withdrawals(notification_ids)
    if rows:
        db.session.execute(sa.insert(PushDelivery), rows)
        on_commit(start_delivery)


def withdrawals(
    notification_ids: list[int] | sa.Select[Any], *, detached: bool = False
) -> list[dict[str, Any]]:
    """The withdraw rows (to insert) for every device that showed these notifications, or is
    being sent one right now: each waits for the send in flight to be over.

    A withdraw of an entry that stays goes as soon as that send is recorded (delivery claims
    no withdraw while a show of its entry to its device is in flight). One that will be
    ``detached`` (its entry, and the show's row, are about to be deleted) has nothing to wait
    on but the show's lease: it waits until the lease ends."""
    now = utcnow()
    shown = db.session.execute(
        sa.select(
            PushDelivery.notification_id,
            PushDelivery.device_id,
            sa.func.max(PushDelivery.leased_until),
        )
        .where(
            PushDelivery.notification_id.in_(notification_ids),
            PushDelivery.purpose == "show",
            sa.or_(
                PushDelivery.status == "sent",
                sa.and_(PushDelivery.status == "pending", PushDelivery.lease.is_not(None)),
            ),
        )
        .group_by(PushDelivery.notification_id, PushDelivery.device_id)
    ).all()
    return [
        {
            "notification_id": n,
            "device_id": d,
            "purpose": "withdraw",
            "status": "pending",
            "attempts": 0,
            "not_before": max(now, leased_until) if detached and leased_until else now,
        }
        for n, d, leased_until in shown
    ]
