"""The AsyncAPI 3.0 document of the ``/chat`` Socket.IO namespace, served as JSON at
``GET /api/v1/asyncapi.json`` beside the OpenAPI document (not an OpenAPI operation itself).

It describes the server, as AsyncAPI does: ``receive`` operations are the events a client
emits, with their acknowledgement as ``reply``; ``send`` operations are the events the server
emits, with who receives them (``x-recipients``). Payloads that are a marshmallow schema's dump
or load (messages, conversations, reactions, presence, a send, the error shape) are converted
from that schema by apispec (JSON Schema as in OpenAPI 3.1, where ``null`` is a type), so the
document follows the schemas as they change; the few payloads the code builds by hand have
their JSON Schema written here, next to their events. ``tests/chat/test_asyncapi.py`` checks
the document against the namespace's handlers, every event name the server package emits,
and real payloads and acknowledgements.
"""

from __future__ import annotations

import copy
import functools
from typing import Any, NamedTuple

import marshmallow as ma
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Blueprint, Response, current_app, jsonify

from server.api import ErrorSchema
from server.chat.schemas import (
    ChatReactionSchema,
    ConversationSchema,
    MessageSchema,
    MessageSendSchema,
    PresenceSchema,
)
from server.common.fields import MAX_ID, Id

VERSION = "3.0.0"
CHANNEL = "chat"
NAMESPACE = "/chat"


class ChatSendSchema(MessageSendSchema):
    """``send``'s payload: a REST send's body (``MessageSendSchema``) and the conversation."""

    conversation_id = Id(required=True)


# Payloads that are a marshmallow schema's dump or load: converted, never copied. The names
# are the OpenAPI document's where it has the same schema.
DERIVED: dict[str, type[ma.Schema]] = {
    "Error": ErrorSchema,
    "Message": MessageSchema,
    "Conversation": ConversationSchema,
    "ChatReaction": ChatReactionSchema,
    "Presence": PresenceSchema,
    "ChatSend": ChatSendSchema,
}


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _object(properties: dict[str, Any], *, closed: bool = True) -> dict[str, Any]:
    """An object with every one of ``properties`` required; ``closed``: and nothing else (a
    client's payload may carry other keys, which are ignored: those are left open)."""
    schema = {"type": "object", "properties": properties, "required": list(properties)}
    return {**schema, "additionalProperties": False} if closed else schema


_ID = {"type": "integer", "minimum": 1, "maximum": MAX_ID}
_READ_ID = {"type": "integer", "minimum": 0, "description": "Read up to this message id"}

# Payloads the code builds by hand (sockets.py, rooms.py, messages.py, reading.py,
# socketbus.py), as it builds them.
HANDWRITTEN: dict[str, dict[str, Any]] = {
    "ConnectAuth": _object(
        {"token": {"type": "string", "description": "An access token (JWT) from sign-in"}},
        closed=False,
    ),
    "Connected": _object({"sid": {"type": "string", "description": "The socket's id"}}),
    "ConnectError": _object({"message": {"type": "string"}, "data": _ref("Error")}),
    "ErrorAck": _object({"error": _ref("Error")}),
    "ChatConversationRef": _object({"conversation_id": _ID}, closed=False),
    "ChatReadUpTo": _object({"conversation_id": _ID, "message_id": _ID}, closed=False),
    "ChatHeartbeat": _object({"status": {"enum": ["active", "idle"]}}, closed=False),
    "ChatSendAck": _object({"message": _ref("Message")}),
    "ChatJoinAck": _object({"ok": {"const": True}}),
    "ChatReadAck": _object({"last_read_id": _READ_ID}),
    "ChatHeartbeatAck": _object({"status": {"enum": ["online", "away", "offline"]}}),
    "ChatTyping": _object({"conversation_id": _ID, "member_id": _ID}),
    "ChatRead": _object({"conversation_id": _ID, "member_id": _ID, "last_read_id": _READ_ID}),
    "ChatMessageDeleted": _object({"id": _ID, "conversation_id": _ID}),
    "ChatConversationRemoved": _object({"conversation_id": _ID}),
    "Resync": _object({"reason": {"const": "events_missed"}}),
}


class ClientEvent(NamedTuple):
    """An event a client emits; ``ack``: its acknowledgement's schema (None: not acked)."""

    payload: str
    ack: str | None
    summary: str
    description: str


class ServerEvent(NamedTuple):
    """An event the server emits, and who receives it (keys of ``RECIPIENTS``)."""

    payload: str
    recipients: tuple[str, ...]
    summary: str
    description: str


RECIPIENTS = {
    "conversation": "the sockets in the conversation's room (its followers' sockets, and "
    "sockets that entered it with `join`)",
    "member": "every socket of the member concerned (all their devices)",
    "session": "the sockets connected with the revoked sign-in session",
    "process": "every socket connected to the server process whose event bus came back",
}

CLIENT_EVENTS = {
    "send": ClientEvent(
        "ChatSend", "ChatSendAck", "Send a message",
        "Post a message to a conversation one follows, as `POST /chat/conversations/{id}/"
        "messages` (sharing its rate limit). The ack is the stored message; a send retried "
        "with the same `client_id` is stored once, and acked with that message. The room "
        "hears it as `message`.",
    ),
    "join": ClientEvent(
        "ChatConversationRef", "ChatJoinAck", "Enter a conversation's room",
        "Hear a conversation one may read without following it (a public channel of one's "
        "alliance) until the socket disconnects or one leaves the alliance. Followed ones need "
        "no `join`: their rooms are entered on connect, or as one comes to follow one "
        "(`conversation_added`).",
    ),
    "typing": ClientEvent(
        "ChatConversationRef", None, "Say one is typing",
        "Not acknowledged. The room hears `typing` (not the typist's own sockets). Dropped "
        "silently past its rate limit, where one may not write, and in a direct conversation "
        "one has not accepted.",
    ),
    "read": ClientEvent(
        "ChatReadUpTo", "ChatReadAck", "Read up to a message",
        "Move one's read marker forward (never back), as `POST /chat/conversations/{id}/read`; "
        "the ack is the marker now. See the `read` server event for who hears it.",
    ),
    "presence": ClientEvent(
        "ChatHeartbeat", "ChatHeartbeatAck", "Heartbeat: active or idle",
        "Say whether this device is `active` or `idle`, at least every minute (a socket not "
        "heard from for 140 s counts for nothing). The ack is the member's status across all "
        "their devices; a change reaches their small conversations as `presence`.",
    ),
}  # fmt: skip

SERVER_EVENTS = {
    "message": ServerEvent(
        "Message", ("conversation",), "A new message",
        "Sent over REST or Socket.IO. The sender's sockets hear it too (`client_id` tells a "
        "device its own echo).",
    ),
    "message_edited": ServerEvent(
        "Message", ("conversation",), "A message was edited", "The message as it is now.",
    ),
    "message_deleted": ServerEvent(
        "ChatMessageDeleted", ("conversation",), "A message was deleted",
        "By its sender or an admin of the channel's alliance: show a tombstone.",
    ),
    "reaction": ServerEvent(
        "ChatReaction", ("conversation",), "A reaction was added or taken back",
        "`on`: true when added, false when taken back.",
    ),
    "read": ServerEvent(
        "ChatRead", ("conversation", "member"), "A member read up to a message",
        "To the room when the conversation has at most `CHAT_RECEIPTS_LIMIT` members and the "
        "reader has accepted it (a channel; a direct one they opened or wrote in): read "
        "receipts. Otherwise to the reader's own sockets only (their other devices update the "
        "unread count).",
    ),
    "typing": ServerEvent(
        "ChatTyping", ("conversation",), "A member is typing",
        "Not to the typist's own sockets. Show it for a few seconds.",
    ),
    "presence": ServerEvent(
        "Presence", ("conversation",), "A member's status changed",
        "`status`: `online`, `away` or `offline`. To the rooms of the member's channels and "
        "accepted direct conversations of at most `CHAT_PRESENCE_PUSH_LIMIT` members, never to "
        "members they blocked; clients of bigger ones poll `GET /chat/presence`.",
    ),
    "conversation_added": ServerEvent(
        "Conversation", ("member",), "One follows a conversation now",
        "The whole conversation as the member sees it, as `GET /chat/conversations/{id}` "
        "shows it: they opened it, were added to it, or joined a channel. Their open sockets "
        "are in its room already.",
    ),
    "conversation_removed": ServerEvent(
        "ChatConversationRemoved", ("member",), "One no longer follows a conversation",
        "They left it, were taken out, or left the channel's alliance: their sockets left its "
        "room. Drop it from the list.",
    ),
    "session_revoked": ServerEvent(
        "Error", ("session",), "This sign-in was revoked: sign in again",
        "Code `token_revoked`: signed out (on this device or everywhere), a new password, a "
        "reused refresh token, or the cap of signed-in devices. The socket is closed next: do "
        "not reconnect with the same tokens. Also sent to a socket that emits an event after "
        "its session was revoked.",
    ),
    "resync": ServerEvent(
        "Resync", ("process",), "Events may have been missed: reload",
        "The server's event bus was down for a while: reload each open conversation's history "
        "after its newest message, the unread counts and presence, as after a reconnect.",
    ),
}  # fmt: skip

_INTRO = """\
Real-time chat: the events of the Socket.IO namespace `/chat`. REST is described by the OpenAPI
document at `/api/v1/openapi.json`; the error shape and codes are the same here.

**Connecting.** Socket.IO protocol v5 (the JavaScript client v3 and later), at the API's own
host and port, path `/socket.io`, over WebSocket or HTTP long-polling, namespace `/chat`, with
an access token in the connect packet: `io("https://host/chat", {auth: {token}})`. A missing,
expired, revoked or invalid token is refused: the client's `connect_error` has the reason as
`err.message` and the error shape as `err.data` (`token_expired`: refresh, then reconnect).

**Events.** A client event carries exactly one argument, a JSON object. An event with a
`reply` is acknowledged once (pass a callback, or use `emitWithAck`); a failure is acked as
`{"error": {"code", "status", "message"}}`. An argument that cannot be read (not JSON, nested
too deep, lone surrogates, NUL characters), or more than one, is acked with `invalid_json`
(400); none at all is a `validation_error` (422).

**Rooms.** A connected socket is in the room of every conversation its member follows, and
rooms follow memberships without a reconnect. `x-recipients` on each server event says who
receives it: """
DESCRIPTION = _INTRO + "; ".join(f"`{k}`: {v}" for k, v in RECIPIENTS.items()) + "."

CONNECTION_MESSAGES = {
    "connect": {
        "name": "connect", "title": "Connect", "summary": "The connect packet's auth",
        "payload": _ref("ConnectAuth"),
    },
    "connect.ok": {
        "title": "Connected", "summary": "Accepted: the client's `connect` event fires",
        "payload": _ref("Connected"),
    },
    "connect.error": {
        "name": "connect_error", "title": "Connection refused",
        "summary": "Refused: the client's `connect_error`, with `err.message` and `err.data`",
        "description": "Codes `authentication_required`, `invalid_token`, `token_expired`, "
        "`token_revoked` (401), `service_unavailable` (503: retry).",
        "payload": _ref("ConnectError"),
    },
    "error.ack": {
        "title": "Error acknowledgement", "summary": "The event failed",
        "description": "The codes of the REST operation the event mirrors, and "
        "`validation_error` (422), `invalid_json` (400), `rate_limited` (429: "
        "retry later), `token_revoked` (401: the socket is closed; sign in again), "
        "`service_unavailable` (503: retry), `internal_error` (500).",
        "payload": _ref("ErrorAck"),
    },
}  # fmt: skip


def _schemas() -> dict[str, Any]:
    spec = APISpec("Jiayuan chat", "v1", "3.1.0", plugins=[MarshmallowPlugin()])
    for name, schema in DERIVED.items():
        spec.components.schema(name, schema=schema)
    derived = spec.to_dict()["components"]["schemas"]
    clash = set(derived) & set(HANDWRITTEN)
    if clash:  # pragma: no cover - a schema named like a hand-written one
        raise RuntimeError(f"AsyncAPI schema names used twice: {sorted(clash)}")
    return {**derived, **HANDWRITTEN}


def _refs(*keys: str) -> list[dict[str, str]]:
    return [{"$ref": f"#/channels/{CHANNEL}/messages/{key}"} for key in keys]


def build_document(api_version: str = "v1") -> dict[str, Any]:
    """The AsyncAPI document, a new dict each call."""
    channel = {"$ref": f"#/channels/{CHANNEL}"}
    messages: dict[str, Any] = {key: dict(m) for key, m in CONNECTION_MESSAGES.items()}
    operations: dict[str, Any] = {
        "connect": {
            "action": "receive",
            "channel": channel,
            "title": "connect",
            "summary": "Connect to /chat with an access token",
            "description": "Not an event: the namespace's Socket.IO connect packet, whose "
            "`auth` carries the token; answered with a connect packet or a refusal.",
            "messages": _refs("connect"),
            "reply": {"channel": channel, "messages": _refs("connect.ok", "connect.error")},
        }
    }
    for name, client in CLIENT_EVENTS.items():
        key = f"client.{name}"
        messages[key] = {
            "name": name,
            "title": name,
            "summary": client.summary,
            "payload": _ref(client.payload),
        }
        operations[key] = {
            "action": "receive",
            "channel": channel,
            "title": name,
            "summary": client.summary,
            "description": client.description,
            "messages": _refs(key),
        }
        if client.ack is not None:
            messages[f"{key}.ack"] = {
                "title": f"Acknowledgement of {name}",
                "summary": f"{name} succeeded",
                "payload": _ref(client.ack),
            }
            operations[key]["reply"] = {
                "channel": channel,
                "messages": _refs(f"{key}.ack", "error.ack"),
            }
    for name, server in SERVER_EVENTS.items():
        key = f"server.{name}"
        who = "; or ".join(RECIPIENTS[r] for r in server.recipients)
        messages[key] = {
            "name": name,
            "title": name,
            "summary": server.summary,
            "payload": _ref(server.payload),
        }
        operations[key] = {
            "action": "send",
            "channel": channel,
            "title": name,
            "summary": server.summary,
            "description": f"{server.description} Received by {who}.",
            "messages": _refs(key),
            "x-recipients": list(server.recipients),
        }
    document = {
        "asyncapi": VERSION,
        "id": "urn:jiayuan:chat",
        "info": {
            "title": "Jiayuan chat events",
            "version": api_version,
            "description": DESCRIPTION,
        },
        "defaultContentType": "application/json",
        "servers": {
            "api": {
                "host": "{host}",
                "pathname": "/socket.io",
                "protocol": "wss",
                "title": "The API's server",
                "description": "Socket.IO v5 (Engine.IO 4) over WebSocket or HTTP long-polling, "
                "at the host that serves the API (`ws` where it is served over plain HTTP, as "
                "in development).",
                "variables": {
                    "host": {
                        "default": "localhost:5000",
                        "description": "The API's host (and port)",
                    }
                },
            }
        },
        "channels": {
            CHANNEL: {
                "address": NAMESPACE,
                "title": "Namespace /chat",
                "description": "Every event of the namespace, both ways, and the acknowledgements.",
                "messages": messages,
                "bindings": {
                    "ws": {
                        "method": "GET",
                        "bindingVersion": "0.1.0",
                        "query": {
                            "type": "object",
                            "properties": {
                                "EIO": {"type": "string", "const": "4"},
                                "transport": {"enum": ["polling", "websocket"]},
                            },
                            "required": ["EIO", "transport"],
                        },
                    }
                },
            }
        },
        "operations": operations,
        "components": {"schemas": _schemas()},
    }
    return copy.deepcopy(document)  # shares nothing with the tables above


@functools.cache
def _cached(api_version: str) -> dict[str, Any]:
    """Built once per process: the schemas do not change while it runs."""
    return build_document(api_version)


blp = Blueprint("asyncapi", __name__, url_prefix="/api/v1")


@blp.get("/asyncapi.json")
def asyncapi_json() -> Response:
    """The document: public like the OpenAPI one, cacheable for five minutes."""
    response = jsonify(_cached(current_app.config["API_VERSION"]))
    response.headers["Cache-Control"] = "public, max-age=300"
    return response
