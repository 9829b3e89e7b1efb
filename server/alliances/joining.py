"""Joining an alliance: at once (public), by a request its owner and admins decide (private),
or through an invite link (any visibility, secret ones only so).

Whoever is banned joins by none of these ways. An invite link works while its maker still holds
the rank that made it (``ranks``); its code is shown once, and only its hash is kept. A request
tells the alliance's managers, and its decision tells the requester (notifications).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from server.alliances import ranks
from server.alliances.access import AllianceView, load, require_manager
from server.alliances.kinds import join_request_subject, join_requests_subject
from server.alliances.models import (
    Alliance,
    AllianceBan,
    AllianceInvite,
    AllianceJoinRequest,
    AllianceMember,
)
from server.alliances.scope import MANAGERS, role_in
from server.common.pagination import Page, SortKey, keyset_page
from server.common.time import utcnow
from server.common.tx import commit
from server.errors import Conflict, DomainError, Forbidden, NotFound, register_messages
from server.extensions import db
from server.members.models import Member
from server.notifications import service as notifications

register_messages(
    {
        "alliance_already_member": {
            "zh-Hans": "你已经是该联盟的成员。",
            "zh-Hant": "你已經是該聯盟的成員。",
            "en": "You are already a member.",
        },
        "alliance_request_pending": {
            "zh-Hans": "你的加入申请正在等待审核。",
            "zh-Hant": "你的加入申請正在等待審核。",
            "en": "Your request to join is waiting for a decision.",
        },
        "alliance_banned": {
            "zh-Hans": "你已被禁止加入该联盟。",
            "zh-Hant": "你已被禁止加入該聯盟。",
            "en": "You are banned from this alliance.",
        },
        "alliance_invite_not_found": {
            "zh-Hans": "邀请链接无效、已过期或已用完。",
            "zh-Hant": "邀請連結無效、已過期或已用完。",
            "en": "The invite link is invalid, expired or used up.",
        },
        "alliance_request_not_found": {
            "zh-Hans": "找不到该申请。",
            "zh-Hant": "找不到該申請。",
            "en": "No such request.",
        },
    }
)


def _check_not_banned(member_id: int, alliance_id: int) -> None:
    if db.session.get(AllianceBan, (alliance_id, member_id)) is not None:
        raise Forbidden("alliance_banned")


def _add_member(alliance: Alliance, member_id: int, role: str = "member") -> None:
    db.session.add(AllianceMember(alliance_id=alliance.id, member_id=member_id, role=role))
    db.session.execute(
        sa.update(Alliance)
        .where(Alliance.id == alliance.id)
        .values(member_count=Alliance.member_count + 1)
    )


def join_alliance(member: Member, alliance_id: int, message: str = "") -> AllianceView:
    """Join a public alliance, or ask to join a private one (its admins are told)."""
    view = load(member, alliance_id, for_update=True)
    alliance = view.alliance
    if view.my_role is not None:
        raise Conflict("alliance_already_member")
    _check_not_banned(member.id, alliance.id)
    if alliance.visibility == "secret":
        raise NotFound("alliance_not_found")  # invite only
    if alliance.visibility == "public":
        _add_member(alliance, member.id)
        commit()
        return load(member, alliance_id)
    existing = db.session.execute(
        sa.select(AllianceJoinRequest).where(
            AllianceJoinRequest.alliance_id == alliance.id,
            AllianceJoinRequest.member_id == member.id,
        )
    ).scalar_one_or_none()
    if existing is not None and existing.status == "pending":
        raise Conflict("alliance_request_pending")
    if existing is None:
        existing = AllianceJoinRequest(alliance_id=alliance.id, member_id=member.id)
        db.session.add(existing)
    existing.status, existing.message, existing.created_at = "pending", message, utcnow()
    existing.decided_at = existing.decided_by_id = None
    db.session.flush()
    managers = db.session.execute(
        sa.select(AllianceMember.member_id).where(
            AllianceMember.alliance_id == alliance.id, AllianceMember.role.in_(MANAGERS)
        )
    ).scalars()
    notifications.notify(
        list(managers),
        "alliance.join_request",
        join_requests_subject(alliance.id),
        {"alliance_id": alliance.id, "name": alliance.name, "request_id": existing.id},
        actor_id=member.id,
    )
    commit()
    return AllianceView(alliance, None, "pending")


def list_join_requests(
    member: Member, alliance_id: int, *, limit: int, cursor: str | None
) -> Page[AllianceJoinRequest]:
    """Pending requests, oldest first (owner and admins)."""
    view = load(member, alliance_id)
    require_manager(member, view)
    stmt = (
        sa.select(AllianceJoinRequest)
        .options(joinedload(AllianceJoinRequest.member))
        .where(
            AllianceJoinRequest.alliance_id == alliance_id,
            AllianceJoinRequest.status == "pending",
        )
    )
    return keyset_page(
        stmt,
        [SortKey(AllianceJoinRequest.id, descending=False)],
        name="alliances.join_requests",
        limit=limit,
        cursor=cursor,
    )


def decide_join_request(member: Member, alliance_id: int, request_id: int, approve: bool) -> None:
    """Approve (the requester joins) or reject a pending request; the requester is told."""
    view = load(member, alliance_id, for_update=True)
    require_manager(member, view)
    request = db.session.get(AllianceJoinRequest, request_id)
    if request is None or request.alliance_id != alliance_id or request.status != "pending":
        raise NotFound("alliance_request_not_found")
    request.status = "approved" if approve else "rejected"
    request.decided_at, request.decided_by_id = utcnow(), member.id
    if approve:
        _check_not_banned(request.member_id, alliance_id)
        if role_in(request.member_id, alliance_id) is None:
            _add_member(view.alliance, request.member_id)
    outcome = OUTCOMES["approved" if approve else "rejected"]
    notifications.notify(
        [request.member_id],
        "alliance.request_decided",
        join_request_subject(alliance_id),
        {"alliance_id": alliance_id, "name": view.alliance.name, "outcome": outcome},
        actor_id=member.id,
    )
    commit()


OUTCOMES = {
    "approved": {"zh-Hans": "已通过", "zh-Hant": "已通過", "en": "was approved"},
    "rejected": {"zh-Hans": "未通过", "zh-Hant": "未通過", "en": "was declined"},
}


def _hash(code: str) -> str:
    return hashlib.sha256(code.encode()).hexdigest()


def create_invite(
    member: Member, alliance_id: int, data: Mapping[str, Any]
) -> tuple[AllianceInvite, str]:
    """An invite link (owner and admins): the code is shown once; only its hash is kept."""
    view = load(member, alliance_id)
    require_manager(member, view)
    code = secrets.token_urlsafe(18)
    invite = AllianceInvite(
        alliance_id=alliance_id,
        code_hash=_hash(code),
        created_by_id=member.id,
        created_at=utcnow(),
        expires_at=utcnow() + timedelta(hours=data["expires_in_hours"]),
        max_uses=data.get("max_uses"),
    )
    db.session.add(invite)
    commit()
    return invite, code


def list_invites(
    member: Member, alliance_id: int, *, limit: int, cursor: str | None
) -> Page[AllianceInvite]:
    """Invite links that still work (owner and admins): unrevoked, unexpired, and made by
    someone who still holds the rank that made them; newest first."""
    view = load(member, alliance_id)
    require_manager(member, view)
    stmt = sa.select(AllianceInvite).where(
        AllianceInvite.alliance_id == alliance_id,
        AllianceInvite.revoked_at.is_(None),
        AllianceInvite.expires_at > utcnow(),
        ranks.invite_backed(),
    )
    return keyset_page(
        stmt, [SortKey(AllianceInvite.id)], name="alliances.invites", limit=limit, cursor=cursor
    )


def revoke_invite(member: Member, alliance_id: int, invite_id: int) -> None:
    """Revoke an invite link (owner and admins); revoking it again changes nothing."""
    view = load(member, alliance_id)
    require_manager(member, view)
    invite = db.session.get(AllianceInvite, invite_id)
    if invite is None or invite.alliance_id != alliance_id:
        raise NotFound("alliance_invite_not_found")
    invite.revoked_at = invite.revoked_at or utcnow()
    commit()


def accept_invite(member: Member, code: str) -> AllianceView:
    """Join through an invite link, whatever the alliance's visibility, while its maker still
    holds the rank that made it."""
    invite = db.session.execute(
        sa.select(AllianceInvite).where(AllianceInvite.code_hash == _hash(code)).with_for_update()
    ).scalar_one_or_none()
    now = utcnow()
    if (
        invite is None
        or invite.revoked_at is not None
        or invite.expires_at <= now
        or (invite.max_uses is not None and invite.uses >= invite.max_uses)
        or not ranks.is_backed(invite)
    ):
        raise DomainError("alliance_invite_not_found", 404)
    alliance = db.session.get(Alliance, invite.alliance_id)
    if alliance is None or alliance.deleted_at is not None:
        raise DomainError("alliance_invite_not_found", 404)
    if role_in(member.id, alliance.id) is not None:
        raise Conflict("alliance_already_member")
    _check_not_banned(member.id, alliance.id)
    invite.uses += 1
    _add_member(alliance, member.id)
    db.session.execute(
        sa.update(AllianceJoinRequest)
        .where(
            AllianceJoinRequest.alliance_id == alliance.id,
            AllianceJoinRequest.member_id == member.id,
            AllianceJoinRequest.status == "pending",
        )
        .values(status="approved", decided_at=now)
    )
    commit()
    return load(member, alliance.id)
