"""An alliance as one member sees it, in one place: the verbs (``service``, ``joining``,
``membership``) all load through here, so imports flow one way.

A secret alliance does not exist (404) for whoever is not in it, except platform admins
(``Member.role == "admin"``), who also manage every alliance as its owner and admins do.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from server.alliances.models import Alliance, AllianceJoinRequest
from server.alliances.scope import MANAGERS, role_in
from server.errors import Forbidden, NotFound, register_messages
from server.extensions import db
from server.members.models import Member

register_messages(
    {
        "alliance_not_found": {
            "zh-Hans": "找不到该联盟。",
            "zh-Hant": "找不到該聯盟。",
            "en": "No such alliance.",
        },
    }
)


@dataclass
class AllianceView:
    alliance: Alliance
    my_role: str | None = None
    request_status: str | None = None

    @property
    def can_manage(self) -> bool:
        return self.my_role in MANAGERS


def is_platform_admin(member: Member) -> bool:
    """Site staff: the platform's ``admin``, not an alliance's."""
    return member.role == "admin"


def load(member: Member, alliance_id: int, *, for_update: bool = False) -> AllianceView:
    """The alliance as ``member`` sees it; a secret one is 404 to non-members."""
    stmt = sa.select(Alliance).where(Alliance.id == alliance_id, Alliance.deleted_at.is_(None))
    if for_update:
        stmt = stmt.with_for_update()
    alliance = db.session.execute(stmt).scalar_one_or_none()
    if alliance is None:
        raise NotFound("alliance_not_found")
    role = role_in(member.id, alliance.id)
    if alliance.visibility == "secret" and role is None and not is_platform_admin(member):
        raise NotFound("alliance_not_found")
    status = None
    if role is None:
        status = db.session.execute(
            sa.select(AllianceJoinRequest.status).where(
                AllianceJoinRequest.alliance_id == alliance.id,
                AllianceJoinRequest.member_id == member.id,
            )
        ).scalar_one_or_none()
    return AllianceView(alliance, role, status)


def require_manager(member: Member, view: AllianceView) -> None:
    """403 unless ``member`` is the alliance's owner, one of its admins, or a platform admin."""
    if not view.can_manage and not is_platform_admin(member):
        raise Forbidden()
