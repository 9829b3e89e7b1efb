"""Helpers of the chat tests: sockets of Flask-SocketIO's test client, the events they heard,
and the direct conversations most tests start from."""

from __future__ import annotations

from typing import Any

from server.extensions import socketio
from tests.caller import Caller


def token_of(auth_headers: Any, member: Any) -> str:
    """A fresh access token of ``member`` (what a client sends in the socket's ``auth``)."""
    return auth_headers(member)["Authorization"].split()[1]


def open_socket(app: Any, auth_headers: Any, member: Any) -> Any:
    """A connected ``/chat`` socket of ``member``, with what it heard on connecting drained."""
    client = socketio.test_client(
        app, namespace="/chat", auth={"token": token_of(auth_headers, member)}
    )
    assert client.is_connected("/chat")
    client.get_received("/chat")
    return client


def events(client: Any, name: str) -> list[Any]:
    """Payloads of the events ``name`` this test client received since it last looked."""
    out = []
    for event in client.get_received("/chat"):
        if event["name"] == name:
            args = event["args"]
            out.append(args[0] if isinstance(args, list) else args)
    return out


def open_direct(chat: Caller, member: Any, others: Any, status: int = 200) -> Any:
    """``member`` opens (or reopens) the direct conversation with ``others``."""
    return chat.call(member, "POST", "/api/v1/chat/direct", status,
                     json={"member_ids": [o.id for o in others]})  # fmt: skip


def send(chat: Caller, member: Any, conversation_id: int, status: int = 201, **body: Any) -> Any:
    """``member`` writes ``body`` (``body="…"``, ``reply_to_id=…``) in the conversation."""
    return chat.call(member, "POST", f"/api/v1/chat/conversations/{conversation_id}/messages",
                     status, json=body)  # fmt: skip
