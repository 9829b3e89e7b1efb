"""The alliance itself: start one, describe it, and list alliances to discover or one's own.

Joining (at once, by request, by invite) is in ``joining``; leaving, roles, removal and bans in
``membership``; the rule other features use for what belongs to an alliance in ``scope``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import sqlalchemy as sa
from flask import current_app

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


# A list's row (the list rule, server/common/rows.py): AllianceSchema's columns and the caller's
# role and request, in the one select.
ALLIANCES = Alliance.__table__
_LIST_COLUMNS = (
    "id", "name", "description", "avatar_url", "city", "tags", "visibility", "member_count",
    "created_at",
)  # fmt: skip
# Built once, the caller a bound parameter (building a select costs more than running it).
_MINE = AllianceMember.__table__.alias("mine")
_REQUEST = AllianceJoinRequest.__table__.alias("request")
_VIEWER: sa.BindParameter[int] = sa.bindparam("viewer")
_LIST = (
    sa.select(
        *(ALLIANCES.c[name] for name in _LIST_COLUMNS),
        _MINE.c.role.label("my_role"),
        _REQUEST.c.status.label("request_status"),
    )
    .select_from(
        ALLIANCES.outerjoin(
            _MINE, sa.and_(_MINE.c.alliance_id == ALLIANCES.c.id, _MINE.c.member_id == _VIEWER)
        ).outerjoin(
            _REQUEST,
            sa.and_(_REQUEST.c.alliance_id == ALLIANCES.c.id, _REQUEST.c.member_id == _VIEWER),
        )
    )
    .where(ALLIANCES.c.deleted_at.is_(None))
)


def list_alliances(
    member: Member,
    *,
    scope: str = "discover",
    city: str | None = None,
    tag: str | None = None,
    q: str | None = None,
    limit: int,
    cursor: str | None,
) -> Page[Any]:
    """``mine`` (alliances the caller belongs to) or ``discover`` (public and private ones),
    by city, tag or name; newest first, with the caller's role and request, in one query."""
    a, mine, stmt = ALLIANCES.c, _MINE, _LIST
    if scope == "mine":
        stmt = stmt.where(mine.c.member_id.is_not(None))
    else:
        stmt = stmt.where(sa.or_(a.visibility != "secret", mine.c.member_id.is_not(None)))
    if city:
        stmt = stmt.where(a.city_key == fold(city))
    if tag:
        tags = AllianceTag.__table__.c
        stmt = stmt.where(
            sa.exists().where(tags.alliance_id == a.id, tags.tag == tag.strip().lower())
        )
    if q:
        stmt = stmt.where(like_contains(a.name_key, fold(q)))
    # alliances.discover, alliances.mine
    keys = [SortKey(a.id)]
    return keyset_page(
        stmt,
        keys,
        name=f"alliances.{scope}",
        limit=limit,
        cursor=cursor,
        rows=True,
        params={"viewer": member.id},
    )


# --- joining ----------------------------------------------------------------------------------
