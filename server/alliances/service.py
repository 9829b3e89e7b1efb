"""Alliance verbs: create and describe, list, join (at once, by request, by invite), leave,
roles, removal and bans; and the scoping rule other features use.

**Scoping rule** (forum categories now; events and courses next): an object that belongs to an
alliance (``alliance_id`` on it) is visible to and usable by the alliance's members; the
alliance's owner and admins manage it. Features ask ``role_in``, ``is_member``, ``is_admin`` or
``alliance_ids_of`` — never the tables.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased, joinedload

from server.alliances import ranks
from server.alliances.models import (
    Alliance,
    AllianceBan,
    AllianceInvite,
    AllianceJoinRequest,
    AllianceMember,
    AllianceTag,
)
from server.common.pagination import Page, SortKey, keyset_page
from server.common.search import fold, like_escape
from server.common.text import clean_tags
from server.common.time import utcnow
from server.common.tx import commit
from server.errors import Conflict, DomainError, Forbidden, NotFound, register_messages
from server.extensions import db
from server.members.models import Member
from server.notifications import service as notifications

MANAGERS = ranks.MANAGERS

register_messages(
    {
        "alliance_not_found": {
            "zh-Hans": "找不到该联盟。",
            "zh-Hant": "找不到該聯盟。",
            "en": "No such alliance.",
        },
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
        "alliance_owner_must_transfer": {
            "zh-Hans": "请先把联盟转让给其他成员。",
            "zh-Hant": "請先把聯盟轉讓給其他成員。",
            "en": "Transfer the alliance to another member first.",
        },
        "alliance_member_not_found": {
            "zh-Hans": "该用户不是联盟成员。",
            "zh-Hant": "該用戶不是聯盟成員。",
            "en": "That person is not a member.",
        },
        "alliance_ban_not_found": {
            "zh-Hans": "该用户没有被禁止。",
            "zh-Hant": "該用戶沒有被禁止。",
            "en": "That person is not banned.",
        },
        "alliance_request_not_found": {
            "zh-Hans": "找不到该申请。",
            "zh-Hant": "找不到該申請。",
            "en": "No such request.",
        },
    }
)


# --- the scoping rule -------------------------------------------------------------------------


def role_in(member_id: int, alliance_id: int) -> str | None:
    return db.session.execute(
        sa.select(AllianceMember.role).where(
            AllianceMember.alliance_id == alliance_id, AllianceMember.member_id == member_id
        )
    ).scalar_one_or_none()


def is_member(member_id: int, alliance_id: int) -> bool:
    return role_in(member_id, alliance_id) is not None


def is_admin(member_id: int, alliance_id: int) -> bool:
    return role_in(member_id, alliance_id) in MANAGERS


def exists(alliance_id: int) -> bool:
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
    return set(
        db.session.execute(
            sa.select(AllianceMember.alliance_id).where(AllianceMember.member_id == member_id)
        ).scalars()
    )


# --- views ------------------------------------------------------------------------------------


@dataclass
class AllianceView:
    alliance: Alliance
    my_role: str | None = None
    request_status: str | None = None

    @property
    def can_manage(self) -> bool:
        return self.my_role in MANAGERS


def _platform_admin(member: Member) -> bool:
    return member.role == "admin"


def _load(member: Member, alliance_id: int, *, for_update: bool = False) -> AllianceView:
    """The alliance as ``member`` sees it; a secret one is 404 to non-members."""
    stmt = sa.select(Alliance).where(Alliance.id == alliance_id, Alliance.deleted_at.is_(None))
    if for_update:
        stmt = stmt.with_for_update()
    alliance = db.session.execute(stmt).scalar_one_or_none()
    if alliance is None:
        raise NotFound("alliance_not_found")
    role = role_in(member.id, alliance.id)
    if alliance.visibility == "secret" and role is None and not _platform_admin(member):
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


def _require_manager(member: Member, view: AllianceView) -> None:
    if not view.can_manage and not _platform_admin(member):
        raise Forbidden()


def _clean_tags(tags: list[str]) -> list[str]:
    return clean_tags(tags)[:5]


def _set_tags(alliance: Alliance, tags: list[str]) -> None:
    db.session.execute(sa.delete(AllianceTag).where(AllianceTag.alliance_id == alliance.id))
    if tags:
        db.session.execute(
            sa.insert(AllianceTag), [{"alliance_id": alliance.id, "tag": t} for t in tags]
        )
    alliance.tags = tags


def _apply(alliance: Alliance, data: Mapping[str, Any]) -> None:
    for field in ("name", "description", "avatar_url", "city", "visibility"):
        if field in data:
            setattr(alliance, field, data[field])
    alliance.name_key = fold(alliance.name)
    alliance.city_key = fold(alliance.city) if alliance.city else None
    if "tags" in data:
        _set_tags(alliance, _clean_tags(data["tags"]))


# --- create, read, list -------------------------------------------------------------------


def create(member: Member, data: Mapping[str, Any]) -> AllianceView:
    """Start an alliance (organisers, or any member if ``ALLIANCE_CREATORS=members``)."""
    if current_app.config["ALLIANCE_CREATORS"] != "members" and member.role not in (
        "organiser",
        "admin",
    ):
        raise Forbidden()
    alliance = Alliance(created_by_id=member.id, member_count=1, created_at=utcnow())
    db.session.add(alliance)
    _apply(alliance, {"description": "", **data, "tags": []})
    db.session.flush()
    _set_tags(alliance, _clean_tags(data.get("tags", [])))
    db.session.add(AllianceMember(alliance_id=alliance.id, member_id=member.id, role="owner"))
    commit()
    return AllianceView(alliance, "owner")


def get(member: Member, alliance_id: int) -> AllianceView:
    return _load(member, alliance_id)


def update(member: Member, alliance_id: int, changes: Mapping[str, Any]) -> AllianceView:
    """Change the name, description, avatar, city, tags or visibility (owner and admins)."""
    view = _load(member, alliance_id, for_update=True)
    _require_manager(member, view)
    _apply(view.alliance, changes)
    commit()
    return view


def list_alliances(member: Member, args: Mapping[str, Any]) -> Page[AllianceView]:
    """``mine`` (alliances the caller belongs to) or ``discover`` (public and private ones),
    by city, tag or name; newest first, with the caller's role and request, in one query."""
    mine = aliased(AllianceMember)
    request = aliased(AllianceJoinRequest)
    stmt = (
        sa.select(Alliance, mine.role, request.status)
        .outerjoin(mine, sa.and_(mine.alliance_id == Alliance.id, mine.member_id == member.id))
        .outerjoin(
            request,
            sa.and_(request.alliance_id == Alliance.id, request.member_id == member.id),
        )
        .where(Alliance.deleted_at.is_(None))
    )
    if args.get("scope") == "mine":
        stmt = stmt.where(mine.member_id.is_not(None))
    else:
        stmt = stmt.where(sa.or_(Alliance.visibility != "secret", mine.member_id.is_not(None)))
    if args.get("city"):
        stmt = stmt.where(Alliance.city_key == fold(args["city"]))
    if args.get("tag"):
        stmt = stmt.where(
            sa.exists().where(
                AllianceTag.alliance_id == Alliance.id,
                AllianceTag.tag == args["tag"].strip().lower(),
            )
        )
    if args.get("q"):
        stmt = stmt.where(Alliance.name_key.like(f"%{like_escape(fold(args['q']))}%", escape="\\"))
    page = keyset_page(
        stmt,
        [SortKey(Alliance.id)],
        name=f"alliances.{args.get('scope', 'discover')}",
        limit=args["limit"],
        cursor=args.get("cursor"),
        scalars=False,
        key_of=lambda row: [row[0].id],
    )
    return Page([AllianceView(a, r, s) for a, r, s in page.items], page.next_cursor)


# --- joining ----------------------------------------------------------------------------------


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


_LEFT_HOOKS: dict[str, Callable[[int, int], None]] = {}


def on_member_left(name: str, hook: Callable[[int, int], None]) -> None:
    """``hook(alliance_id, member_id)`` runs in the transaction in which a member leaves, is
    removed or banned: features drop what membership gave (chat: the alliance's channels)."""
    _LEFT_HOOKS[name] = hook


def _drop_member(alliance: Alliance, member_id: int) -> None:
    gone = db.session.execute(
        sa.delete(AllianceMember).where(
            AllianceMember.alliance_id == alliance.id, AllianceMember.member_id == member_id
        )
    ).rowcount
    if gone:
        db.session.execute(
            sa.update(Alliance)
            .where(Alliance.id == alliance.id)
            .values(member_count=Alliance.member_count - 1)
        )
        ranks.revoke_invites_of(alliance.id, member_id)
        for hook in _LEFT_HOOKS.values():
            hook(alliance.id, member_id)


def join(member: Member, alliance_id: int, message: str = "") -> AllianceView:
    """Join a public alliance, or ask to join a private one (its admins are told)."""
    view = _load(member, alliance_id, for_update=True)
    alliance = view.alliance
    if view.my_role is not None:
        raise Conflict("alliance_already_member")
    _check_not_banned(member.id, alliance.id)
    if alliance.visibility == "secret":
        raise NotFound("alliance_not_found")  # invite only
    if alliance.visibility == "public":
        _add_member(alliance, member.id)
        commit()
        return _load(member, alliance_id)
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
        f"alliance:{alliance.id}:requests",
        {"alliance_id": alliance.id, "name": alliance.name, "request_id": existing.id},
        actor_id=member.id,
    )
    commit()
    return AllianceView(alliance, None, "pending")


def join_requests(
    member: Member, alliance_id: int, *, limit: int, cursor: str | None
) -> Page[AllianceJoinRequest]:
    """Pending requests, oldest first (owner and admins)."""
    view = _load(member, alliance_id)
    _require_manager(member, view)
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
        name=f"alliance.requests.{alliance_id}",
        limit=limit,
        cursor=cursor,
    )


def decide(member: Member, alliance_id: int, request_id: int, approve: bool) -> None:
    """Approve (the requester joins) or reject a pending request; the requester is told."""
    view = _load(member, alliance_id, for_update=True)
    _require_manager(member, view)
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
        f"alliance:{alliance_id}:request",
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
    view = _load(member, alliance_id)
    _require_manager(member, view)
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


def invites(member: Member, alliance_id: int) -> list[AllianceInvite]:
    """Invite links that still work (owner and admins): unrevoked, unexpired, and made by
    someone who still holds the rank that made them."""
    view = _load(member, alliance_id)
    _require_manager(member, view)
    return list(
        db.session.execute(
            sa.select(AllianceInvite)
            .where(
                AllianceInvite.alliance_id == alliance_id,
                AllianceInvite.revoked_at.is_(None),
                AllianceInvite.expires_at > utcnow(),
                ranks.invite_backed(),
            )
            .order_by(AllianceInvite.id.desc())
            .limit(100)
        ).scalars()
    )


def revoke_invite(member: Member, alliance_id: int, invite_id: int) -> None:
    view = _load(member, alliance_id)
    _require_manager(member, view)
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
    return _load(member, alliance.id)


# --- membership -------------------------------------------------------------------------------


def leave(member: Member, alliance_id: int) -> None:
    view = _load(member, alliance_id, for_update=True)
    if view.my_role is None:
        raise NotFound("alliance_member_not_found")
    if view.my_role == "owner":
        raise Conflict("alliance_owner_must_transfer")
    _drop_member(view.alliance, member.id)
    commit()


def members(member: Member, alliance_id: int, args: Mapping[str, Any]) -> Page[AllianceMember]:
    """The member directory: anyone signed in for a public alliance, members otherwise."""
    view = _load(member, alliance_id)
    if view.alliance.visibility != "public" and view.my_role is None:
        if not _platform_admin(member):
            raise Forbidden()
    stmt = (
        sa.select(AllianceMember)
        .join(Member, Member.id == AllianceMember.member_id)
        .options(joinedload(AllianceMember.member))
        .where(AllianceMember.alliance_id == alliance_id, Member.deleted_at.is_(None))
    )
    if args.get("role"):
        stmt = stmt.where(AllianceMember.role == args["role"])
    if args.get("q"):
        pattern = like_escape(fold(args["q"]))
        stmt = stmt.where(Member.name_key.like(f"%{pattern}%", escape="\\"))
    return keyset_page(
        stmt,
        [SortKey(AllianceMember.member_id, descending=False)],
        name=f"alliance.members.{alliance_id}",
        limit=args["limit"],
        cursor=args.get("cursor"),
    )


def set_role(member: Member, alliance_id: int, target_id: int, role: str) -> AllianceView:
    """The owner names admins, demotes them, or hands the alliance over (``owner``)."""
    view = _load(member, alliance_id, for_update=True)
    if view.my_role != "owner" and not _platform_admin(member):
        raise Forbidden()
    target = db.session.get(AllianceMember, (alliance_id, target_id))
    if target is None:
        raise NotFound("alliance_member_not_found")
    if target.role == "owner":
        raise Conflict("alliance_owner_must_transfer")
    if role == "owner":
        db.session.execute(
            sa.update(AllianceMember)
            .where(AllianceMember.alliance_id == alliance_id, AllianceMember.role == "owner")
            .values(role="admin")
        )
    if role not in MANAGERS:  # an admin demoted: their invite links go with the rank
        ranks.revoke_invites_of(alliance_id, target_id)
    target.role = role
    commit()
    return _load(member, alliance_id)


def _check_outranks(member: Member, view: AllianceView, target: AllianceMember) -> None:
    """Admins act on members; the owner (or a platform admin) on admins too; nobody on the
    owner."""
    if target.role == "owner":
        raise Forbidden()
    if target.role == "admin" and view.my_role != "owner" and not _platform_admin(member):
        raise Forbidden()


def remove(member: Member, alliance_id: int, target_id: int) -> None:
    view = _load(member, alliance_id, for_update=True)
    _require_manager(member, view)
    target = db.session.get(AllianceMember, (alliance_id, target_id))
    if target is None:
        raise NotFound("alliance_member_not_found")
    _check_outranks(member, view, target)
    _drop_member(view.alliance, target_id)
    commit()


def ban(member: Member, alliance_id: int, target_id: int, reason: str) -> None:
    """Remove a member (if they are one) and keep them out: no joining, requests or invites."""
    view = _load(member, alliance_id, for_update=True)
    _require_manager(member, view)
    if target_id == member.id:
        raise Forbidden()
    target = db.session.get(AllianceMember, (alliance_id, target_id))
    if target is not None:
        _check_outranks(member, view, target)
        _drop_member(view.alliance, target_id)
    if db.session.get(Member, target_id) is None:
        raise NotFound("member_not_found")
    acting = ranks.acting_role(view.my_role, _platform_admin(member))
    existing = db.session.get(AllianceBan, (alliance_id, target_id))
    if existing is None:
        db.session.add(
            AllianceBan(
                alliance_id=alliance_id,
                member_id=target_id,
                banned_by_id=member.id,
                banned_by_role=acting,
                reason=reason,
                created_at=utcnow(),
            )  # fmt: skip
        )
    elif ranks.rank(acting) > ranks.rank(existing.banned_by_role):
        # banned again by a higher rank: lifting it now takes that rank
        existing.banned_by_id, existing.banned_by_role = member.id, acting
        existing.reason = reason or existing.reason
    db.session.execute(
        sa.update(AllianceJoinRequest)
        .where(
            AllianceJoinRequest.alliance_id == alliance_id,
            AllianceJoinRequest.member_id == target_id,
            AllianceJoinRequest.status == "pending",
        )
        .values(status="rejected", decided_at=utcnow(), decided_by_id=member.id)
    )
    commit()


def unban(member: Member, alliance_id: int, target_id: int) -> None:
    """Lift a ban: outranking the target and holding at least the rank of who imposed it
    (site staff lift any, as before)."""
    view = _load(member, alliance_id, for_update=True)
    _require_manager(member, view)
    ban = db.session.get(AllianceBan, (alliance_id, target_id))
    if ban is None:
        raise NotFound("alliance_ban_not_found")
    actor = ranks.acting_role(view.my_role, _platform_admin(member))
    if not _platform_admin(member) and not ranks.may_lift(
        actor, role_in(target_id, alliance_id), ban.banned_by_role
    ):
        raise Forbidden()
    db.session.delete(ban)
    commit()
