"""Chat moderation inside an alliance: members report messages, the alliance's owner and
admins delete messages and mute members for some hours; all of it goes to the alliance's chat
audit log (who, what, which message or member, why).

A muted member reads and marks read, and adds nothing to the alliance's channels: no messages,
edits or reactions (``access.check_not_muted``, which every verb that adds content asks).
Muting and lifting follow the alliance's rank rule (``alliances.ranks``): lifting takes
outranking the muted member and at least the rank of whoever muted them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import joinedload

from server.alliances import ranks
from server.alliances import scope as alliances
from server.chat.access import load_message
from server.chat.models import ChatModerationAction, ChatMute
from server.common.pagination import Page, SortKey, keyset_page
from server.common.time import utcnow
from server.common.tx import commit
from server.errors import Conflict, DomainError, Forbidden, NotFound, register_messages
from server.extensions import db
from server.members.models import Member

register_messages(
    {
        "chat_not_muted": {
            "zh-Hans": "该成员没有被禁言。",
            "zh-Hant": "該成員沒有被禁言。",
            "en": "That member is not muted.",
        },
        "chat_mute_member_not_found": {
            "zh-Hans": "该成员不在这个联盟里。",
            "zh-Hant": "該成員不在這個聯盟裡。",
            "en": "That member is not in this alliance.",
        },
        "chat_not_in_alliance": {
            "zh-Hans": "只有联盟内的消息可以举报或禁言。",
            "zh-Hant": "只有聯盟內的訊息可以檢舉或禁言。",
            "en": "Only alliance conversations are moderated here.",
        },
    }
)


def log_action(
    alliance_id: int, moderator_id: int | None, action: str, target_type: str, target_id: int,
    reason: str = "", data: dict[str, Any] | None = None,
) -> None:  # fmt: skip
    """An entry of the alliance's chat audit log (in the caller's transaction)."""
    db.session.add(
        ChatModerationAction(
            alliance_id=alliance_id,
            moderator_id=moderator_id,
            action=action,
            target_type=target_type,
            target_id=target_id,
            reason=reason,
            data=data or {},
            created_at=utcnow(),
        )  # fmt: skip
    )


def report_message(member: Member, message_id: int, reason: str) -> None:
    """Any reader reports a message of an alliance channel to its admins' log."""
    message, access = load_message(member, message_id)
    alliance_id = access.conversation.alliance_id
    if alliance_id is None:
        raise DomainError("chat_not_in_alliance", 422)
    log_action(alliance_id, member.id, "report", "message", message.id, reason,
        {"conversation_id": message.conversation_id, "sender_id": message.sender_id})  # fmt: skip
    commit()


def mute_member(member: Member, alliance_id: int, data: Mapping[str, Any]) -> None:
    """Owner and admins mute a member (not the owner, not admins unless the owner asks)."""
    role = alliances.role_in(member.id, alliance_id)
    if role not in alliances.MANAGERS:
        raise Forbidden()
    target_role = alliances.role_in(data["member_id"], alliance_id)
    if target_role is None:
        raise NotFound("chat_mute_member_not_found")
    if target_role == "owner" or (target_role == "admin" and role != "owner"):
        raise Forbidden()
    until = utcnow() + timedelta(hours=data["hours"])
    db.session.add(
        ChatMute(
            alliance_id=alliance_id,
            member_id=data["member_id"],
            until=until,
            reason=data.get("reason", ""),
            moderator_id=member.id,
            moderator_role=role,
        )  # fmt: skip
    )
    log_action(alliance_id, member.id, "mute", "member", data["member_id"], data.get("reason", ""),
        {"until": until.isoformat()})  # fmt: skip
    commit()


def unmute_member(member: Member, alliance_id: int, target_id: int) -> None:
    """Lift a member's mute: only by someone who outranks them and holds at least the rank
    of whoever muted them (an admin lifts neither the owner's mutes nor their own)."""
    role = alliances.role_in(member.id, alliance_id)
    if role not in alliances.MANAGERS:
        raise Forbidden()
    active = (
        ChatMute.alliance_id == alliance_id,
        ChatMute.member_id == target_id,
        ChatMute.lifted_at.is_(None),
        ChatMute.until > utcnow(),
    )
    imposed_by = list(
        db.session.execute(sa.select(ChatMute.moderator_role).where(*active)).scalars()
    )
    if not imposed_by:
        raise Conflict("chat_not_muted")
    target_role = alliances.role_in(target_id, alliance_id)
    if not all(ranks.may_lift(role, target_role, by) for by in imposed_by):
        raise Forbidden()
    db.session.execute(sa.update(ChatMute).where(*active).values(lifted_at=utcnow()))
    log_action(alliance_id, member.id, "unmute", "member", target_id)
    commit()


def list_log_entries(
    member: Member, alliance_id: int, *, limit: int, cursor: str | None
) -> Page[ChatModerationAction]:
    """The alliance's chat log, newest first (owner and admins)."""
    if not alliances.is_manager(member.id, alliance_id):
        raise Forbidden()
    stmt = (
        sa.select(ChatModerationAction)
        .options(joinedload(ChatModerationAction.moderator))
        .where(ChatModerationAction.alliance_id == alliance_id)
    )
    return keyset_page(
        stmt, [SortKey(ChatModerationAction.id)], name="chat.moderation_log",
        limit=limit, cursor=cursor,
    )  # fmt: skip
