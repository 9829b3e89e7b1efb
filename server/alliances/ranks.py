"""The rank rule of an alliance, and what rank gives and takes away.

Ranks: owner > admin > member. Site staff (``Member.role == "admin"``) acting on an alliance
they do not manage rank above its owner for what they impose, and may still do whatever they
could before (lift any ban). Whoever acts on a member (removes, bans, mutes, takes out of a
channel) must outrank them, and nobody acts on the owner (``outranks``: the one rank rule);
whoever *lifts* a mute or a ban must also hold at least the rank of the one who imposed it: an
admin cannot lift the owner's mute, nor (not outranking themselves) their own (``may_lift``).

An invite link speaks for the rank of the member who made it: it works only while its maker
is still the alliance's owner or an admin (or site staff). Losing that rank — demotion to
member, leaving, removal, a ban, erasure — revokes their links for good, so a later promotion
brings none of them back; redemption checks the maker's rank again, whatever happened.

Imports only models and ``scope``: the verbs and other features' moderation use it, never the
reverse.
"""

from __future__ import annotations

import sqlalchemy as sa

from server.alliances.models import AllianceInvite, AllianceMember
from server.alliances.scope import MANAGERS
from server.common.time import utcnow
from server.extensions import db
from server.members.models import Member

STAFF = "staff"
RANKS = {"member": 1, "admin": 2, "owner": 3, STAFF: 4}


def rank(role: str | None) -> int:
    """0 for someone with no role in the alliance."""
    return RANKS.get(role or "", 0)


def acting_role(alliance_role: str | None, is_staff: bool) -> str | None:
    """The rank someone acts with: their managing role, else ``staff`` for site staff."""
    if alliance_role in MANAGERS:
        return alliance_role
    return STAFF if is_staff else alliance_role


def outranks(actor_role: str | None, target_role: str | None) -> bool:
    """Acting on a member: the actor's rank is above the target's, and nobody acts on the
    owner (not even site staff: the owner hands the alliance over first)."""
    return target_role != "owner" and rank(actor_role) > rank(target_role)


def may_lift(actor_role: str | None, target_role: str | None, imposed_by_role: str) -> bool:
    """Lifting a mute or a ban: outrank the target, and hold at least the imposer's rank."""
    return outranks(actor_role, target_role) and rank(actor_role) >= rank(imposed_by_role)


def invite_backed() -> sa.ColumnElement[bool]:
    """SQL over ``AllianceInvite``: its maker still manages the alliance, or is site staff."""
    return sa.or_(
        sa.exists().where(
            AllianceMember.alliance_id == AllianceInvite.alliance_id,
            AllianceMember.member_id == AllianceInvite.created_by_id,
            AllianceMember.role.in_(MANAGERS),
        ),
        sa.exists().where(Member.id == AllianceInvite.created_by_id, Member.role == "admin"),
    )


def is_backed(invite: AllianceInvite) -> bool:
    """The invite's maker still manages the alliance, or is site staff."""
    return bool(
        db.session.execute(
            sa.select(invite_backed()).where(AllianceInvite.id == invite.id)
        ).scalar_one()
    )


def revoke_invites_of(alliance_id: int, member_id: int) -> None:
    """The member no longer holds the rank that made their invite links: revoke them."""
    db.session.execute(
        sa.update(AllianceInvite)
        .where(
            AllianceInvite.alliance_id == alliance_id,
            AllianceInvite.created_by_id == member_id,
            AllianceInvite.revoked_at.is_(None),
        )
        .values(revoked_at=utcnow())
    )
