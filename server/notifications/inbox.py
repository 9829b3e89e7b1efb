"""The inbox: a member's entries, the unread count (the app's badge), and reading them.

An entry is read in the inbox (one, or all) or because the member saw what it was about
elsewhere (``mark_read_ids``: a thread or a conversation read in the app). Reading withdraws
its pushes from the member's devices; those not sent yet are dropped when their turn comes.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from server.common.pagination import Page, SortKey, keyset_page
from server.common.search import like_prefix
from server.common.time import utcnow
from server.common.tx import changed, commit
from server.errors import NotFound, register_messages
from server.extensions import db
from server.members.models import Member
from server.members.service import card_columns
from server.notifications.models import Notification
from server.notifications.pushes import withdraw_sent

register_messages(
    {
        "notification_not_found": {
            "zh-Hans": "找不到该通知。",
            "zh-Hant": "找不到該通知。",
            "en": "No such notification.",
        },
    }
)


# A list's row (the list rule, server/common/rows.py): NotificationSchema's columns and the
# actor's card, in the one select.
NOTIFICATIONS = Notification.__table__
_LIST_COLUMNS = ("id", "kind", "data", "count", "read_at", "created_at", "updated_at")
_ACTOR = Member.__table__.alias("actor")
# built once (building a select costs more than running it); the caller's inbox per request
_INBOX = (
    sa.select(*(NOTIFICATIONS.c[name] for name in _LIST_COLUMNS), *card_columns(_ACTOR, "actor"))
    .select_from(NOTIFICATIONS.outerjoin(_ACTOR, _ACTOR.c.id == NOTIFICATIONS.c.actor_id))
    .where(NOTIFICATIONS.c.in_inbox.is_(True))
)


def list_notifications(
    member: Member, *, unread: bool = False, limit: int, cursor: str | None
) -> Page[Any]:
    """The member's notifications, most recently updated first."""
    n = NOTIFICATIONS.c
    stmt = _INBOX.where(n.recipient_id == member.id)
    if unread:
        stmt = stmt.where(n.read_at.is_(None))
    keys = [SortKey(n.updated_at), SortKey(n.id)]
    return keyset_page(
        stmt, keys, name="notifications.inbox", limit=limit, cursor=cursor, rows=True
    )


def unread_count(member_id: int) -> int:
    """How many entries in the member's inbox are unread (the app's badge)."""
    return db.session.execute(
        sa.select(sa.func.count(Notification.id)).where(
            Notification.recipient_id == member_id,
            Notification.read_at.is_(None),
            Notification.in_inbox.is_(True),
        )
    ).scalar_one()


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
        withdraw_sent([found.id])
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
                    like_prefix(Notification.subject, subject + ":"),
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
    withdraw_sent(notification_ids)


def mark_all_read(member: Member) -> int:
    """Mark every unread notification read; returns how many."""
    now = utcnow()
    marked = changed(
        sa.update(Notification)
        .where(Notification.recipient_id == member.id, Notification.read_at.is_(None))
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    if marked:
        just_read = sa.select(Notification.id).where(
            Notification.recipient_id == member.id, Notification.read_at == now
        )
        withdraw_sent(just_read)
    commit()
    return marked
