"""Media: pictures members upload, kept as re-encoded variants, and a per-day upload count.

A ``Media`` row belongs to its uploader (``owner_id``) and is *attached* once a feature claims
it (``purpose`` such as ``member.avatar`` or ``forum.post``, and the ``subject_id`` of what it
belongs to); unattached rows are swept after ``MEDIA_UNATTACHED_HOURS``. Its files are named
after ``digest`` (``server.media.names``): two uploads of the same bytes by the same member
share their files, which go only when no row names them any more.
"""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from server.common.time import UTCDateTime, utcnow
from server.extensions import Model

KINDS = ("image",)


class Media(Model):
    __tablename__ = "media"

    id: Mapped[int] = mapped_column(primary_key=True)
    owner_id: Mapped[int] = mapped_column(sa.ForeignKey("members.id", ondelete="CASCADE"))
    # names the files (server.media.names.key): a keyed hash of the owner and the bytes sent
    digest: Mapped[str] = mapped_column(sa.String(32))
    kind: Mapped[str] = mapped_column(sa.String(8), default="image")
    source_format: Mapped[str] = mapped_column(sa.String(8))  # what was sent (decoded, not told)
    format: Mapped[str] = mapped_column(sa.String(8), default="webp")  # what the variants are
    animated: Mapped[bool] = mapped_column(default=False)
    display_width: Mapped[int] = mapped_column()
    display_height: Mapped[int] = mapped_column()
    thumb_width: Mapped[int] = mapped_column()
    thumb_height: Mapped[int] = mapped_column()
    blurhash: Mapped[str] = mapped_column(sa.String(64))
    color: Mapped[str] = mapped_column(sa.String(7))  # "#rrggbb", the average colour
    size: Mapped[int] = mapped_column()  # bytes stored, every variant together
    purpose: Mapped[str | None] = mapped_column(sa.String(32))
    subject_id: Mapped[int | None] = mapped_column()
    attached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (
        sa.CheckConstraint("kind IN (" + ", ".join(f"'{k}'" for k in KINDS) + ")", name="kind"),
        sa.Index("ix_media_owner_id_id", "owner_id", "id"),
        sa.Index("ix_media_owner_id_digest", "owner_id", "digest"),
        # what a subject holds (release_subject), and the unattached ones (the sweep)
        sa.Index("ix_media_purpose_subject_id", "purpose", "subject_id"),
    )

    @property
    def attached(self) -> bool:
        return self.purpose is not None


class MediaQuota(Model):
    """Uploads stored per member and UTC day (``MEDIA_DAILY_UPLOADS``, ``MEDIA_DAILY_BYTES``):
    a counter, so that deleting an upload does not give its place back."""

    __tablename__ = "media_quotas"

    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    day: Mapped[date] = mapped_column(sa.Date, primary_key=True)
    uploads: Mapped[int] = mapped_column(default=0)
    bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
