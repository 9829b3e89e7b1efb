"""Membership of an alliance: the member directory, leaving, roles, removal and bans.

Roles are the owner's to give (``owner`` hands the alliance over); whoever removes or bans a
member must outrank them (``ranks.outranks``), and lifting a ban takes the rank of who imposed
it (``ranks.may_lift``). Whoever stops being a member — leaving, removed, banned — loses the
invite links their rank made, and features drop what membership gave them (``on_member_left``).
"""

from __future__ import annotations

from collections.abc import Callable

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from server.alliances import ranks
from server.alliances.access import AllianceView, is_platform_admin, load, require_manager
from server.alliances.models import Alliance, AllianceBan, AllianceJoinRequest, AllianceMember
from server.alliances.scope import MANAGERS, role_in
from server.common.pagination import Page, SortKey, keyset_page
from server.common.search import fold, like_contains
from server.common.time import utcnow
from server.common.tx import changed, commit
from server.errors import Conflict, Forbidden, NotFound, register_messages
from server.extensions import db
from server.members.models import Member

register_messages(
    {
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
        "alliance_ban_target_not_found": {
            "zh-Hans": "找不到要禁止的用户。",
            "zh-Hant": "找不到要禁止的用戶。",
            "en": "There is no such person to ban.",
        },
    }
)


_LEFT_HOOKS: dict[str, Callable[[int, int], None]] = {}


def on_member_left(name: str, hook: Callable[[int, int], None]) -> None:
    """``hook(alliance_id, member_id)`` runs in the transaction in which a member leaves, is
    removed or banned: features drop what membership gave (chat: the alliance's channels)."""
    _LEFT_HOOKS[name] = hook


def _drop_member(alliance: Alliance, member_id: int) -> None:
    """The member is out (if they were in): the count, their invite links, the features' hooks."""
    gone = changed(
        sa.delete(AllianceMember).where(
            AllianceMember.alliance_id == alliance.id, AllianceMember.member_id == member_id
        )
    )
    if gone:
        db.session.execute(
            sa.update(Alliance)
            .where(Alliance.id == alliance.id)
            .values(member_count=Alliance.member_count - 1)
        )
        ranks.revoke_invites_of(alliance.id, member_id)
        for hook in _LEFT_HOOKS.values():
            hook(alliance.id, member_id)


def leave_alliance(member: Member, alliance_id: int) -> None:
    """Leave an alliance (its owner hands it over first)."""
    view = load(member, alliance_id, for_update=True)
    if view.my_role is None:
        raise NotFound("alliance_member_not_found")
    if view.my_role == "owner":
        raise Conflict("alliance_owner_must_transfer")
    _drop_member(view.alliance, member.id)
    commit()


def list_members(
    member: Member,
    alliance_id: int,
    *,
    q: str | None = None,
    role: str | None = None,
    limit: int,
    cursor: str | None,
) -> Page[AllianceMember]:
    """The member directory: anyone signed in for a public alliance, members otherwise."""
    view = load(member, alliance_id)
    if view.alliance.visibility != "public" and view.my_role is None:
        if not is_platform_admin(member):
            raise Forbidden()
    stmt = (
        sa.select(AllianceMember)
        .join(Member, Member.id == AllianceMember.member_id)
        .options(joinedload(AllianceMember.member))
        .where(AllianceMember.alliance_id == alliance_id, Member.deleted_at.is_(None))
    )
    if role:
        stmt = stmt.where(AllianceMember.role == role)
    if q:
        stmt = stmt.where(like_contains(Member.name_key, fold(q)))
    return keyset_page(
        stmt,
        [SortKey(AllianceMember.member_id, descending=False)],
        name="alliances.members",
        limit=limit,
        cursor=cursor,
    )


def set_member_role(member: Member, alliance_id: int, target_id: int, role: str) -> AllianceView:
    """The owner names admins, demotes them, or hands the alliance over (``owner``)."""
    view = load(member, alliance_id, for_update=True)
    if view.my_role != "owner" and not is_platform_admin(member):
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
    return load(member, alliance_id)


def _check_outranks(member: Member, view: AllianceView, target: AllianceMember) -> None:
    """Admins act on members; the owner (or a platform admin, whatever their role in the
    alliance) on admins too; nobody on the owner."""
    actor = ranks.STAFF if is_platform_admin(member) else view.my_role
    if not ranks.outranks(actor, target.role):
        raise Forbidden()


def remove_member(member: Member, alliance_id: int, target_id: int) -> None:
    """Take a member out of the alliance (owner and admins, over those they outrank)."""
    view = load(member, alliance_id, for_update=True)
    require_manager(member, view)
    target = db.session.get(AllianceMember, (alliance_id, target_id))
    if target is None:
        raise NotFound("alliance_member_not_found")
    _check_outranks(member, view, target)
    _drop_member(view.alliance, target_id)
    commit()


def ban_member(member: Member, alliance_id: int, target_id: int, reason: str) -> None:
    """Remove a member (if they are one) and keep them out: no joining, requests or invites."""
    view = load(member, alliance_id, for_update=True)
    require_manager(member, view)
    if target_id == member.id:
        raise Forbidden()
    target = db.session.get(AllianceMember, (alliance_id, target_id))
    if target is not None:
        _check_outranks(member, view, target)
        _drop_member(view.alliance, target_id)
    if db.session.get(Member, target_id) is None:
        raise NotFound("alliance_ban_target_not_found")
    acting = ranks.acting_role(view.my_role, is_platform_admin(member))
    assert acting is not None  # a manager or staff: require_manager passed
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


def unban_member(member: Member, alliance_id: int, target_id: int) -> None:
    """Lift a ban: outranking the target and holding at least the rank of who imposed it
    (site staff lift any, as before)."""
    view = load(member, alliance_id, for_update=True)
    require_manager(member, view)
    ban = db.session.get(AllianceBan, (alliance_id, target_id))
    if ban is None:
        raise NotFound("alliance_ban_not_found")
    actor = ranks.acting_role(view.my_role, is_platform_admin(member))
    if not is_platform_admin(member) and not ranks.may_lift(
        actor, role_in(target_id, alliance_id), ban.banned_by_role
    ):
        raise Forbidden()
    db.session.delete(ban)
    commit()
