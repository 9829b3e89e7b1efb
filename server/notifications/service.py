"""The inbox, preferences, devices and announcements.

``notify()`` is what every feature calls, inside its own transaction: the inbox entries and
the pending pushes are written in that transaction (a rolled-back action notifies nobody), and
delivery starts after commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from server.common import privacy
from server.common.pagination import Page, SortKey, keyset_page
from server.common.search import like_escape
from server.common.time import utcnow, zone
from server.common.tx import commit, insert_ignore, on_commit
from server.errors import NotFound, register_messages
from server.extensions import db
from server.members.models import Member
from server.notifications.devices import live_since
from server.notifications.kinds import KINDS, check_data, get_kind
from server.notifications.models import (
    Announcement,
    Device,
    Notification,
    NotificationPreference,
    PushDelivery,
    QuietHours,
)

register_messages(
    {
        "notification_not_found": {
            "zh-Hans": "找不到该通知。",
            "zh-Hant": "找不到該通知。",
            "en": "No such notification.",
        },
    }
)

INSERT_CHUNK = 1000  # members per statement in notify()


def _wants(member_ids: list[int], kind: str) -> dict[int, tuple[bool, bool]]:
    """(in_app, push) per member for ``kind``: their choice, else the kind's default."""
    default = (True, get_kind(kind).push_default)
    chosen = {
        m: (i, p)
        for m, i, p in db.session.execute(
            sa.select(
                NotificationPreference.member_id,
                NotificationPreference.in_app,
                NotificationPreference.push,
            ).where(
                NotificationPreference.kind == kind,
                NotificationPreference.member_id.in_(member_ids),
            )
        )
    }
    return {m: chosen.get(m, default) for m in member_ids}


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


def notify(
    recipients: Iterable[int],
    kind: str,
    subject: str,
    data: Mapping[str, Any] | None = None,
    *,
    actor_id: int | None = None,
) -> list[int]:
    """Tell ``recipients`` (member ids) that ``kind`` happened on ``subject``.

    Call inside the acting transaction; the caller commits. An unread entry for the same
    kind and subject is updated (its count grows) instead of a new one being added. Returns
    the ids of the entries written.
    """
    if kind not in KINDS:
        raise ValueError(f"unknown notification kind {kind!r}")
    data = dict(data or {})
    check_data(KINDS[kind], data)
    ids: list[int] = []
    unique = [r for r in dict.fromkeys(recipients) if r != actor_id]
    for start in range(0, len(unique), INSERT_CHUNK):
        ids += _notify_chunk(unique[start : start + INSERT_CHUNK], kind, subject, data, actor_id)
    if ids:
        on_commit(start_delivery)
    return ids


def _notify_chunk(
    members: list[int], kind: str, subject: str, data: dict[str, Any], actor_id: int | None
) -> list[int]:
    now = utcnow()
    wants = _wants(members, kind)
    members = [m for m in members if any(wants[m])]
    if not members:
        return []
    # The entries to update are locked first, in id order, as retraction.forget locks them:
    # an UPDATE … WHERE id IN (…) locks in whatever order its plan reads, and two such
    # orders deadlock.
    existing = dict(
        db.session.execute(
            sa.select(Notification.recipient_id, Notification.id)
            .where(
                Notification.recipient_id.in_(members),
                Notification.kind == kind,
                Notification.subject == subject,
                Notification.read_at.is_(None),
            )
            .order_by(Notification.id)
            .with_for_update()
        ).all()
    )
    for in_app in (True, False):  # the inbox follows the member's current choice
        ids = [nid for member, nid in existing.items() if wants[member][0] is in_app]
        if ids:
            db.session.execute(
                sa.update(Notification)
                .where(Notification.id.in_(ids))
                .values(
                    count=Notification.count + 1,
                    data=data,
                    actor_id=actor_id,
                    updated_at=now,
                    in_inbox=in_app,
                )
            )
    fresh = [m for m in members if m not in existing]
    if fresh:
        rows = db.session.execute(
            sa.insert(Notification).returning(Notification.id, Notification.recipient_id),
            [
                {
                    "recipient_id": m,
                    "kind": kind,
                    "subject": subject,
                    "actor_id": actor_id,
                    "data": data,
                    "count": 1,
                    "in_inbox": wants[m][0],
                    "created_at": now,
                    "updated_at": now,
                }
                for m in fresh
            ],
        ).all()
        existing.update({recipient: nid for nid, recipient in rows})
    _queue_pushes({m: existing[m] for m in members if wants[m][1]}, now)
    return list(existing.values())


def _queue_pushes(notification_by_member: dict[int, int], now: datetime) -> None:
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


def start_delivery() -> None:
    """Queue a delivery run (after commit)."""
    from server.notifications.delivery import deliver_due_job

    deliver_due_job()


# --- the inbox -----------------------------------------------------------------------------


def inbox(member: Member, *, unread: bool, limit: int, cursor: str | None) -> Page[Notification]:
    """The member's notifications, most recently updated first."""
    stmt = (
        sa.select(Notification)
        .options(joinedload(Notification.actor))
        .where(Notification.recipient_id == member.id, Notification.in_inbox.is_(True))
    )
    if unread:
        stmt = stmt.where(Notification.read_at.is_(None))
    name = "inbox-unread" if unread else "inbox"
    keys = [SortKey(Notification.updated_at), SortKey(Notification.id)]
    return keyset_page(stmt, keys, name=name, limit=limit, cursor=cursor)


def unread_count(member_id: int) -> int:
    return db.session.execute(
        sa.select(sa.func.count(Notification.id)).where(
            Notification.recipient_id == member_id,
            Notification.read_at.is_(None),
            Notification.in_inbox.is_(True),
        )
    ).scalar_one()


def _withdraw_sent(notification_ids: list[int] | sa.Select[Any]) -> None:
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


def mark_read(member: Member, notification_id: int) -> None:
    """Mark one notification read; pushes not yet sent are dropped, sent ones withdrawn."""
    found = db.session.execute(
        sa.select(Notification).where(
            Notification.id == notification_id, Notification.recipient_id == member.id
        )
    ).scalar_one_or_none()
    if found is None:
        raise NotFound("notification_not_found")
    if found.read_at is None:
        found.read_at = utcnow()
        _withdraw_sent([found.id])
    commit()


def unread_subjects(member_id: int, subject: str) -> list[tuple[int, str]]:
    """(id, subject) of the member's unread notifications on ``subject`` or on its parts
    (``subject:…``)."""
    return [
        (nid, subject)
        for nid, subject in db.session.execute(
            sa.select(Notification.id, Notification.subject).where(
                Notification.recipient_id == member_id,
                Notification.read_at.is_(None),
                sa.or_(
                    Notification.subject == subject,
                    Notification.subject.like(like_escape(subject + ":") + "%", escape="\\"),
                ),
            )
        )
    ]


def mark_read_ids(member_id: int, notification_ids: list[int]) -> None:
    """Mark these of the member's notifications read because the member has seen what they
    were about elsewhere (a thread read in the app); pushes are withdrawn. Caller commits."""
    if not notification_ids:
        return
    db.session.execute(
        sa.update(Notification)
        .where(
            Notification.id.in_(notification_ids),
            Notification.recipient_id == member_id,
            Notification.read_at.is_(None),
        )
        .values(read_at=utcnow())
        .execution_options(synchronize_session=False)
    )
    _withdraw_sent(notification_ids)


def mark_all_read(member: Member) -> int:
    """Mark every unread notification read; returns how many."""
    now = utcnow()
    marked = db.session.execute(
        sa.update(Notification)
        .where(Notification.recipient_id == member.id, Notification.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if marked:
        just_read = sa.select(Notification.id).where(
            Notification.recipient_id == member.id, Notification.read_at == now
        )
        _withdraw_sent(just_read)
    commit()
    return marked


# --- preferences ---------------------------------------------------------------------------


def preferences(member: Member) -> dict[str, Any]:
    chosen = {
        p.kind: p
        for p in db.session.execute(
            sa.select(NotificationPreference).where(NotificationPreference.member_id == member.id)
        ).scalars()
    }
    quiet = db.session.get(QuietHours, member.id)
    return {
        "kinds": [
            {
                "kind": name,
                "label": kind.label,
                "in_app": chosen[name].in_app if name in chosen else True,
                "push": chosen[name].push if name in chosen else kind.push_default,
            }
            for name, kind in sorted(KINDS.items())
        ],
        "quiet_hours": {"start": quiet.start, "end": quiet.end} if quiet else None,
    }


def update_preferences(member: Member, changes: Mapping[str, Any]) -> dict[str, Any]:
    """Change choices per kind and channel, and quiet hours (``None`` turns them off)."""
    # Two devices may save at once: each row is made with INSERT … ON CONFLICT DO NOTHING, then
    # changed, so the second never trips over the first's new row.
    for item in changes.get("kinds", []):
        kind = get_kind(item["kind"])
        default = {"member_id": member.id, "kind": kind.name, "in_app": True,
                   "push": kind.push_default}  # fmt: skip
        insert_ignore(NotificationPreference, default)
        chosen = {k: item[k] for k in ("in_app", "push") if k in item}
        if chosen:
            db.session.execute(
                sa.update(NotificationPreference)
                .where(
                    NotificationPreference.member_id == member.id,
                    NotificationPreference.kind == kind.name,
                )
                .values(**chosen)
                .execution_options(synchronize_session=False)
            )
    if "quiet_hours" in changes:
        wanted = changes["quiet_hours"]
        if wanted is None:
            db.session.execute(sa.delete(QuietHours).where(QuietHours.member_id == member.id))
        elif not insert_ignore(QuietHours, {"member_id": member.id, **wanted}):
            db.session.execute(
                sa.update(QuietHours)
                .where(QuietHours.member_id == member.id)
                .values(start=wanted["start"], end=wanted["end"])
                .execution_options(synchronize_session=False)
            )
    commit()
    db.session.expire_all()  # what preferences() reads next is what was written
    return preferences(member)


# --- privacy -------------------------------------------------------------------------------


def _export(member_id: int) -> dict[str, Any]:
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


def _erase(member_id: int) -> None:
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


privacy.register("notifications", exporter=_export, eraser=_erase, order=500)
