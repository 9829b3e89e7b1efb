"""PIPL for media: a member's uploads in the export (each with its URLs), and erasure.

Erasure deletes every upload of the member's, attached or not (an avatar, a post's pictures:
the features' foreign keys empty themselves), and its files after the commit; and the day
counters.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from server.extensions import db
from server.media import names, purge
from server.media.models import Media, MediaQuota


def export(member_id: int) -> dict[str, Any]:
    uploads = db.session.execute(
        sa.select(Media).where(Media.owner_id == member_id).order_by(Media.id)
    ).scalars()
    quotas = db.session.execute(
        sa.select(MediaQuota).where(MediaQuota.member_id == member_id).order_by(MediaQuota.day)
    ).scalars()
    return {
        "uploads": [
            {
                "id": media.id,
                "kind": media.kind,
                "source_format": media.source_format,
                "purpose": media.purpose,
                "subject_id": media.subject_id,
                "created_at": media.created_at,
                "attached_at": media.attached_at,
                "size": media.size,
                "display_url": names.url(names.key(media.digest, "display", media.format)),
                "thumb_url": names.url(names.key(media.digest, "thumb", media.format)),
            }
            for media in uploads
        ],
        "daily_uploads": [
            {"day": quota.day.isoformat(), "uploads": quota.uploads, "bytes": quota.bytes}
            for quota in quotas
        ],
    }


def erase(member_id: int) -> None:
    held = db.session.execute(
        sa.select(Media.owner_id, Media.digest, Media.format).where(Media.owner_id == member_id)
    ).all()
    db.session.execute(
        sa.delete(Media)
        .where(Media.owner_id == member_id)
        .execution_options(synchronize_session=False)
    )
    db.session.execute(sa.delete(MediaQuota).where(MediaQuota.member_id == member_id))
    purge.after_commit([(owner_id, digest, extension) for owner_id, digest, extension in held])
