"""``notify()``: what every feature calls, inside its own transaction, to tell members.

The inbox entries and the pending pushes are written in that transaction (a rolled-back action
notifies nobody), and delivery starts after commit. An unread entry on the same kind and
subject collapses the new event into itself (``count``); each member's choices for the kind
(``preferences``) decide whether it shows in their inbox, is pushed, or both.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import sqlalchemy as sa

from server.common.time import utcnow
from server.common.tx import on_commit
from server.extensions import db
from server.notifications.delivery import start_delivery
from server.notifications.kinds import KINDS, check_data
from server.notifications.models import Notification
from server.notifications.preferences import wanted
from server.notifications.pushes import queue_shows

INSERT_CHUNK = 1000  # members per statement in notify()


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
    wants = wanted(members, kind)
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
    queue_shows({m: existing[m] for m in members if wants[m][1]}, now)
    return list(existing.values())
