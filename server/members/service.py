"""Member verbs: profiles, the directory, roles, consent, export and erasure."""

from __future__ import annotations

import secrets
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from server.common import rows
from server.common.pagination import Page, SortKey, keyset_page
from server.common.search import fold, like_contains
from server.common.text import extract_mentions, render_markdown
from server.common.time import utcnow
from server.common.tx import commit
from server.errors import Conflict, DomainError, Forbidden, NotFound, register_messages
from server.extensions import db
from server.members.models import STAFF_ROLES, Member, MemberOccupation, PrivacyConsent

RESERVED_USERNAMES = frozenset(
    {"admin", "administrator", "all", "everyone", "here", "system", "jiayuan", "moderator",
     "organiser", "organizer", "support", "null", "undefined", "deleted"}
)  # fmt: skip

register_messages(
    {
        "username_taken": {
            "zh-Hans": "该用户名已被使用。",
            "zh-Hant": "該使用者名稱已被使用。",
            "en": "That username is taken.",
        },
        "email_taken": {
            "zh-Hans": "该邮箱已注册。",
            "zh-Hant": "該電子郵件已註冊。",
            "en": "That e-mail address is already registered.",
        },
        "member_not_found": {
            "zh-Hans": "找不到该成员。",
            "zh-Hant": "找不到該成員。",
            "en": "No such member.",
        },
        "privacy_policy_outdated": {
            "zh-Hans": "请阅读并同意最新的隐私政策（版本 {current}）。",
            "zh-Hant": "請閱讀並同意最新的隱私權政策（版本 {current}）。",
            "en": "Please read and accept the current privacy policy (version {current}).",
        },
        "cannot_change_own_role": {
            "zh-Hans": "不能修改自己的角色。",
            "zh-Hant": "不能修改自己的角色。",
            "en": "You cannot change your own role.",
        },
    }
)


def name_key(display_name: str, username: str) -> str:
    return f"{fold(display_name)} {username}"


MAX_MENTION_LOOKUPS = 50


def mention_targets(text: str) -> dict[str, int]:
    """The active members ``text`` mentions: lower-case handle → id (handles of nobody, and
    beyond the first 50, are left out)."""
    handles = extract_mentions(text)[:MAX_MENTION_LOOKUPS]
    if not handles:
        return {}
    return dict(
        db.session.execute(
            sa.select(Member.username, Member.id).where(
                Member.username.in_(handles), Member.deleted_at.is_(None)
            )
        ).all()
    )


def render(text: str) -> str:
    """A member's Markdown as sanitised HTML, with mentions of members as links."""
    return render_markdown(text, mention_targets(text))


def check_username_free(username: str, *, exclude_id: int | None = None) -> None:
    if username in RESERVED_USERNAMES or username.startswith("deleted_"):
        raise Conflict("username_taken")
    stmt = sa.select(Member.id).where(Member.username == username)
    if exclude_id is not None:
        stmt = stmt.where(Member.id != exclude_id)
    if db.session.execute(stmt).first() is not None:
        raise Conflict("username_taken")


def generate_username() -> str:
    """A free handle like ``m3f9a2c1``, for members who did not choose one."""
    while True:
        candidate = "m" + secrets.token_hex(4)
        if db.session.execute(sa.select(Member.id).where(Member.username == candidate)).first():
            continue
        return candidate


def check_policy_version(version: str) -> None:
    from flask import current_app

    current = current_app.config["PRIVACY_POLICY_VERSION"]
    if version != current:
        raise DomainError(
            "privacy_policy_outdated", 422, errors={"privacy_policy_version": [current]},
            current=current,
        )  # fmt: skip


def get_visible_member(member_id: int) -> Member:
    """A member as others may see them; deleted members are gone."""
    member = db.session.execute(
        sa.select(Member).where(Member.id == member_id, Member.deleted_at.is_(None))
    ).scalar_one_or_none()
    if member is None:
        raise NotFound("member_not_found")
    return member


def shows_full_profile(member: Member, viewer: Member) -> bool:
    """Hidden profiles show only their card, except to the member and to staff."""
    return (
        member.profile_visibility == "members"
        or member.id == viewer.id
        or viewer.role in STAFF_ROLES
    )


def update_profile(member: Member, changes: dict[str, Any]) -> Member:
    """Apply a partial profile update."""
    if "username" in changes and changes["username"] != member.username:
        check_username_free(changes["username"], exclude_id=member.id)
    tags = changes.pop("occupation_tags", None)
    for field, value in changes.items():
        setattr(member, field, value)
    if tags is not None:
        wanted = sorted(set(tags))
        member.occupations = [MemberOccupation(tag=t) for t in wanted]
        member.occupation_tags = wanted
    if "city" in changes:
        member.city = member.city or None
        member.city_key = fold(member.city) if member.city else None
    member.name_key = name_key(member.display_name, member.username)
    member.updated_at = utcnow()
    try:
        commit()
    except IntegrityError as exc:
        db.session.rollback()
        raise Conflict("username_taken") from exc
    return member


def record_consent(member: Member, version: str) -> Member:
    """The member accepts the current privacy policy."""
    check_policy_version(version)
    member.consents.append(PrivacyConsent(policy_version=version, accepted_at=utcnow()))
    member.privacy_policy_version = version
    commit()
    return member


# Lists read the members table's columns (Core, no ORM entities: server/common/rows.py).
MEMBERS = Member.__table__
# What a card shows (MemberCardSchema), and a directory entry (PublicMemberSchema).
CARD_COLUMNS = ("id", "username", "display_name", "avatar_url", "deleted_at")
_DIRECTORY_COLUMNS = (*CARD_COLUMNS, "bio", "city", "occupation_tags", "role", "created_at")


# Built once (building a select costs more than running it); filters are added per request.
_DIRECTORY = sa.select(*(MEMBERS.c[name] for name in _DIRECTORY_COLUMNS)).where(
    MEMBERS.c.deleted_at.is_(None), MEMBERS.c.profile_visibility == "members"
)


def card_columns(members: sa.FromClause, prefix: str) -> list[sa.Label[Any]]:
    """A member's card in another list's row: the columns of ``members`` (the table or an
    alias of it) that ``MemberCardSchema`` shows, labelled ``<prefix>__<column>``."""
    return rows.prefixed(prefix, *(members.c[name] for name in CARD_COLUMNS))


def list_members(
    member: Member,
    *,
    q: str | None = None,
    city: str | None = None,
    tag: str | None = None,
    limit: int,
    cursor: str | None,
) -> Page[Any]:
    """Members with visible profiles, newest first, filtered by name, city and occupation
    (the same directory for every ``member``)."""
    m, stmt = MEMBERS.c, _DIRECTORY
    if q:
        stmt = stmt.where(like_contains(m.name_key, fold(q)))
    if city:
        stmt = stmt.where(m.city_key == fold(city))
    if tag:
        tags = MemberOccupation.__table__.c
        stmt = stmt.where(sa.exists().where(tags.member_id == m.id, tags.tag == tag))
    keys = [SortKey(m.id)]
    return keyset_page(stmt, keys, name="members.directory", limit=limit, cursor=cursor, rows=True)


def set_member_role(actor: Member, member_id: int, role: str) -> Member:
    """An admin gives a member a global role."""
    if actor.role != "admin":
        raise Forbidden()
    if actor.id == member_id:
        raise Conflict("cannot_change_own_role")
    member = get_visible_member(member_id)
    member.role = role
    commit()
    return member


def export_personal_data(member_id: int) -> dict[str, Any]:
    """The member's profile and consents, for their export (``privacy``)."""
    from server.members.schemas import MeSchema

    member = db.session.get(Member, member_id)
    if member is None:
        return {}
    return {
        "profile": MeSchema().dump(member),
        "privacy_consents": [
            {"policy_version": c.policy_version, "accepted_at": c.accepted_at}
            for c in member.consents
        ],
    }


def erase_personal_data(member_id: int) -> None:
    """Keep the row (authored content points at it) with nothing personal left in it."""
    member = db.session.get(Member, member_id)
    if member is None:
        return
    member.email = f"deleted-{member.id}@deleted.invalid"
    member.username = f"deleted_{member.id}"
    member.password_hash = None
    member.display_name = ""
    member.name_key = ""
    member.avatar_url = None
    member.bio = ""
    member.city = None
    member.city_key = None
    member.phone = None
    member.locale = "zh-Hans"
    member.time_zone = "Asia/Shanghai"
    member.profile_visibility = "hidden"
    member.role = "member"
    member.occupations = []
    member.occupation_tags = []
    member.consents = []
    member.privacy_policy_version = None
    member.deleted_at = utcnow()
    member.updated_at = member.deleted_at
