"""Blocks: a member keeps another away from them.

A blocked member can no longer open a direct conversation with the blocker, write in a
one-to-one conversation with them (no message, edit or reaction; typing is dropped), mention
them (no notification, in chat or in the forum), reply to their messages and posts, or see
their presence. No answer names the block: chat refuses with the same code and text as when
the blocker's ``direct_messages_from`` setting filters the member out (and that setting also
applies to writing while the blocker has not accepted the conversation, so there a refusal can
mean either), presence reads ``offline`` as for anyone whose presence is not shown, and a
refused reply says only that replying is not possible. What a member can still infer: in a
conversation the blocker had accepted (written in), writing stops being possible and their
presence stays ``offline`` — as in any messenger, a conversation that stops is itself a sign.

Features ask ``has_blocked``, ``blockers_of``, ``blocked_by`` or the SQL ``blocked`` — never
the table. This module imports only members' models and the shared layers: chat and the forum
import it.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from server.common.pagination import Page, SortKey, keyset_page
from server.common.time import utcnow
from server.common.tx import commit, insert_ignore
from server.errors import DomainError, Forbidden, NotFound, register_messages
from server.extensions import db
from server.members.models import Member, MemberBlock

register_messages(
    {
        "cannot_block_self": {
            "zh-Hans": "不能屏蔽自己。",
            "zh-Hant": "不能封鎖自己。",
            "en": "You cannot block yourself.",
        },
        "reply_not_allowed": {
            "zh-Hans": "无法回复这条内容。",
            "zh-Hant": "無法回覆這則內容。",
            "en": "You cannot reply to this.",
        },
    }
)


def blocked(blocker: Any, blocked_member: Any) -> sa.ColumnElement[bool]:
    """SQL: ``blocker`` (a column or a value) has blocked ``blocked_member`` (likewise)."""
    return (
        sa.exists()
        .where(MemberBlock.member_id == blocker, MemberBlock.blocked_id == blocked_member)
        .correlate_except(MemberBlock)
    )


def has_blocked(blocker_id: int | None, member_id: int) -> bool:
    if blocker_id is None or blocker_id == member_id:
        return False
    return db.session.get(MemberBlock, (blocker_id, member_id)) is not None


def blockers_of(member_id: int, among: Iterable[int]) -> set[int]:
    """Those of ``among`` who have blocked ``member_id``."""
    ids = sorted(set(among) - {member_id})
    if not ids:
        return set()
    return set(
        db.session.execute(
            sa.select(MemberBlock.member_id).where(
                MemberBlock.blocked_id == member_id, MemberBlock.member_id.in_(ids)
            )
        ).scalars()
    )


def blocked_by(member_id: int) -> list[int]:
    """The members ``member_id`` has blocked, in id order (one query)."""
    return list(
        db.session.execute(
            sa.select(MemberBlock.blocked_id)
            .where(MemberBlock.member_id == member_id)
            .order_by(MemberBlock.blocked_id)
        ).scalars()
    )


def check_reply(member: Member, author_id: int | None) -> None:
    """403 when the author of what ``member`` replies to has blocked them."""
    if has_blocked(author_id, member.id):
        raise Forbidden("reply_not_allowed")


def block_member(member: Member, target_id: int) -> None:
    """Block a member (again: nothing changes)."""
    if target_id == member.id:
        raise DomainError("cannot_block_self", 422)
    target = db.session.execute(
        sa.select(Member.id).where(Member.id == target_id, Member.deleted_at.is_(None))
    ).first()
    if target is None:
        raise NotFound("member_not_found")
    values = {"member_id": member.id, "blocked_id": target_id, "created_at": utcnow()}
    if insert_ignore(MemberBlock, values):
        commit()


def unblock_member(member: Member, target_id: int) -> None:
    """Lift one's block (none: nothing changes)."""
    db.session.execute(
        sa.delete(MemberBlock).where(
            MemberBlock.member_id == member.id, MemberBlock.blocked_id == target_id
        )
    )
    commit()


def list_blocks(member: Member, *, limit: int, cursor: str | None) -> Page[MemberBlock]:
    """The members one has blocked, most recently blocked first; one query a page."""
    stmt = (
        sa.select(MemberBlock)
        .options(joinedload(MemberBlock.blocked))
        .where(MemberBlock.member_id == member.id)
    )
    return keyset_page(
        stmt,
        [SortKey(MemberBlock.created_at), SortKey(MemberBlock.blocked_id)],
        name="members.blocks",
        limit=limit,
        cursor=cursor,
    )


def export_personal_data(member_id: int) -> dict[str, Any]:
    """Whom the member blocked, for their export (``privacy``)."""
    rows = db.session.execute(
        sa.select(MemberBlock.blocked_id, MemberBlock.created_at)
        .where(MemberBlock.member_id == member_id)
        .order_by(MemberBlock.created_at, MemberBlock.blocked_id)
    ).all()
    return {"blocked": [{"member_id": m, "blocked_at": t} for m, t in rows]}


def erase_personal_data(member_id: int) -> None:
    """The member's blocks, and others' blocks of them (nothing left to keep away)."""
    db.session.execute(
        sa.delete(MemberBlock).where(
            sa.or_(MemberBlock.member_id == member_id, MemberBlock.blocked_id == member_id)
        )
    )
