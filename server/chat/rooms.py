"""Socket.IO rooms of the ``/chat`` namespace, and what is emitted to them after commit.

Every socket of a member is in the member's room (``member_room``) and its sign-in session's
(``session_room``), and in the room of each conversation the member follows (``room``; the
connect handler puts it there, ``sync_rooms`` keeps it there as memberships change, in every
process). A verb emits to a conversation's room with ``emit_to_conversation`` and to the
member's own devices with ``emit_to_member``: both only once its transaction commits.

Presence goes where it may be seen (``consent``): ``get_presence`` answers REST,
``presence_audience`` says which rooms hear a member's changes and which sockets never do.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from flask import current_app

from server.chat import consent, conversations, presence
from server.chat.access import followed
from server.chat.models import ConversationMember
from server.chat.schemas import ConversationSchema
from server.common.tx import on_commit
from server.errors import message_for
from server.extensions import db, socketio
from server.members.models import Member

NAMESPACE = "/chat"


def room(conversation_id: int) -> str:
    """The room of a conversation: the sockets of its followers (and of readers who ``join``)."""
    return f"conversation:{conversation_id}"


def member_room(member_id: int) -> str:
    """Every socket of a member is in it: events for the member alone."""
    return f"member:{member_id}"


def session_room(auth_session_id: str) -> str:
    """The room of the sockets connected with one sign-in session."""
    return f"session:{auth_session_id}"


def emit_to_conversation(event: str, payload: dict[str, Any], conversation_id: int) -> None:
    """After commit, ``event`` to the conversation's room."""
    on_commit(lambda: socketio.emit(event, payload, to=room(conversation_id), namespace=NAMESPACE))


def emit_to_member(event: str, payload: dict[str, Any], member_id: int) -> None:
    """After commit, ``event`` to the member's own sockets."""
    on_commit(lambda: socketio.emit(event, payload, to=member_room(member_id), namespace=NAMESPACE))


def sync_rooms(
    member_ids: list[int], conversation_ids: list[int], *, announce: list[int] | None = None
) -> None:
    """After commit, put the members' open sockets (in every process) into the rooms of those
    of these conversations they follow now, and take them out of the others, so no reconnect
    is needed either way; tell them (``conversation_added`` / ``conversation_removed``) about
    the ``announce`` ones (default: all). Each run reads the memberships as they are then, so
    two changes whose runs come in the other order still leave the rooms right."""

    def run() -> None:
        following = {
            (m, c)
            for m, c in db.session.execute(
                sa.select(ConversationMember.member_id, ConversationMember.conversation_id).where(
                    ConversationMember.member_id.in_(member_ids),
                    ConversationMember.conversation_id.in_(conversation_ids),
                    followed(),
                )
            )
        }
        server = socketio.server
        for member_id in member_ids:
            sids = presence.sockets_of(member_id)
            added: list[int] = []
            for conversation_id in conversation_ids:
                inside = (member_id, conversation_id) in following
                for sid in sids:
                    if inside:
                        server.enter_room(sid, room(conversation_id), namespace=NAMESPACE)
                    else:
                        server.leave_room(sid, room(conversation_id), namespace=NAMESPACE)
                if announce is None or conversation_id in announce:
                    if inside:
                        added.append(conversation_id)
                    else:
                        socketio.emit(
                            "conversation_removed",
                            {"conversation_id": conversation_id},
                            to=member_room(member_id),
                            namespace=NAMESPACE,
                        )
            if added and sids:  # the conversation as the list shows it, ready to display
                for view in conversations.views_for(member_id, added):
                    socketio.emit(
                        "conversation_added",
                        ConversationSchema().dump(view),
                        to=member_room(member_id),
                        namespace=NAMESPACE,
                    )

    if member_ids and conversation_ids:
        on_commit(run)


def conversation_ids_of(member_id: int) -> list[int]:
    """The conversations whose rooms a socket of the member enters on connecting."""
    return list(
        db.session.execute(
            sa.select(ConversationMember.conversation_id).where(
                ConversationMember.member_id == member_id, followed()
            )
        ).scalars()
    )


def disconnect_member(member_id: int) -> None:
    """After commit, close the member's open sockets in every process (an erased account)."""

    def run() -> None:
        for sid in presence.sockets_of(member_id):
            socketio.server.disconnect(sid, namespace=NAMESPACE)

    on_commit(run)


def sessions_revoked(member_id: int, session_ids: list[str]) -> None:
    """After commit, the sockets of revoked sessions are told why (``session_revoked`` with
    the error shape, code ``token_revoked``: sign in again, do not retry), then the member's
    sockets are closed in every process. A socket's session is not known outside its process,
    so sockets of the member's live sessions close too, untold: they reconnect at once with
    their live tokens, and only those get back in."""

    def tell() -> None:
        payload = {
            "code": "token_revoked",
            "status": 401,
            "message": message_for("token_revoked"),
        }
        for session_id in session_ids:
            socketio.emit(
                "session_revoked", payload, to=session_room(session_id), namespace=NAMESPACE
            )

    on_commit(tell)
    disconnect_member(member_id)


# --- presence ---------------------------------------------------------------------------------


def get_presence(member: Member, member_ids: list[int]) -> list[dict[str, Any]]:
    """Presence of each of ``member_ids``, in the order asked: theirs if they share an alliance
    with ``member`` or a direct conversation they accepted (``consent.presence_visible``), else
    ``offline`` — never left out, which would tell hidden (or blocked) from offline."""
    ids = list(dict.fromkeys(member_ids))
    visible = consent.presence_visible(member.id, ids)
    known = presence.statuses([m for m in ids if m in visible])
    return [{"member_id": m, "status": known.get(m, "offline")} for m in ids]


@dataclass
class PresenceAudience:
    conversation_ids: list[int]  # their rooms hear the member's presence changes
    skip_sids: list[str]  # open sockets (of members the member blocked) that never do


def presence_audience(member_id: int) -> PresenceAudience:
    """Who hears the member's presence changes: their channels and the direct conversations
    they accepted (``consent.hears_presence``), with at most ``CHAT_PRESENCE_PUSH_LIMIT``
    members (larger ones poll ``GET /chat/presence``; a count that stops at the limit, whatever
    a channel's size) — but not the sockets of members they blocked, as REST shows those
    ``offline`` (``consent.presence_hidden_from``: one query, then their sockets)."""
    conversation_ids = _presence_rooms(member_id)
    if not conversation_ids:
        return PresenceAudience([], [])
    skip = [s for m in consent.presence_hidden_from(member_id) for s in presence.sockets_of(m)]
    return PresenceAudience(conversation_ids, skip)


def _presence_rooms(member_id: int) -> list[int]:
    others = sa.orm.aliased(ConversationMember)
    too_big = sa.exists(
        sa.select(others.member_id)
        .where(others.conversation_id == ConversationMember.conversation_id)
        .offset(current_app.config["CHAT_PRESENCE_PUSH_LIMIT"])
        .limit(1)
    )
    return list(
        db.session.execute(
            sa.select(ConversationMember.conversation_id).where(
                ConversationMember.member_id == member_id,
                followed(),
                consent.hears_presence(),
                ~too_big,
            )
        ).scalars()
    )
