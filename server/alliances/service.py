"""The alliance itself: start one, describe it, and list alliances to discover or one's own.

Joining (at once, by request, by invite) is in ``joining``; leaving, roles, removal and bans in
``membership``; the rule other features use for what belongs to an alliance in ``scope``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from server.alliances.access import AllianceView, load, require_manager
from server.alliances.models import Alliance, AllianceJoinRequest, AllianceMember, AllianceTag
from server.common.pagination import Page, SortKey, keyset_page
from server.common.search import fold, like_contains
from server.common.text import clean_tags
from server.common.time import utcnow
from server.common.tx import commit
from server.errors import Forbidden
from server.extensions import db
from server.members.models import ORGANISER_ROLES, Member


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
        _set_tags(alliance, clean_tags(data["tags"]))


def create_alliance(member: Member, data: Mapping[str, Any]) -> AllianceView:
    """Start an alliance (organisers, or any member if ``ALLIANCE_CREATORS=members``)."""
    if current_app.config["ALLIANCE_CREATORS"] != "members" and member.role not in ORGANISER_ROLES:
        raise Forbidden()
    alliance = Alliance(created_by_id=member.id, member_count=1, created_at=utcnow())
    db.session.add(alliance)
    _apply(alliance, {"description": "", **data, "tags": []})
    db.session.flush()
    _set_tags(alliance, clean_tags(data.get("tags", [])))
    db.session.add(AllianceMember(alliance_id=alliance.id, member_id=member.id, role="owner"))
    commit()
    return AllianceView(alliance, "owner")


def get_alliance(member: Member, alliance_id: int) -> AllianceView:
    """One alliance with the caller's role and request (a secret one only for its members)."""
    return load(member, alliance_id)


def update_alliance(member: Member, alliance_id: int, changes: Mapping[str, Any]) -> AllianceView:
    """Change the name, description, avatar, city, tags or visibility (owner and admins)."""
    view = load(member, alliance_id, for_update=True)
    require_manager(member, view)
    _apply(view.alliance, changes)
    commit()
    return view


def list_alliances(
    member: Member,
    *,
    scope: str = "discover",
    city: str | None = None,
    tag: str | None = None,
    q: str | None = None,
    limit: int,
    cursor: str | None,
) -> Page[AllianceView]:
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
    if scope == "mine":
        stmt = stmt.where(mine.member_id.is_not(None))
    else:
        stmt = stmt.where(sa.or_(Alliance.visibility != "secret", mine.member_id.is_not(None)))
    if city:
        stmt = stmt.where(Alliance.city_key == fold(city))
    if tag:
        stmt = stmt.where(
            sa.exists().where(
                AllianceTag.alliance_id == Alliance.id,
                AllianceTag.tag == tag.strip().lower(),
            )
        )
    if q:
        stmt = stmt.where(like_contains(Alliance.name_key, fold(q)))
    page = keyset_page(
        stmt,
        [SortKey(Alliance.id)],
        name=f"alliances.{scope}",  # alliances.discover, alliances.mine
        limit=limit,
        cursor=cursor,
        scalars=False,
        key_of=lambda row: [row[0].id],
    )
    return Page([AllianceView(a, r, s) for a, r, s in page.items], page.next_cursor)


# --- joining ----------------------------------------------------------------------------------
