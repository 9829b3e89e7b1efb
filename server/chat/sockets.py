"""The ``/chat`` Socket.IO namespace: thin handlers over the verbs (``messages``, ``reading``)
and the rooms (``rooms``).

Connect with ``auth={"token": "<access token>"}`` (the Socket.IO docs' convention); a missing,
expired, revoked or invalid token is refused: the client's ``connect_error`` has the message
as ``message`` and the error shape ``{"code", "status", "message"}`` as ``data``.
A connected member is in the room of every conversation they follow (and joins others they may
read with ``join``). Client events: ``send`` (acknowledged with the stored message, or with
``{"error": {…}}``), ``typing``, ``read``, ``join``. Server events: ``message``,
``message_edited``, ``message_deleted``, ``reaction``, ``read``, ``typing``.
"""

from __future__ import annotations

import logging
from typing import Any

from flask import request, session
from flask_socketio import (
    ConnectionRefusedError,
    Namespace,
    disconnect,
    emit,
    join_room,
    leave_room,
)

from server.chat import limits, messages, presence, reading, rooms
from server.chat.access import load
from server.chat.schemas import MessageSendSchema
from server.common.fields import MAX_ID
from server.common.socketwire import INVALID, INVALID_EVENT
from server.errors import DomainError, error_body, is_outage
from server.extensions import db
from server.members.models import Member


def _error(exc: DomainError) -> dict[str, Any]:
    return error_body(exc.code, exc.status, errors=exc.errors, **exc.params)


def _member() -> Member:
    """The socket's member, as long as the session it connected with is live (one query); a
    socket whose session was revoked is closed."""
    from server.auth.tokens import live_session_member

    member = live_session_member(session.get("auth_session"), session.get("member_id"))
    if member is None:
        emit("session_revoked", _error(DomainError("token_revoked", 401)))
        disconnect()
        raise DomainError("token_revoked", 401)
    return member


def _int(data: Any, key: str) -> int:
    value = data.get(key) if isinstance(data, dict) else None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_ID:
        raise DomainError("validation_error", 422, errors={key: ["Not a valid integer."]})
    return value


log = logging.getLogger(__name__)


def _broadcast_presence(
    member_id: int, change: presence.Change, hearing: list[int] | None = None
) -> None:
    """When the member's status changed (online, away, offline), tell their conversations
    (``hearing``, when just read); big ones are not told (their clients poll
    ``GET /chat/presence``), nor members they blocked. Ends the event's transaction first."""
    if change.after == change.before:
        return
    audience = rooms.presence_audience(member_id, hearing)
    db.session.rollback()  # Redis next (the registry, the emits): see _verify
    payload = {"member_id": member_id, "status": change.after}
    skip = audience.skip_sids() or None
    for conversation_id in audience.conversation_ids:
        emit(
            "presence",
            payload,
            to=rooms.room(conversation_id),
            namespace=rooms.NAMESPACE,
            skip_sid=skip,
        )


def _verify(member_id: int, auth_session_id: str, inside: set[int]) -> bool:
    """Once the socket is registered and in the rooms ``inside``: whether its session is still
    live; and the rooms of memberships that ended meanwhile left, of ones that began entered.

    Each read here begins after the socket was registered and entered its rooms (the
    transaction that read them ended: SQLite reads from a snapshot), so what committed before
    it is in it; what commits after it finds the socket registered and in its rooms, and changes
    them (``rooms.sync_rooms``) or closes it (``rooms.sessions_revoked``). A membership that
    began meanwhile is entered, then all is read again. The session is read last, and nothing
    after it waits on the network: a socket's connect handler has not returned yet when it
    ignores a request to close it.

    No Redis is called in a transaction here (nor in the connect's others): SQLite begins a
    socket event's IMMEDIATE (``server.common.tx``), and under gevent another socket's event
    would wait for its lock, holding up the process, while this one waited on Redis."""
    from server.auth.tokens import live_session_member

    while True:
        db.session.rollback()
        following = rooms.followed_rooms(member_id).keys()
        if live_session_member(auth_session_id, member_id) is None:
            return False  # a refused socket leaves all its rooms
        for conversation_id in inside - following:
            leave_room(rooms.room(conversation_id))
        for conversation_id in following - inside:
            join_room(rooms.room(conversation_id))
        if following <= inside:
            return True
        inside = set(following)


def on_error(exc: Exception) -> dict[str, Any] | bool:
    """Any failure of an event handler is an error ack in the one shape, never a dead thread:
    a ``DomainError`` as itself, anything else logged as ``internal_error``; the event's
    unfinished transaction is rolled back."""
    db.session.rollback()
    event = getattr(request, "event", None) or {}
    if is_outage(exc):  # the database or Redis: say so, the client retries
        log.warning("socket %s: service unavailable: %s", event.get("message"), exc)
        exc = DomainError("service_unavailable", 503)
    if event.get("message") == "connect":
        # whatever a connect handler returns but False accepts the socket: refuse it, with the
        # reason in connect_error's data
        if not isinstance(exc, DomainError):
            log.exception("socket connect failed", exc_info=exc)
            exc = DomainError("internal_error", 500)
        error = _error(exc)
        raise ConnectionRefusedError(error["message"], error)
    if isinstance(exc, DomainError):
        return {"error": _error(exc)}
    log.exception("socket event failed", exc_info=exc)
    return {"error": _error(DomainError("internal_error", 500))}


class ChatNamespace(Namespace):
    def trigger_event(self, event: str, *args: Any) -> Any:
        """Every client event gets exactly one payload: a refused one (``INVALID``: too deep,
        lone surrogates, NUL, not JSON), or more than one argument, is answered with an error
        ack (typing is dropped), never given to a handler; none at all is ``None``."""
        if event in ("connect", "disconnect"):
            return super().trigger_event(event, *args)
        sid, payload = args[0], args[1:]
        if len(payload) > 1 or any(arg is INVALID for arg in payload):
            if event == "typing":
                return None
            return super().trigger_event(INVALID_EVENT, sid)
        return super().trigger_event(event, sid, payload[0] if payload else None)

    def on_invalid_payload(self, *_args: Any) -> dict[str, Any]:
        return {"error": _error(DomainError("invalid_json", 400))}

    def on_connect(self, auth: Any = None) -> None:
        """A live access token's socket enters its member's rooms, is registered
        (``presence``), its member announced if they were offline, and its session and rooms are
        read again (``_verify``); any other socket is refused."""
        from server.auth.tokens import member_for_token

        token = auth.get("token") if isinstance(auth, dict) else None
        try:
            member, auth_session_id = member_for_token(token)
        except DomainError as exc:
            # the client's connect_error: message = the text, data = the error shape
            error = _error(exc)
            raise ConnectionRefusedError(error["message"], error) from None
        member_id, sid = member.id, request.sid  # type: ignore[attr-defined]
        session["member_id"] = member_id
        session["auth_session"] = auth_session_id
        join_room(rooms.member_room(member_id))
        join_room(rooms.session_room(auth_session_id))
        following = rooms.followed_rooms(member_id, hearing=True)
        for conversation_id in following:
            join_room(rooms.room(conversation_id))
        db.session.rollback()  # Redis next: see _verify
        change = presence.report(member_id, sid, "active")  # found by changes from now on
        _broadcast_presence(member_id, change, [c for c, hears in following.items() if hears])
        if not _verify(member_id, auth_session_id, set(following)):
            db.session.rollback()
            _broadcast_presence(member_id, presence.gone(member_id, sid))
            error = _error(DomainError("token_revoked", 401))
            raise ConnectionRefusedError(error["message"], error)

    def on_presence(self, data: Any) -> dict[str, Any]:
        """A heartbeat: ``{"status": "active" | "idle"}`` at least every minute."""
        status = data.get("status") if isinstance(data, dict) else None
        if status not in ("active", "idle"):
            return {"error": _error(DomainError("validation_error", 422))}
        try:
            member_id = _member().id
            db.session.rollback()  # Redis next: see _verify
            limits.check("presence", member_id)
        except DomainError as exc:
            return {"error": _error(exc)}
        change = presence.report(member_id, request.sid, status)  # type: ignore[attr-defined]
        _broadcast_presence(member_id, change)
        return {"status": change.after}

    def on_join(self, data: Any) -> dict[str, Any]:
        try:
            member = _member()
            limits.check("join", member.id)  # two loads an event: counted like the others
            access = load(member, _int(data, "conversation_id"))
        except DomainError as exc:
            return {"error": _error(exc)}
        join_room(rooms.room(access.conversation.id))
        db.session.rollback()  # a removal that committed meanwhile did not see this room yet
        try:
            load(member, access.conversation.id)
        except DomainError as exc:
            leave_room(rooms.room(access.conversation.id))
            return {"error": _error(exc)}
        return {"ok": True}

    def on_send(self, data: Any) -> dict[str, Any]:
        try:
            member = _member()
            limits.check("send", member.id)  # one counter with REST sends
            conversation_id = _int(data, "conversation_id")
            body = {k: v for k, v in data.items() if k != "conversation_id"}
            errors = MessageSendSchema().validate(body)
            if errors:
                raise DomainError("validation_error", 422, errors=errors)
            fields = MessageSendSchema().load(body)
            message = messages.send_message(member, conversation_id, fields)
        except DomainError as exc:
            return {"error": _error(exc)}
        return {"message": messages.message_payload(message)}

    def on_typing(self, data: Any) -> None:
        """Dropped silently past its limit and wherever one may not write or has not accepted
        the conversation (``messages.check_may_type``): nobody misses a typing notice."""
        try:
            member = _member()
            if not limits.allow("typing", member.id):
                return
            conversation_id = messages.check_may_type(member, _int(data, "conversation_id"))
        except DomainError:
            return
        emit(
            "typing",
            {"conversation_id": conversation_id, "member_id": member.id},
            to=rooms.room(conversation_id),
            include_self=False,
        )

    def on_read(self, data: Any) -> dict[str, Any]:
        try:
            member = _member()
            limits.check("read", member.id)
            last = reading.mark_read(
                member, _int(data, "conversation_id"), _int(data, "message_id")
            )
        except DomainError as exc:
            return {"error": _error(exc)}
        return {"last_read_id": last}

    def on_disconnect(self, reason: Any = None) -> None:
        del reason  # rooms are left by the server
        member_id = session.get("member_id")
        if member_id:
            sid = request.sid  # type: ignore[attr-defined]
            _broadcast_presence(member_id, presence.gone(member_id, sid))
