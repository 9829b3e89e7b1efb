"""Sign-in sessions (refresh-token families) and password-reset tokens."""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.common.time import UTCDateTime, utcnow
from server.extensions import Model
from server.members.models import Member


class AuthSession(Model):
    """One sign-in on one device: a family of refresh tokens, of which one is current.

    Every token of the family carries the session id as ``fam``. Refreshing swaps
    ``refresh_jti`` for a new one; a refresh token whose jti is not the current one has been
    used before, so the whole family is revoked (RFC 6819 §5.2.2.3, OAuth 2.0 Security BCP).
    """

    __tablename__ = "auth_sessions"

    id: Mapped[str] = mapped_column(sa.String(32), primary_key=True)
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    refresh_jti: Mapped[str] = mapped_column(sa.String(36))
    user_agent: Mapped[str] = mapped_column(sa.String(200), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_reason: Mapped[str | None] = mapped_column(sa.String(32))

    member: Mapped[Member] = relationship()

    __table_args__ = (
        # a member's live sessions, most recently used first (the cap at every sign-in): the
        # revoked ones, which pile up for as long as the member signs in, are not in it
        sa.Index(
            "ix_auth_sessions_live",
            "member_id",
            "refreshed_at",  # read backwards: the most recent first
            "id",
            sqlite_where=sa.text("revoked_at IS NULL"),
            postgresql_where=sa.text("revoked_at IS NULL"),
        ),
    )


class PasswordResetToken(Model):
    """A single-use reset token; only its SHA-256 is stored."""

    __tablename__ = "password_reset_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    member_id: Mapped[int] = mapped_column(
        sa.ForeignKey("members.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
