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


def _broadcast_presence(member_id: int) -> str:
    """Tell the member's conversations how they are now (online, away, offline); big ones
    are not told (their clients poll ``GET /chat/presence``), nor members they blocked."""
    status = presence.statuses([member_id])[member_id]
    payload = {"member_id": member_id, "status": status}
    audience = rooms.presence_audience(member_id)
    for conversation_id in audience.conversation_ids:
        emit(
            "presence",
            payload,
            to=rooms.room(conversation_id),
            namespace=rooms.NAMESPACE,
            skip_sid=audience.skip_sids or None,
        )
    return status


def _presence(member_id: int, status: str) -> str:
    before = presence.statuses([member_id])[member_id]
    presence.report(member_id, request.sid, status)  # type: ignore[attr-defined]
    after = presence.statuses([member_id])[member_id]
    if after != before:
        _broadcast_presence(member_id)
    return after


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
        from server.auth.tokens import live_session_member, member_for_token

        token = auth.get("token") if isinstance(auth, dict) else None
        try:
            member, auth_session_id = member_for_token(token)
        except DomainError as exc:
            # the client's connect_error: message = the text, data = the error shape
            error = _error(exc)
            raise ConnectionRefusedError(error["message"], error) from None
        session["member_id"] = member.id
        session["auth_session"] = auth_session_id
        join_room(rooms.member_room(member.id))
        join_room(rooms.session_room(auth_session_id))
        # registered (by its presence) before its rooms are read: a membership change or a
        # sign-out from now on finds this socket
        _presence(member.id, "active")
        joined = rooms.conversation_ids_of(member.id)
        for conversation_id in joined:
            join_room(rooms.room(conversation_id))
        # what committed while this ran and did not find the socket yet: read afresh
        member_id = member.id
        db.session.rollback()
        if live_session_member(auth_session_id, member_id) is None:
            presence.gone(member_id, request.sid)  # type: ignore[attr-defined]
            _broadcast_presence(member_id)
            error = _error(DomainError("token_revoked", 401))
            raise ConnectionRefusedError(error["message"], error)
        for conversation_id in set(joined) - set(rooms.conversation_ids_of(member_id)):
            leave_room(rooms.room(conversation_id))

    def on_presence(self, data: Any) -> dict[str, Any]:
        """A heartbeat: ``{"status": "active" | "idle"}`` at least every minute."""
        status = data.get("status") if isinstance(data, dict) else None
        if status not in ("active", "idle"):
            return {"error": _error(DomainError("validation_error", 422))}
        try:
            member = _member()
            limits.check("presence", member.id)
        except DomainError as exc:
            return {"error": _error(exc)}
        return {"status": _presence(member.id, status)}

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
            presence.gone(member_id, request.sid)  # type: ignore[attr-defined]
            _broadcast_presence(member_id)
