"""The scoping rule every alliance-owned object follows (forum categories now; events and courses
next): an object that belongs to an alliance (``alliance_id`` on it) is visible to and usable by
the alliance's members, and managed by its owner and admins (``MANAGERS``).

Features ask ``role_in``, ``is_member``, ``is_manager``, ``alliance_ids_of`` or filter their own
rows with ``belongs`` — never the alliance tables. "Manager" (owner or admin of an alliance) is
not the platform's ``admin`` (``Member.role``), who manages no alliance by this rule.

Imports only models: every other alliance module, and other features, build on it.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import aliased

from server.alliances.models import Alliance, AllianceMember
from server.extensions import db

MANAGERS = ("owner", "admin")


def role_in(member_id: int, alliance_id: int) -> str | None:
    """The member's role in the alliance (``owner``, ``admin``, ``member``), None if not in it."""
    return db.session.execute(
        sa.select(AllianceMember.role).where(
            AllianceMember.alliance_id == alliance_id, AllianceMember.member_id == member_id
        )
    ).scalar_one_or_none()


def is_member(member_id: int, alliance_id: int) -> bool:
    """The member belongs to the alliance, in any role."""
    return role_in(member_id, alliance_id) is not None


def is_manager(member_id: int, alliance_id: int) -> bool:
    """The member is the alliance's owner or one of its admins."""
    return role_in(member_id, alliance_id) in MANAGERS


def exists(alliance_id: int) -> bool:
    """The alliance exists and is not closed."""
    return (
        db.session.execute(
            sa.select(Alliance.id).where(Alliance.id == alliance_id, Alliance.deleted_at.is_(None))
        ).first()
        is not None
    )


def belongs(alliance_id: Any, member_id: Any) -> sa.ColumnElement[bool]:
    """SQL: the member (a column or value) is in the alliance (a column or value), for features
    to filter their own rows by it in one query."""
    return (
        sa.exists()
        .where(AllianceMember.alliance_id == alliance_id, AllianceMember.member_id == member_id)
        .correlate_except(AllianceMember)
    )


def shares_alliance(member_id: Any, other_id: Any) -> sa.ColumnElement[bool]:
    """SQL: the two members (columns or values) belong to at least one alliance together."""
    mine, theirs = aliased(AllianceMember), aliased(AllianceMember)
    return (
        sa.exists()
        .where(
            mine.member_id == member_id,
            theirs.alliance_id == mine.alliance_id,
            theirs.member_id == other_id,
        )
        .correlate_except(mine, theirs)
    )


def member_ids_in(alliance_id: int | None, member_ids: list[int]) -> set[int]:
    """Those of ``member_ids`` who belong to the alliance."""
    return set(
        db.session.execute(
            sa.select(AllianceMember.member_id).where(
                AllianceMember.alliance_id == alliance_id,
                AllianceMember.member_id.in_(member_ids),
            )
        ).scalars()
    )


def alliance_ids_of(member_id: int) -> set[int]:
    """The alliances the member belongs to."""
    return set(
        db.session.execute(
            sa.select(AllianceMember.alliance_id).where(AllianceMember.member_id == member_id)
        ).scalars()
    )
