"""Announcements: an organiser tells every member something.

The fan-out is owed work (``server.common.owed``): recorded in the request's transaction, done
a chunk of ``FANOUT_CHUNK`` members a step by jobs, resumed if a worker dies or the queue loses
the job.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask import current_app

from server.common import owed
from server.common.time import utcnow
from server.common.tx import commit
from server.extensions import db
from server.members.models import Member
from server.notifications.kinds import announcement_subject
from server.notifications.models import Announcement, Notification
from server.notifications.service import notify


def create_announcement(author: Member, title: str, body: str) -> Announcement:
    """Record the announcement and owe its fan-out, in one transaction."""
    announcement = Announcement(author_id=author.id, title=title, body=body, created_at=utcnow())
    db.session.add(announcement)
    db.session.flush()
    owed.owe("announcement", {"announcement_id": announcement.id})
    commit()
    return announcement


@owed.step("announcement")
def _announce_step(args: Mapping[str, Any], after: int | None) -> Any:
    """Tell the next chunk of members (by id, after ``after``)."""
    announcement = db.session.get(Announcement, args["announcement_id"])
    if announcement is None:
        return owed.DONE
    subject = announcement_subject(announcement.id)
    data = {
        "title": announcement.title,
        "body": announcement.body,
        "announcement_id": announcement.id,
    }
    # Steps run once each; this also keeps anyone told from being told again should the
    # announcement ever be fanned out twice.
    told = sa.exists().where(
        Notification.recipient_id == Member.id, Notification.subject == subject
    )
    batch = list(
        db.session.execute(
            sa.select(Member.id, told)
            .where(Member.id > (after or 0), Member.deleted_at.is_(None))
            .order_by(Member.id)
            .limit(current_app.config["FANOUT_CHUNK"])
        ).all()
    )
    if not batch:
        current_app.logger.info("announcement %s fanned out", announcement.id)
        return owed.DONE
    fresh = [member_id for member_id, already in batch if not already]
    if fresh:
        notify(fresh, "announcement", subject, data, actor_id=announcement.author_id)
    return batch[-1][0]
