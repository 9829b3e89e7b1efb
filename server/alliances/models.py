"""Alliances (微聯盟): groups of members with roles, join requests, invite links and bans.

Visibility: ``public`` (listed, anyone joins), ``private`` (listed, join by request), ``secret``
(unlisted, invite only; non-members get 404). Roles: one ``owner``, ``admin``s, ``member``s.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.common.time import UTCDateTime, utcnow
from server.extensions import Model
from server.members.models import Member

VISIBILITIES = ("public", "private", "secret")
ROLES = ("owner", "admin", "member")
REQUEST_STATUSES = ("pending", "approved", "rejected", "cancelled")


class Alliance(Model):
    __tablename__ = "alliances"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(60))
    name_key: Mapped[str] = mapped_column(sa.String(200), default="")  # folded, for search
    description: Mapped[str] = mapped_column(sa.Text, default="")
    avatar_url: Mapped[str | None] = mapped_column(sa.String(500))
    city: Mapped[str | None] = mapped_column(sa.String(50))
    city_key: Mapped[str | None] = mapped_column(sa.String(50), index=True)
    tags: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    visibility: Mapped[str] = mapped_column(sa.String(8), default="public")
    member_count: Mapped[int] = mapped_column(default=0)
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        sa.CheckConstraint(f"visibility IN {VISIBILITIES!r}", name="visibility"),
        sa.Index("ix_alliances_listed", "visibility", "id"),
    )


class AllianceTag(Model):
    """A copy of ``Alliance.tags`` to filter by, one row per tag."""

    __tablename__ = "alliance_tags"

    alliance_id: Mapped[int] = mapped_column(
        sa.ForeignKey("alliances.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(sa.String(30), primary_key=True)

    __table_args__ = (sa.Index("ix_alliance_tags_tag", "tag", "alliance_id"),)


class AllianceMember(Model):
    __tablename__ = "alliance_members"

    alliance_id: Mapped[int] = mapped_column(
        sa.ForeignKey("alliances.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    role: Mapped[str] = mapped_column(sa.String(8), default="member")
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    member: Mapped[Member] = relationship(lazy="raise")

    __table_args__ = (sa.CheckConstraint(f"role IN {ROLES!r}", name="role"),)


class AllianceJoinRequest(Model):
    __tablename__ = "alliance_join_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(sa.ForeignKey("alliances.id", ondelete="CASCADE"))
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    message: Mapped[str] = mapped_column(sa.String(500), default="")
    status: Mapped[str] = mapped_column(sa.String(10), default="pending")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="SET NULL")
    )

    member: Mapped[Member] = relationship(foreign_keys=[member_id], lazy="raise")

    __table_args__ = (
        sa.UniqueConstraint("alliance_id", "member_id"),  # one request per member, reused
        sa.CheckConstraint(f"status IN {REQUEST_STATUSES!r}", name="status"),
        sa.Index("ix_alliance_join_requests_pending", "alliance_id", "status", "id"),
    )


class AllianceInvite(Model):
    """An invite link: its code is a secret; it expires and may be used a limited number of
    times; admins revoke it."""

    __tablename__ = "alliance_invites"

    id: Mapped[int] = mapped_column(primary_key=True)
    alliance_id: Mapped[int] = mapped_column(
        sa.ForeignKey("alliances.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)  # SHA-256 of the code
    created_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    max_uses: Mapped[int | None] = mapped_column()
    uses: Mapped[int] = mapped_column(default=0)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class AllianceBan(Model):
    __tablename__ = "alliance_bans"

    alliance_id: Mapped[int] = mapped_column(
        sa.ForeignKey("alliances.id", ondelete="CASCADE"), primary_key=True
    )
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    banned_by_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("members.id", ondelete="SET NULL")
    )
    # their rank when banning (owner, admin, or staff: site staff acting on the alliance);
    # lifting the ban takes at least that rank
    banned_by_role: Mapped[str] = mapped_column(sa.String(8))
    reason: Mapped[str] = mapped_column(sa.String(500), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
