"""Members: the account, the public profile, and the privacy consent given at sign-up."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.common.time import UTCDateTime, utcnow
from server.extensions import Model

ROLES = ("member", "moderator", "organiser", "admin")
# Staff see hidden profiles and moderate the forum; organisers (and admins) also start
# alliances, announce to every member and arrange the forum's categories.
STAFF_ROLES = frozenset({"moderator", "organiser", "admin"})
ORGANISER_ROLES = frozenset({"organiser", "admin"})
VISIBILITIES = ("members", "hidden")
LOCALES = ("zh-Hans", "zh-Hant", "en")
# Who may open a direct conversation with the member: anyone, members sharing an alliance, nobody.
DIRECT_MESSAGES_FROM = ("everyone", "alliances", "nobody")


class Member(Model):
    __tablename__ = "members"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(sa.String(254), unique=True)
    username: Mapped[str] = mapped_column(sa.String(30), unique=True)
    password_hash: Mapped[str | None] = mapped_column(sa.String(255))
    display_name: Mapped[str] = mapped_column(sa.String(50))
    # Folded (Simplified, lower-case) name and handle, for directory search.
    name_key: Mapped[str] = mapped_column(sa.String(200), default="")
    avatar_url: Mapped[str | None] = mapped_column(sa.String(500))
    bio: Mapped[str] = mapped_column(sa.String(500), default="")
    city: Mapped[str | None] = mapped_column(sa.String(50))
    city_key: Mapped[str | None] = mapped_column(sa.String(50), index=True)
    phone: Mapped[str | None] = mapped_column(sa.String(32))
    locale: Mapped[str] = mapped_column(sa.String(8), default="zh-Hans")
    time_zone: Mapped[str] = mapped_column(sa.String(64), default="Asia/Shanghai")
    profile_visibility: Mapped[str] = mapped_column(sa.String(16), default="members")
    role: Mapped[str] = mapped_column(sa.String(16), default="member")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    deleted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Copies kept on the row so that reading a profile needs no extra query; the tables
    # (member_occupations, privacy_consents) remain the record and the search index.
    occupation_tags: Mapped[list[str]] = mapped_column(sa.JSON, default=list)
    privacy_policy_version: Mapped[str | None] = mapped_column(sa.String(32))
    direct_messages_from: Mapped[str] = mapped_column(
        sa.String(16), default="everyone", server_default="everyone"
    )

    occupations: Mapped[list[MemberOccupation]] = relationship(
        back_populates="member", cascade="all, delete-orphan", order_by="MemberOccupation.tag"
    )
    consents: Mapped[list[PrivacyConsent]] = relationship(
        back_populates="member", cascade="all, delete-orphan", order_by="PrivacyConsent.id"
    )

    __table_args__ = (
        sa.CheckConstraint(f"role IN {ROLES!r}", name="role"),
        sa.CheckConstraint(f"profile_visibility IN {VISIBILITIES!r}", name="profile_visibility"),
        sa.CheckConstraint(
            f"direct_messages_from IN {DIRECT_MESSAGES_FROM!r}", name="direct_messages_from"
        ),
    )

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None


class MemberOccupation(Model):
    __tablename__ = "member_occupations"

    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    tag: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    member: Mapped[Member] = relationship(back_populates="occupations")

    __table_args__ = (sa.Index("ix_member_occupations_tag_member", "tag", "member_id"),)


class PrivacyConsent(Model):
    """The privacy-policy version a member accepted, and when (PIPL art. 14: informed consent)."""

    __tablename__ = "privacy_consents"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    policy_version: Mapped[str] = mapped_column(sa.String(32))
    accepted_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    member: Mapped[Member] = relationship(back_populates="consents")


class MemberBlock(Model):
    """``member_id`` blocked ``blocked_id``: the blocked member cannot open conversations with,
    write one-to-one to, mention or reply to the blocker (see ``server.members.blocks``)."""

    __tablename__ = "member_blocks"

    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True
    )
    blocked_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    blocked: Mapped[Member] = relationship(foreign_keys=[blocked_id], lazy="raise")

    __table_args__ = (sa.CheckConstraint("member_id <> blocked_id", name="not_self"),)
