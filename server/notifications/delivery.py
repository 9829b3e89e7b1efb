"""Push delivery: claim what is due, check again, render, send, record.

Every message to every device is a ``PushDelivery`` row, written with the notification. A run
claims a batch of due rows with a lease (committed before anything is sent), sends them, and
records each result in the next commit. Guarantee: at least once, and — since only a batch in
flight can be lost — a crash makes each device of that batch receive it at most once more
than needed (the collapse key makes the phone show it once anyway). The lease lets the next
run (the minute sweep, or any new notification) take over what a dead worker held.

Just before sending, each row is checked again, as Zulip does: a notification read meanwhile
is not sent (and one already sent is withdrawn by ``inbox.mark_read``), a kind the member has
since muted is dropped, and quiet hours push the row back to their end. A withdraw is not
claimed while a show of its entry to its device is being sent (it would overtake it): it goes
with the first claim after that send's result is recorded.

Bursts alert once: the first push on an entry alerts the device (sound, high priority); the
next ones within ``PUSH_BURST_SECONDS`` of that device's last alerting push on the same entry
(which is unread, or it would not be sent) replace it silently with the new text, count and
badge. ``PushDelivery.alerted`` records which was which.
"""

from __future__ import annotations

import hashlib
import random
import uuid
from collections import Counter
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from huey import crontab
from sqlalchemy.orm import aliased

from push import Outcome, Provider, Push, make_provider
from server.common.time import utcnow
from server.common.tx import changed, commit, retrying
from server.extensions import db, jobs
from server.members.models import Member
from server.notifications.kinds import KINDS, render
from server.notifications.models import Device, Notification, PushDelivery
from server.notifications.preferences import push_wanted
from server.notifications.quiet_hours import push_not_before

MAX_ATTEMPTS = 8
MAX_BACKOFF = 3600.0


def provider() -> Provider:
    """The configured provider, built once per configuration."""
    cfg = current_app.config
    settings = {
        k: cfg.get(k)
        for k in (
            "PUSH_PROVIDER",
            "FCM_CREDENTIALS",
            "FCM_PROJECT_ID",
            "FCM_ENDPOINT",
            "FCM_CONCURRENCY",
        )
    }
    key = tuple(sorted(settings.items()))
    cached = current_app.extensions.get("push_provider")
    if cached is None or cached[0] != key:
        cached = (key, make_provider(settings))
        current_app.extensions["push_provider"] = cached
    return cached[1]


def collapse_key(kind: str, subject: str) -> str:
    """One key per subject, so a phone shows the latest word on it, not a pile."""
    return hashlib.sha1(f"{kind}:{subject}".encode()).hexdigest()[:20]


def backoff(attempts: int) -> float:
    """Exponential, with jitter: about 2, 4, 8 … seconds, at most an hour."""
    return min(MAX_BACKOFF, 2.0**attempts) * random.uniform(0.8, 1.2)


def _claim(now: datetime, batch: int) -> str | None:
    lease = uuid.uuid4().hex
    lease_seconds = current_app.config["PUSH_LEASE_SECONDS"]
    in_flight = aliased(PushDelivery)
    due = sa.and_(
        PushDelivery.status == "pending",
        PushDelivery.not_before <= now,
        sa.or_(PushDelivery.leased_until.is_(None), PushDelivery.leased_until < now),
        # A withdraw waits while a show of its entry to its device is being sent: it goes with
        # the first claim after that send is recorded (or after its lease ran out).
        ~sa.and_(
            PushDelivery.purpose == "withdraw",
            sa.exists().where(
                in_flight.notification_id == PushDelivery.notification_id,
                in_flight.device_id == PushDelivery.device_id,
                in_flight.purpose == "show",
                in_flight.status == "pending",
                in_flight.leased_until >= now,
            ),
        ),
    )
    ids = sa.select(PushDelivery.id).where(due).order_by(PushDelivery.id).limit(batch)
    claimed = changed(
        sa.update(PushDelivery)
        .where(PushDelivery.id.in_(ids), due)
        .values(lease=lease, leased_until=now + timedelta(seconds=lease_seconds))
        .execution_options(synchronize_session=False)
    )
    commit()
    return lease if claimed else None


def _unread_counts(members: set[int]) -> dict[int, int]:
    return dict(
        db.session.execute(
            sa.select(Notification.recipient_id, sa.func.count(Notification.id))
            .where(
                Notification.recipient_id.in_(members),
                Notification.read_at.is_(None),
                Notification.in_inbox.is_(True),
            )
            .group_by(Notification.recipient_id)
        ).all()
    )


def _last_alerts(notification_ids: set[int]) -> dict[tuple[int | None, int], datetime | None]:
    """When each device last got an alerting push for each of these entries."""
    if not notification_ids:
        return {}
    return {
        (n, d): at
        for n, d, at in db.session.execute(
            sa.select(
                PushDelivery.notification_id,
                PushDelivery.device_id,
                sa.func.max(PushDelivery.sent_at),
            )
            .where(
                PushDelivery.notification_id.in_(notification_ids),
                PushDelivery.purpose == "show",
                PushDelivery.status == "sent",
                PushDelivery.alerted.is_(True),
            )
            .group_by(PushDelivery.notification_id, PushDelivery.device_id)
        )
    }


def _finish(lease: str, ids: list[int], **values: Any) -> None:
    """Record results for rows we still hold: if our lease ran out and another worker took a
    row over, its result is that worker's to record."""
    if ids:
        db.session.execute(
            sa.update(PushDelivery)
            .where(PushDelivery.id.in_(ids), PushDelivery.lease == lease)
            .values(lease=None, leased_until=None, **values)
            .execution_options(synchronize_session=False)
        )


def deliver_due(now: datetime | None = None) -> Counter[str]:
    """Send everything that is due, batch by batch; returns counts by outcome."""
    stats: Counter[str] = Counter()
    batch = current_app.config["PUSH_BATCH_SIZE"]
    next_retry: datetime | None = None
    while True:
        moment = now or utcnow()
        lease = _claim(moment, batch)
        if lease is None:
            break
        retry_at = _deliver_batch(lease, moment, stats)
        if retry_at and (next_retry is None or retry_at < next_retry):
            next_retry = retry_at
    if next_retry is not None:
        delay = max(1.0, (next_retry - utcnow()).total_seconds())
        deliver_due_job.schedule(delay=delay)
    return stats


def _deliver_batch(lease: str, now: datetime, stats: Counter[str]) -> datetime | None:
    actor = aliased(Member)
    rows = db.session.execute(
        sa.select(
            PushDelivery.id.label("delivery_id"),
            PushDelivery.purpose,
            PushDelivery.attempts,
            PushDelivery.detached,
            Notification.id.label("notification_id"),
            Notification.kind,
            Notification.subject,
            Notification.data,
            Notification.count.label("entry_count"),  # not `count`: a Row's own method
            Notification.read_at,
            Notification.recipient_id,
            Device.id.label("device_id"),
            Device.token,
            Device.platform,
            Device.locale.label("device_locale"),
            Device.member_id.label("device_owner"),
            Member.locale.label("member_locale"),
            actor.display_name.label("actor_name"),
        )
        .select_from(PushDelivery)
        .join(Device, Device.id == PushDelivery.device_id)
        # a withdraw may outlive its entry (``detached``): then the device's owner is the reader
        .outerjoin(Notification, Notification.id == PushDelivery.notification_id)
        .join(Member, Member.id == sa.func.coalesce(Notification.recipient_id, Device.member_id))
        .outerjoin(actor, actor.id == Notification.actor_id)
        .where(PushDelivery.lease == lease)
        .order_by(PushDelivery.id)
    ).all()
    recipients = {r.recipient_id or r.device_owner for r in rows}
    shows = [r for r in rows if r.purpose == "show" and r.notification_id is not None]
    wanted = push_wanted({(r.recipient_id, r.kind) for r in shows})
    quiet = push_not_before(list(recipients), now)
    unread = _unread_counts(recipients)
    alerted = _last_alerts({r.notification_id for r in shows})
    burst = timedelta(seconds=current_app.config["PUSH_BURST_SECONDS"])

    skipped: list[int] = []
    plan: list[tuple[int, int, int, bool | None]] = []  # (delivery, attempts, device, alerts)
    pushes: list[Push] = []
    for row in rows:
        about = row.detached or {}
        kind = row.kind or about.get("kind", "")
        subject = row.subject or about.get("subject", "")
        nid = row.notification_id or about.get("notification_id")
        recipient = row.recipient_id or row.device_owner
        if row.device_owner != recipient or (row.purpose == "show" and nid is None):
            skipped.append(row.delivery_id)
            continue
        link = {"kind": kind, "notification_id": str(nid)}
        spec = KINDS.get(kind)
        if spec and row.data:
            link.update({k: str(row.data[k]) for k in spec.link_keys if k in row.data})
        alert: bool | None = None
        title: str | None
        body: str | None
        if row.purpose == "show":
            if row.read_at is not None or not wanted.get((recipient, kind), False):
                skipped.append(row.delivery_id)
                continue
            if recipient in quiet:
                _finish(lease, [row.delivery_id], not_before=quiet[recipient])
                stats["held"] += 1
                continue
            locale = row.device_locale or row.member_locale
            title, body = render(kind, row.data, row.entry_count, row.actor_name or "", locale)
            # A burst on one subject alerts once; while it lasts, the phone's entry is updated
            # silently (the count, the latest text, the badge), as Zulip and Slack do.
            last = alerted.get((row.notification_id, row.device_id))
            alert = last is None or now - last >= burst
            if alert:
                alerted[(row.notification_id, row.device_id)] = now
        else:
            title = body = None
            link["action"] = "withdraw"
        pushes.append(
            Push(
                token=row.token,
                title=title,
                body=body,
                data=link,
                collapse_key=collapse_key(kind, subject),
                badge=unread.get(recipient, 0),
                platform=row.platform,
                android_channel=spec.android_channel if spec else "default",
                alert=alert is not False,
            )
        )
        plan.append((row.delivery_id, row.attempts, row.device_id, alert))

    _finish(lease, skipped, status="skipped")
    stats["skipped"] += len(skipped)
    # No transaction (and no lock) is held while the provider is called; what it answers is
    # recorded afterwards, retried if the database is busy or away for a moment: a push FCM
    # accepted must be recorded as sent, or the lease runs out and the phone alerts twice.
    commit()
    results = provider().send(pushes) if pushes else []
    return retrying(lambda: _record(lease, now, plan, results, stats))


def _record(
    lease: str,
    now: datetime,
    plan: list[tuple[int, int, int, bool | None]],
    results: list[Any],
    stats: Counter[str],
) -> datetime | None:
    """Record what the provider answered for each push of the batch, in one transaction."""
    counted: Counter[str] = Counter()
    sent: dict[bool | None, list[int]] = {True: [], False: [], None: []}
    dead_devices: set[int] = set()
    next_retry: datetime | None = None
    for (delivery_id, attempts, device_id, alert), result in zip(plan, results, strict=True):
        counted[result.outcome.value] += 1
        if result.outcome is Outcome.SENT:
            sent[alert].append(delivery_id)
            if alert is False:
                counted["silent"] += 1
        elif result.outcome is Outcome.DROP_TOKEN:
            dead_devices.add(device_id)
        elif result.outcome is Outcome.RETRY and attempts + 1 < MAX_ATTEMPTS:
            wait = max(result.retry_after or 0.0, backoff(attempts + 1))
            at = now + timedelta(seconds=wait)
            _finish(
                lease, [delivery_id], attempts=attempts + 1, not_before=at, last_error=result.error
            )
            next_retry = at if next_retry is None or at < next_retry else next_retry
        else:
            _finish(
                lease,
                [delivery_id],
                status="failed",
                attempts=attempts + 1,
                last_error=result.error,
            )
    for alert, ids in sent.items():
        _finish(
            lease, ids, status="sent", sent_at=now, attempts=PushDelivery.attempts + 1,
            alerted=alert,
        )  # fmt: skip
    if dead_devices:
        # The provider says these tokens are dead: forget the devices (and their queue).
        db.session.execute(sa.delete(Device).where(Device.id.in_(dead_devices)))
    commit()
    stats.update(counted)  # once, when recorded: a retried recording counts once
    return next_retry


@jobs.task(retries=2, retry_delay=10)
def deliver_due_job() -> dict[str, int]:
    return dict(deliver_due())


def start_delivery() -> None:
    """Queue a delivery run (after commit: ``on_commit(start_delivery)``)."""
    deliver_due_job()


@jobs.periodic_task(crontab(minute="*"))
def deliver_due_sweep() -> None:
    """Every minute: retries that came due, quiet hours that ended, leases of dead workers."""
    deliver_due()
