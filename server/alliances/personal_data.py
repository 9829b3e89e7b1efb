"""PIPL for alliances: a member's memberships, requests and bans (export), and erasure.

Erasure removes the member from every alliance; an alliance they own passes to its longest-
serving admin, else its longest-standing member; an alliance left empty is closed.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from server.alliances.models import (
    Alliance,
    AllianceBan,
    AllianceInvite,
    AllianceJoinRequest,
    AllianceMember,
)
from server.common.time import utcnow
from server.extensions import db


def export(member_id: int) -> dict[str, Any]:
    memberships = db.session.execute(
        sa.select(Alliance.id, Alliance.name, AllianceMember.role, AllianceMember.joined_at)
        .join(AllianceMember, AllianceMember.alliance_id == Alliance.id)
        .where(AllianceMember.member_id == member_id)
        .order_by(Alliance.id)
    ).all()
    requests = db.session.execute(
        sa.select(AllianceJoinRequest).where(AllianceJoinRequest.member_id == member_id)
    ).scalars()
    bans = db.session.execute(
        sa.select(AllianceBan).where(AllianceBan.member_id == member_id)
    ).scalars()
    return {
        "memberships": [
            {"alliance_id": i, "name": n, "role": r, "joined_at": j} for i, n, r, j in memberships
        ],
        "join_requests": [
            {
                "alliance_id": r.alliance_id,
                "message": r.message,
                "status": r.status,
                "created_at": r.created_at,
            }  # fmt: skip
            for r in requests
        ],
        "bans": [
            {
                "alliance_id": b.alliance_id,
                "reason": b.reason,
                "created_at": b.created_at,
            }
            for b in bans
        ],
    }


def erase(member_id: int) -> None:
    owned = db.session.execute(
        sa.select(AllianceMember.alliance_id).where(
            AllianceMember.member_id == member_id, AllianceMember.role == "owner"
        )
    ).scalars()
    for alliance_id in list(owned):
        heir = db.session.execute(
            sa.select(AllianceMember)
            .where(AllianceMember.alliance_id == alliance_id, AllianceMember.member_id != member_id)
            .order_by((AllianceMember.role == "admin").desc(), AllianceMember.joined_at)
            .limit(1)
        ).scalar_one_or_none()
        if heir is not None:
            heir.role = "owner"
        else:
            db.session.execute(
                sa.update(Alliance).where(Alliance.id == alliance_id).values(deleted_at=utcnow())
            )
    for alliance_id in list(
        db.session.execute(
            sa.select(AllianceMember.alliance_id).where(AllianceMember.member_id == member_id)
        ).scalars()
    ):
        db.session.execute(
            sa.update(Alliance)
            .where(Alliance.id == alliance_id)
            .values(member_count=Alliance.member_count - 1)
        )
    for model in (AllianceMember, AllianceJoinRequest, AllianceBan):
        db.session.execute(sa.delete(model).where(model.member_id == member_id))
    db.session.execute(
        sa.update(AllianceInvite)
        .where(AllianceInvite.created_by_id == member_id)
        .values(created_by_id=None)
    )
    db.session.execute(
        sa.update(Alliance).where(Alliance.created_by_id == member_id).values(created_by_id=None)
    )
