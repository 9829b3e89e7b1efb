"""Uploads per member per UTC day: ``MEDIA_DAILY_UPLOADS`` pictures and ``MEDIA_DAILY_BYTES``
bytes sent. Past either, ``429 media_quota_exceeded`` with ``Retry-After`` (seconds to the next
UTC midnight). A counter, not a count of rows: deleting an upload does not give its place back.
(``MEDIA_UPLOAD_LIMIT`` on the route bounds bursts, refused attempts included.)
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.dialects import postgresql, sqlite

from server.common.time import utcnow
from server.common.tx import changed
from server.errors import DomainError, register_messages
from server.extensions import db
from server.media.models import MediaQuota

register_messages(
    {
        "media_quota_exceeded": {
            "zh-Hans": "今天上传的图片已达上限，请明天再试。",
            "zh-Hant": "今天上傳的圖片已達上限，請明天再試。",
            "en": "You have uploaded as many pictures as a day allows; please try tomorrow.",
        },
    }
)


def _refusal(now: datetime) -> DomainError:
    tomorrow = datetime(now.year, now.month, now.day, tzinfo=UTC) + timedelta(days=1)
    wait = max(1, int((tomorrow - now).total_seconds()))
    return DomainError("media_quota_exceeded", 429, headers={"Retry-After": str(wait)})


def _over(uploads: int, sent: int) -> bool:
    config = current_app.config
    return uploads > int(config["MEDIA_DAILY_UPLOADS"]) or sent > int(config["MEDIA_DAILY_BYTES"])


def check(member_id: int, size: int) -> None:
    """Refuse before any decoding when one more upload of ``size`` bytes would be too many."""
    now = utcnow()
    row = db.session.execute(
        sa.select(MediaQuota.uploads, MediaQuota.bytes).where(
            MediaQuota.member_id == member_id, MediaQuota.day == now.date()
        )
    ).first()
    uploads, sent = row if row is not None else (0, 0)
    if _over(uploads + 1, sent + size):
        raise _refusal(now)


def spend(member_id: int, size: int) -> None:
    """Count an upload being stored, in the caller's transaction; refuse (and the caller rolls
    back) when it goes past the day's allowance. One statement: two uploads at once cannot
    both take the last place."""
    now = utcnow()
    postgres = db.session.get_bind().dialect.name == "postgresql"
    insert = postgresql.insert if postgres else sqlite.insert
    stmt = (
        insert(MediaQuota)
        .values(member_id=member_id, day=now.date(), uploads=1, bytes=size)
        .on_conflict_do_update(
            index_elements=["member_id", "day"],
            set_={"uploads": MediaQuota.uploads + 1, "bytes": MediaQuota.bytes + size},
        )
        .returning(MediaQuota.uploads, MediaQuota.bytes)
    )
    uploads, sent = db.session.execute(stmt).one()
    if _over(uploads, sent):
        raise _refusal(now)


def forget_old_days() -> int:
    """Counters of days before yesterday (swept with the unattached uploads)."""
    cutoff = utcnow().date() - timedelta(days=1)
    return changed(sa.delete(MediaQuota).where(MediaQuota.day < cutoff))
